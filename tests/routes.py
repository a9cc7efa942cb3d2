"""The API's routes, found from the URL resolver and the OpenAPI schema (so new routes are covered)."""

import json
import re
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

WRITE_METHODS = ("post", "put", "patch", "delete")


def api_routes() -> list[dict[str, Any]]:
    """(name, parameter names, methods) for every named REST route under /api/v1/.

    The live-event streams (/api/v1/sse/…) are plain async views that never end
    by themselves; their own tests (docg/executions/tests/test_sse*.py) cover
    their auth and cross-organization 404s over a real server.
    """
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                route = prefix + str(p.pattern)
                if not route.startswith("api/v1/"):
                    continue
                callback = p.callback
                if not hasattr(callback, "cls"):
                    continue  # not DRF: the SSE views
                actions = getattr(callback, "actions", None)
                if actions:
                    methods = sorted(actions)
                else:
                    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
                    methods = sorted(m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m))
                params = sorted(set(p.pattern.regex.groupindex))
                found.append({"name": namespace + p.name, "params": params, "methods": methods, "route": route})

    walk(get_resolver().url_patterns, "", "")
    return found


def tenant_rows() -> dict[str, list[dict]]:
    """Every row of every docg model, to prove a sweep wrote nothing."""
    snapshot = {}
    for model in apps.get_models():
        if model.__module__.startswith("docg."):
            snapshot[model._meta.label] = sorted(
                (json.dumps(row, sort_keys=True, default=str) for row in model.objects.values()),
            )
    return snapshot


def openapi_spec() -> tuple[dict, dict]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["paths"], schema["components"]["schemas"]


def openapi_path(route: str) -> str:
    path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("^", "").replace("$", "")
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    return path.replace("{pk}", "{id}")
