"""Preflight (PRODUCT.md section 5): find what would stop a run before any side effect.

Each issue: code, severity (blocking|warning), domain, node_key, message_human,
details_tech and, where it applies, location. Actions may contribute checks
through their Operation's `preflight` hook (documents, delivery, signatures);
so may the trigger (a HubSpot deal that could not be read), whose named
connection is checked like an action's.
"""

from functools import lru_cache
from typing import Any

from django.utils import timezone, translation

from docg.connectors import registry
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.executions.context import definition_nodes
from docg.executions.errors import human_message, recommended_action
from docg.workflows.expressions import ExpressionError, referenced_paths, render_string
from docg.workflows.graph import expression_errors, parameter_strings

DOMAINS = ("data", "template", "permissions", "delivery", "signature")


class _Anything:
    """Stands in for values only a run produces (earlier steps' outputs): any access works."""

    def __getattr__(self, name: str) -> "_Anything":
        return self

    def __getitem__(self, key: Any) -> "_Anything":
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> "_Anything":
        return self

    def __iter__(self):
        return iter(())

    def __str__(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__


def _resolves(data: Any, path: list[str]) -> bool:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


@lru_cache(maxsize=4096)
def _paths(source: str) -> tuple[str, ...]:
    # Frozen versions bring the same sources back on every run: parse each once per process.
    return tuple(referenced_paths(source))


def _unresolved(node: dict, trigger_data: dict, context: dict) -> list[dict]:
    found = []
    sources = list(parameter_strings(node.get("parameters") or {}))
    sources += [(f"branches[{i}].when", b.get("when", "")) for i, b in enumerate(node.get("branches") or [])]
    for where, source in sources:
        if "{{" not in source and "{%" not in source and not where.endswith(".when"):
            continue
        missing = [
            p for p in _paths(source) if p.startswith("trigger.") and not _resolves(trigger_data, p.split(".")[1:])
        ]
        if not missing:
            continue
        try:  # A default() filter may cover the gap.
            render_string(source if ("{{" in source or "{%" in source) else "{{ " + source + " }}", context)
        except ExpressionError:
            found.append({"name": ", ".join(missing), "names": missing, "parameter": where, "expression": source})
    return found


def _issue(code: str, domain: str, node: dict, language: str, detail: str, tech: Any, **extra) -> dict:
    return {
        "code": code,
        "severity": extra.pop("severity", "blocking"),
        "domain": domain,
        "node_key": node.get("key", ""),
        "message_human": human_message(
            code, language=language, node=node.get("label") or node.get("key", ""), detail=detail
        ),
        "details_tech": tech,
        **extra,
    }


def _expression_issues(node: dict, language: str) -> list[dict]:
    """What save and activation now refuse, checked again: a version frozen before still holds it."""
    with translation.override(language):
        errors = expression_errors(node)
    if not errors:
        return []
    where = [w for _field, w, _message in errors]
    detail = " ".join(message for _field, _where, message in errors)
    tech = {"errors": [{"field": f, "where": w, "message": m} for f, w, m in errors]}
    location = {"node_key": node["key"], "parameters": where}
    return [_issue("expression.invalid", "data", node, language, detail, tech, location=location)]


def _connection_issues(node: dict, connections: dict, language: str) -> list[dict]:
    if not node.get("connection"):
        return []
    connection = connections.get(str(node["connection"]))
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        status = connection.status if connection else "deleted"
        code = "oauth_expired" if status == ConnectionStatus.EXPIRED else "connection.inactive"
        return [_issue(code, "permissions", node, language, status, {"connection": node["connection"]})]
    if connection.expires_at and connection.expires_at < timezone.now():
        tech = {"connection": node["connection"], "expires_at": connection.expires_at.isoformat()}
        return [_issue("oauth_expired", "permissions", node, language, "expired", tech)]
    return []


def _hook_issues(node: dict, organization, trigger_data: dict, language: str, run: dict | None = None) -> list[dict]:
    operation = registry.find_operation(node.get("app", ""), node.get("kind", ""), node.get("operation", ""))
    hook = getattr(operation, "preflight", None)
    if hook is None:
        return []
    # A hook names in `wants` what else it needs to know: `earlier_steps` (the keys of the steps before
    # this one: where a document to sign comes from), `correlation_id` (the run's, for provider calls).
    extra = {name: (run or {}).get(name) for name in getattr(hook, "wants", ())}
    return list(hook(node=node, organization=organization, trigger_data=trigger_data, language=language, **extra))


def _trigger_issues(node: dict, organization, trigger_data: dict, language: str, connections: dict) -> list[dict]:
    """The trigger's own checks (e.g. a HubSpot deal that could not be read) and the connection it names.

    Its parameters hold no expressions, so only these two apply. The trigger's hook speaks first: when it
    already explains a code (why the deal was not read), the generic connection issue would only repeat it.
    """
    issues = _hook_issues(node, organization, trigger_data, language)
    explained = {i["code"] for i in issues}
    issues += [i for i in _connection_issues(node, connections, language) if i["code"] not in explained]
    return issues


def preflight_check(
    *,
    organization,
    nodes: list[dict],
    trigger_data: dict,
    execution_id: Any = None,
    workflow_id: Any = None,
    correlation_id: Any = None,
) -> dict:
    """Check a definition against trigger data; nothing is written or sent (providers may be asked, read-only).

    With no `execution_id` (a check before any run) the recommended actions start a run of `workflow_id`.
    """
    language = organization.language
    context = {
        "trigger": trigger_data,
        "steps": _Anything(),
        "workflow": _Anything(),
        "execution": _Anything(),
        "org": {"id": str(organization.pk), "name": organization.name},
        "datastore": _Anything(),
    }
    connection_ids = [n["connection"] for n in nodes if n.get("connection")]
    connections = {
        str(c.pk): c
        for c in DataSourceConnection.objects.filter(organization=organization, pk__in=connection_ids).defer(
            "credentials"
        )
    }
    issues = _trigger_issues(nodes[0], organization, trigger_data, language, connections) if nodes else []
    # A trigger that says its own data is unusable (the deal could not be read) is the one thing to fix:
    # listing every field the steps miss because of it would only bury that.
    # A hook says so with `trigger_data_unusable` on its issue.
    trigger_blocked = any(i.get("trigger_data_unusable") for i in issues)
    for position, node in enumerate(nodes[1:], start=1):
        issues += _expression_issues(node, language)
        missing = [] if trigger_blocked else _unresolved(node, trigger_data, context)
        if missing:
            names = sorted({n for m in missing for n in m["names"]})
            issues.append(
                _issue(
                    "data.unresolved_variables",
                    "data",
                    node,
                    language,
                    ", ".join(names),
                    {"missing": missing},
                    missing=names,
                    location={"node_key": node["key"], "parameters": [m["parameter"] for m in missing]},
                )
            )
        issues += _connection_issues(node, connections, language)
        run = {"earlier_steps": [n.get("key", "") for n in nodes[:position]], "correlation_id": correlation_id}
        issues += _hook_issues(node, organization, trigger_data, language, run)
    blocking = [i for i in issues if i["severity"] == "blocking"]
    warnings = [i for i in issues if i["severity"] != "blocking"]
    actions, seen = [], set()
    for issue in issues:
        action = recommended_action(
            issue["code"], execution_id=execution_id, node_key=issue["node_key"], workflow_id=workflow_id
        )
        if action and (action["action"], issue["node_key"]) not in seen:
            seen.add((action["action"], issue["node_key"]))
            actions.append(action)
    return {
        "ok": not blocking,
        "blocking": blocking,
        "warnings": warnings,
        "groups": {domain: [i for i in issues if i["domain"] == domain] for domain in DOMAINS},
        "recommended_actions": actions,
    }


def preflight_for_execution(execution) -> dict:
    return preflight_check(
        organization=execution.organization,
        nodes=definition_nodes(execution),
        trigger_data=execution.trigger_data,
        execution_id=execution.pk,
        correlation_id=str(execution.correlation_id),
    )
