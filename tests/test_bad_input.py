"""Bad input gets a 4xx in the error shape, never a 500, and loses nothing."""

import json
import re

import pytest
from django.urls import reverse

from docg.workflows.models import Workflow
from tests import world
from tests.fixtures.cast import api_client_for
from tests.routes import api_routes, openapi_path, openapi_spec, tenant_rows

pytestmark = pytest.mark.django_db

BAD_BODIES = [
    ("malformed", b'{"name": "x", '),
    ("not-an-object", b'["a", "b"]'),
    ("null", b"null"),
    ("scalar", b"42"),
    (
        "wrong-types",
        json.dumps({"name": 5, "nodes": "many", "provider": [], "credentials": "k", "trigger_data": 3}).encode(),
    ),
    ("unknown-fields", json.dumps({"name": "x", "nodes": [], "surprise": True}).encode()),
    ("deep", ("[" * 5000 + "]" * 5000).encode()),
    ("bad-utf8", b'{"name": "\xff\xfe"}'),
    ("nan", b'{"name": NaN, "config": {"a": Infinity}, "trigger_data": {"x": -Infinity}}'),
    ("nul-bytes", json.dumps({"name": "a\u0000b", "nodes": []}).encode()),
    ("lone-surrogate", b'{"name": "a\\ud800b", "nodes": [], "language": "\\udfff"}'),
    ("overflowing-number", b'{"name": "x", "nodes": [], "config": {"a": 1e400}, "trigger_data": {"n": -1e400}}'),
]

# Poison placed in every field of each route's own request schema (nested objects and lists too), so a
# route that checks types field by field still meets it where it would reach the database.
POISONS = {
    "nul": '"a\\u0000b"',
    "lone-surrogate": '"a\\ud800b"',
    "overflow": "1e400",
}


def _assert_error_shape(response, context: str) -> None:
    assert 400 <= response.status_code < 500, f"{context}: {response.status_code} {response.content[:300]!r}"
    if response.status_code == 405:
        return
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, context
    assert error["code"] and error["message"], context


def test_every_route_answers_bad_bodies_with_4xx(cast):
    """Every method that takes a body, on collection and detail routes, with each kind of garbage."""
    world.populate(cast.acme, cast.alice)
    paths, components = openapi_spec()
    client = api_client_for(cast.alice)
    client.raise_request_exception = False
    own = {"workflow": str(Workflow.objects.get(organization=cast.acme).pk)}
    before = tenant_rows()
    checked = 0
    for route in api_routes():
        spec = paths.get(openapi_path(route["route"]), {})
        # Detail routes get an id of the right model, so the body is what gets judged.
        model = route["name"].split("-")[0]
        ids = {p: _own_id(cast.acme, model) or own["workflow"] for p in route["params"]}
        url = reverse(route["name"], kwargs=ids)
        for method in set(route["methods"]) & {"post", "put", "patch"}:
            if "requestBody" not in spec.get(method, {}):
                continue
            for label, raw in BAD_BODIES:
                response = getattr(client, method)(url, raw, content_type="application/json")
                _assert_error_shape(response, f"{method.upper()} {url} [{label}]")
                checked += 1
            schema = _request_schema(spec[method], components)
            for label, poison in POISONS.items():
                for raw in _poisoned_bodies(schema, components, poison):
                    response = getattr(client, method)(url, raw, content_type="application/json")
                    _assert_error_shape(response, f"{method.upper()} {url} [{label}] {raw[:120]!r}")
                    checked += 1
    assert checked >= 50
    assert tenant_rows() == before


def _request_schema(operation: dict, components: dict) -> dict:
    content = operation["requestBody"].get("content", {})
    media = content.get("application/json") or next(iter(content.values()), {})
    return _resolve(media.get("schema", {}), components)


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            return _resolve(schema[combined][0], components)
    return schema


def _sample(schema: dict, components: dict, depth: int = 0):
    """A JSON text valid in shape for `schema`, with "<P>" wherever a poison can go."""
    schema = _resolve(schema, components)
    kind = schema.get("type")
    if depth > 4:
        return '"<P>"'
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {}).items()
        fields = [
            f'"{name}": {_sample(sub, components, depth + 1)}' for name, sub in properties if not sub.get("readOnly")
        ]
        if not fields or schema.get("additionalProperties") not in (None, False):
            fields.append('"key": "<P>"')
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        return "[" + _sample(schema.get("items", {}), components, depth + 1) + "]"
    return '"<P>"' if kind in (None, "string") else "<P>"


def _poisoned_bodies(schema: dict, components: dict, poison: str) -> list[bytes]:
    """One body per place in the sample: the poison (a JSON literal) there, plain values everywhere else."""
    places = re.split(r'("<P>"|<P>)', _sample(schema, components))
    bodies = []
    for target in range(1, len(places), 2):
        text = "".join(
            poison if index == target else ('"x"' if part == '"<P>"' else "1") if index % 2 else part
            for index, part in enumerate(places)
        )
        bodies.append(text.encode())
    return bodies[:40]


def _own_id(organization, basename: str) -> str | None:
    from django.apps import apps

    if basename == "organization":
        return str(organization.pk)
    for model in apps.get_models():
        if model._meta.model_name in (basename, f"datasource{basename}", f"generated{basename}"):
            row = model.objects.filter(organization=organization).values_list("pk", flat=True).first()
            return str(row) if row else None
    return None


def test_json_body_over_one_megabyte_is_413_with_content_length(alice_api):
    body = json.dumps({"name": "x" * (1024 * 1024 + 10), "nodes": []})
    response = alice_api.post("/api/v1/workflows", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Workflow.objects.exists()


def test_json_body_over_one_megabyte_is_413_when_length_is_not_declared(alice_api, cast):
    # A chunked upload carries no Content-Length; the parser counts while reading.
    from io import BytesIO

    from django.test import RequestFactory
    from rest_framework.request import Request

    from docg.common.api.parsers import LimitedJSONParser
    from docg.common.errors import DocgError

    raw = json.dumps({"name": "x" * (1024 * 1024 + 10)}).encode()
    request = RequestFactory().post("/api/v1/workflows", data=raw, content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    with pytest.raises(DocgError) as caught:
        LimitedJSONParser().parse(BytesIO(raw), "application/json", {"request": Request(request)})
    assert caught.value.status_code == 413


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000Z", "%00"])
def test_invalid_uuids_in_paths_are_404(alice_api, bad_id):
    response = alice_api.get(f"/api/v1/workflows/{bad_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_api_path_is_json_404(alice_api):
    response = alice_api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_types_name_the_fields(alice_api):
    response = alice_api.post("/api/v1/workflows", {"name": ["x"], "nodes": [{"key": 5}]}, format="json")
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert "name" in details
    assert "nodes" in details


def test_unknown_fields_are_refused_not_dropped(alice_api):
    response = alice_api.post("/api/v1/workflows", {"name": "x", "nodes": [], "owner": "me"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"owner": ["Unknown field."]}


@pytest.mark.parametrize(
    "cursor", ["garbage", "\u0662\u0660\u0662\u0666", "1" * 400, "cD0yMDI2LTAxLTAxVDAwOjAwOjAwLTIyOjIz"]
)
def test_invalid_cursor_is_400_in_error_shape(alice_api, cursor):
    response = alice_api.get("/api/v1/workflows", {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "cursor.invalid"


BAD_MOMENTS = [
    "2026-01-01T00:00:00-22:23",  # offset beyond ±14:00 (PostgreSQL refuses past ±15:59)
    "2026-01-01T00:00:00+14:01",
    "0000-01-01T00:00:00",
    "0001-01-01T00:00:00+01:00",  # before the first representable instant once in UTC
    "10000-01-01T00:00:00",
    "1" * 400,
    "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661T00:00:00",  # Arabic-Indic digits
    "2026-01-01T\u0660\u0660:00",
]


@pytest.mark.parametrize("moment", BAD_MOMENTS)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_every_date_filter_answers_400_for_any_string(alice_api, cast, name, moment):
    from docg.workflows.services import workflow_create
    from docg.workflows.tests.factories import linear_nodes

    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Dates", nodes=linear_nodes())
    for path in ("/api/v1/executions", f"/api/v1/workflows/{workflow.pk}/runs"):
        response = alice_api.get(path, {name: moment})
        assert response.status_code == 400, (path, response.content)
        _assert_error_shape(response, f"{path}?{name}={moment[:20]}")
        assert name in response.json()["error"]["details"]


def test_a_real_offset_still_filters(alice_api):
    response = alice_api.get("/api/v1/executions", {"created_after": "2026-01-01T00:00:00+14:00"})
    assert response.status_code == 200, response.content


def test_limit_is_capped_at_100(alice_api, cast):
    from docg.workflows.services import workflow_create
    from docg.workflows.tests.factories import linear_nodes

    for i in range(105):
        workflow_create(organization=cast.acme, by=cast.alice, name=f"wf {i}", nodes=linear_nodes())
    page = alice_api.get("/api/v1/workflows?limit=1000").json()
    assert len(page["results"]) == 100


# --- inbound webhooks and dashboard forms: the same shapes, where no API parser stands in front ---

UNSTORABLE_WEBHOOK_BODIES = [
    ("json-nul", "application/json", b'{"customer": "a\\u0000b"}'),
    ("json-nul-key", "application/json", b'{"a\\u0000b": 1}'),
    ("json-lone-surrogate", "application/json", b'{"customer": {"name": "\\ud800"}}'),
    ("json-overflow", "application/json", b'{"amount": 1e400}'),
    ("form-nul", "application/x-www-form-urlencoded", b"customer=a%00b"),
]


def _hook_urls(organization, workflow) -> list[str]:
    """Every route under /hooks/, with this organization's ids (found from the resolver: new ones are covered)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from docg.connectors.models import DataSourceConnection

    connection = DataSourceConnection.objects.filter(organization=organization).first()
    values = {"workflow_id": workflow.pk, "secret": workflow.webhook_secret, "connection_id": connection.pk,
              "token": "t"}  # fmt: skip
    urls = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("hooks/"):
                urls.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route))

    walk(get_resolver().url_patterns, "")
    return urls


def test_every_inbound_webhook_answers_unstorable_bodies_with_4xx(cast, client, settings):
    """A provider that gets a 5xx retries the same poison forever: content is always a 4xx."""
    from docg.executions.models import WorkflowExecution

    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"

    world.populate(cast.acme, cast.alice)
    workflow = Workflow.objects.get(organization=cast.acme)
    client.raise_request_exception = False
    urls = _hook_urls(cast.acme, workflow)
    assert len(urls) >= 5, urls
    before = WorkflowExecution.objects.count()
    for url in urls:
        for label, content_type, raw in UNSTORABLE_WEBHOOK_BODIES:
            response = client.post(url, raw, content_type=content_type)
            assert 400 <= response.status_code < 500, (
                f"{url} [{label}]: {response.status_code} {response.content[:300]!r}"
            )
    assert WorkflowExecution.objects.count() == before


def test_generic_webhook_names_the_field_it_cannot_store(cast, client):
    world.populate(cast.acme, cast.alice)
    workflow = Workflow.objects.get(organization=cast.acme)
    response = client.post(
        f"/hooks/{workflow.pk}/{workflow.webhook_secret}", b'{"deal": {"title": "a\\u0000b"}}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "webhook.bad_body"
    assert "deal.title" in error["message"]


def _dashboard_post_routes(organization) -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    from docg.executions.models import WorkflowApproval, WorkflowExecution

    ids = {
        "workflow": Workflow.objects.get(organization=organization).pk,
        "execution": WorkflowExecution.objects.filter(organization=organization).first().pk,
        "approval": WorkflowApproval.objects.filter(organization=organization).first().pk,
        "connection": _own_id(organization, "connection"),
        "template": _own_id(organization, "template"),
        "document": _own_id(organization, "document"),
    }
    urls = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and getattr(p.callback, "__module__", "").startswith("docg.dashboard"):
                own = str(ids.get(route.split("/")[0].rstrip("s"), "smtp"))
                urls.append(
                    "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, own=own: own if m.group(1) == "pk" else "smtp", route)
                )

    walk(get_resolver().url_patterns, "")
    return urls


def test_every_dashboard_form_refuses_unstorable_text(cast, client):
    """NUL in any field of any dashboard form is a 400 page naming the field, never a DataError 500."""
    world.populate(cast.acme, cast.alice)
    client.force_login(cast.alice)
    client.raise_request_exception = False
    urls = _dashboard_post_routes(cast.acme)
    assert len(urls) >= 20
    before = tenant_rows()
    refused = 0
    for url in urls:
        for field in ("reason", "comment", "trigger_data", "name"):
            response = client.post(url, {field: "a\x00b", "decision": "approve"})
            assert response.status_code < 500, f"POST {url} [{field}]: {response.status_code}"
            if response.status_code == 400:
                assert field in response.content.decode()
                refused += 1
    assert refused >= 40
    assert tenant_rows() == before


@pytest.mark.parametrize(
    "text", ['{"customer": "\\ud800"}', '{"customer": "a\\u0000b"}', '{"amount": 1e400}', '{"a": {"\\udfff": 1}}']
)
def test_dashboard_json_boxes_refuse_unstorable_values_with_a_message(cast, client, text):
    from docg.executions.models import WorkflowExecution

    world.populate(cast.acme, cast.alice)
    client.force_login(cast.alice)
    workflow = Workflow.objects.get(organization=cast.acme)
    before = WorkflowExecution.objects.count()
    response = client.post(f"/workflows/{workflow.pk}/run/", {"trigger_data": text})
    assert response.status_code in (200, 400), response.status_code
    assert "cannot be saved" in response.content.decode()
    assert WorkflowExecution.objects.count() == before
    editor = client.post(f"/workflows/{workflow.pk}/", text, content_type="application/json",
                         HTTP_ACCEPT="application/json")  # fmt: skip
    assert editor.status_code == 400, editor.content
    assert "cannot be saved" in editor.json()["message"]


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("/api/v1/workflows",
         b'{"name": "x", "nodes": [{"key": "s", "parameters": {"to": "\\ud800"}}]}', "nodes[0].parameters.to"),
        ("/api/v1/connections", b'{"provider": "smtp", "name": "m", "config": {"port": 1e400}}', "config.port"),
        ("/api/v1/connections", b'{"provider": "smtp", "name": "m\\u0000"}', "name"),
    ],
)  # fmt: skip
def test_unstorable_json_is_400_naming_the_field(alice_api, path, raw, field):
    response = alice_api.post(path, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_json_value"
    assert field in error["details"], error


def test_every_route_answers_options_without_a_server_error(cast):
    """OPTIONS on the stream-token route was a 500 (AssertionError: no serializer_class)."""
    world.populate(cast.acme, cast.alice)
    client = api_client_for(cast.alice)
    client.raise_request_exception = False
    own = str(Workflow.objects.get(organization=cast.acme).pk)
    checked = 0
    for route in api_routes():
        model = route["name"].split("-")[0]
        url = reverse(route["name"], kwargs={p: _own_id(cast.acme, model) or own for p in route["params"]})
        response = client.options(url)
        assert response.status_code < 500, f"OPTIONS {url}: {response.status_code} {response.content[:200]!r}"
        checked += 1
    assert checked >= 30
    execution = _own_id(cast.acme, "workflowexecution")
    assert client.options(f"/api/v1/executions/{execution}/stream-token").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/hooks/00000000-0000-0000-0000-000000000000/secret",
        "/hooks/zapsign/00000000-0000-0000-0000-000000000000/token",
        "/hooks/clicksign/00000000-0000-0000-0000-000000000000",
        "/hooks/hubspot/",
        "/hooks/stripe/",
    ],
)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_hooks_answer_other_methods_with_405_in_the_error_shape(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405, (path, response.status_code)
    assert response["Allow"] == "POST"
    error = response.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert "POST" in error["message"]
