"""Bad input gets a 4xx in the error shape, never a 500, and loses nothing."""

import json

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
]


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
    paths, _ = openapi_spec()
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
    assert checked >= 50
    assert tenant_rows() == before


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
