"""Every API route, called by Acme's owner with Globex's ids, answers 404/400 and writes nothing.

Each sweep runs twice: with Acme's owner's JWT, and with an owner-role API key of Acme (whose
organization comes from the key, without X-Organization-ID).

The routes come from the URL resolver and their bodies from the OpenAPI schema,
so routes added later are covered without editing this file.
"""

import json
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from docg.orgs.api_keys import api_key_create
from docg.orgs.members import invitation_create
from docg.orgs.models import Membership
from tests import world
from tests.fixtures.cast import api_client_for
from tests.routes import WRITE_METHODS, api_routes, openapi_path, openapi_spec, tenant_rows

pytestmark = pytest.mark.django_db


def foreign_ids(organization) -> list[str]:
    ids = {str(organization.pk)}
    for model in apps.get_models():
        if any(f.name == "organization" for f in model._meta.get_fields()):
            ids.update(str(pk) for pk in model.objects.filter(organization=organization).values_list("pk", flat=True))
    return sorted(ids)


def sample(schema: dict, components: dict, foreign: str, depth: int = 0) -> Any:
    """A request value shaped by the schema, with a foreign id wherever an id goes."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema:
        return sample(schema["allOf"][0], components, foreign, depth)
    if "oneOf" in schema:
        return sample(schema["oneOf"][0], components, foreign, depth)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if schema.get("format") == "uuid":
        return foreign
    if kind == "object" or "properties" in schema:
        return {
            name: sample(prop, components, foreign, depth + 1)
            for name, prop in schema.get("properties", {}).items()
            if not prop.get("readOnly")
        }
    if kind == "array":
        return [sample(schema.get("items", {}), components, foreign, depth + 1)] if depth < 4 else []
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "x")


def has_uuid(schema: dict, components: dict, depth: int = 0) -> bool:
    if depth > 6:
        return False
    if "$ref" in schema:
        return has_uuid(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    if schema.get("format") == "uuid" and not schema.get("readOnly"):
        return True
    children = [*schema.get("properties", {}).values(), schema.get("items", {})]
    children += schema.get("allOf", []) + schema.get("oneOf", [])
    return any(has_uuid(c, components, depth + 1) for c in children if c)


@pytest.fixture
def globex_world(cast):
    world.populate(cast.globex, cast.charlie)
    charlie = Membership.objects.get(organization=cast.globex, user=cast.charlie)
    invitation_create(organization=cast.globex, by=charlie, email="gil@example.com", role="member")
    api_key_create(organization=cast.globex, by=charlie, name="Globex sync", role="owner")
    return foreign_ids(cast.globex)


@pytest.fixture(params=["jwt", "api_key"])
def acme_client(request, cast):
    """Acme's owner as a person (JWT) or as an integration (an owner-role API key of Acme)."""
    if request.param == "jwt":
        return api_client_for(cast.alice)
    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    _api_key, key = api_key_create(organization=cast.acme, by=owner, name="Acme sync", role="owner")
    client = api_client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    # The first use records last_used_at; done here so the sweeps' "wrote nothing" compares after it.
    assert client.get(reverse("organization-list")).status_code == 200
    return client


@pytest.fixture
def openapi():
    return openapi_spec()


def test_routes_are_discovered():
    names = {r["name"] for r in api_routes()}
    assert {"workflow-list", "workflow-detail", "workflow-activate", "connection-detail", "template-list"} <= names


def test_foreign_ids_in_paths_are_404_and_write_nothing(cast, globex_world, acme_client):
    client = acme_client
    before = tenant_rows()
    checked = 0
    for route in api_routes():
        if not route["params"]:
            continue
        for foreign in globex_world:
            url = reverse(route["name"], kwargs=dict.fromkeys(route["params"], foreign))
            for method in route["methods"]:
                response = getattr(client, method)(url, {"name": "taken", "id": foreign}, format="json")
                assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"
                if method != "head":
                    assert response.json()["error"]["code"] in ("not_found", "organization_not_found")
                checked += 1
    assert checked > 100
    assert tenant_rows() == before


def test_foreign_ids_in_query_strings_leak_nothing(cast, globex_world, openapi, acme_client):
    paths, _ = openapi
    client = acme_client
    world.populate(cast.acme, cast.alice)
    for route in api_routes():
        if route["params"] or "get" not in route["methods"]:
            continue
        spec = paths.get(openapi_path(route["route"]), {}).get("get", {})
        names = {p["name"] for p in spec.get("parameters", []) if p.get("in") == "query"}
        names |= {"organization", "organization_id", "workflow", "execution", "template", "connection"}
        for foreign in globex_world:
            query = dict.fromkeys(names - {"cursor", "limit"}, foreign)
            response = client.get(reverse(route["name"]), query)
            assert response.status_code in (200, 400), f"GET {route['route']} answered {response.status_code}"
            # The id we sent may be echoed (an error message, the next-page link); any other Globex id is a leak.
            body = response.content.decode()
            leaked = [fid for fid in globex_world if fid in body and fid != foreign]
            assert not leaked, f"GET {route['route']} with {query} showed Globex ids {leaked}"
            payload = response.json() if response.status_code == 200 else {}
            results = payload.get("results", []) if isinstance(payload, dict) else payload
            assert all(r.get("id") != foreign for r in results if isinstance(r, dict))


def test_foreign_ids_in_bodies_are_400_and_write_nothing(cast, globex_world, openapi, acme_client):
    paths, components = openapi
    client = acme_client
    before = tenant_rows()
    checked = 0
    for route in api_routes():
        if route["params"]:
            continue
        spec = paths.get(openapi_path(route["route"]), {})
        for method in set(route["methods"]) & set(WRITE_METHODS):
            content = spec.get(method, {}).get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if not schema or not has_uuid(schema, components):
                continue
            for foreign in globex_world:
                body = sample(schema, components, foreign)
                response = getattr(client, method)(reverse(route["name"]), body, format="json")
                assert response.status_code in (400, 404), (
                    f"{method.upper()} {route['route']} with {body} answered {response.status_code}"
                )
                # Refused *because of* the foreign id, not for some other reason.
                assert foreign in json.dumps(response.json()["error"]["details"]), response.json()
                checked += 1
    assert checked >= len(globex_world)
    assert tenant_rows() == before
