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
