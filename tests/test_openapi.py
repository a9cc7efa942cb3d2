import re

import pytest

from tests.routes import api_routes, openapi_path, openapi_spec

pytestmark = pytest.mark.django_db


def test_schema_and_swagger_ui_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    # The UI's assets come from our own static files (drf-spectacular-sidecar), not a CDN: no script or
    # stylesheet from another host. (Not `"cdn" not in page`: the page's random CSRF token can spell it.)
    assert re.findall(r"""(?:src|href)=["'](?:https?:)?//""", page) == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


def test_every_api_route_is_in_the_schema():
    paths, _ = openapi_spec()
    missing = [r["route"] for r in api_routes() if openapi_path(r["route"]) not in paths]
    assert missing == []


def test_every_operation_has_a_summary_and_a_description_for_api_clients():
    paths, _ = openapi_spec()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
        and not (operation.get("summary") and operation.get("description"))
    ]
    assert missing == []
    # Written for clients, not the developers' docstrings (tenant scoping, internals).
    organizations = paths["/api/v1/organizations"]["get"]["description"]
    assert "X-Organization-ID" in organizations and "Scoped by membership" not in organizations


def test_the_event_streams_and_the_webhook_are_documented_with_the_event_schema():
    paths, components = openapi_spec()
    run_stream = paths["/api/v1/sse/executions/{id}/stream"]["get"]
    assert {p["name"] for p in run_stream["parameters"]} >= {"id", "Last-Event-ID", "last_event_id", "token"}
    assert "Authorization: Bearer" in run_stream["description"] and "stream token" in run_stream["description"]
    content = run_stream["responses"]["200"]["content"]["text/event-stream"]
    assert content["schema"] == {"$ref": "#/components/schemas/ExecutionEventV1"}
    assert "/api/v1/sse/stream" in paths
    event = components["ExecutionEventV1"]
    assert {"schema_version", "event_type", "execution_id", "data"} <= set(event["properties"])
    hook = paths["/hooks/{workflow_id}/{secret}"]["post"]
    assert hook["security"] == [] and "202" in hook["responses"]


def test_template_locations_are_said_to_count_from_one():
    paths, _ = openapi_spec()
    assert "counted from 1" in paths["/api/v1/templates/{id}/variables"]["get"]["description"]
