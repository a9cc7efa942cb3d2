"""Preflight asks Microsoft Graph whether a Word/PowerPoint step can write to its OneDrive/SharePoint folder."""

import pytest

from docg.connectors.models import DataSourceConnection
from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import TRIGGER
from docg.providers.microsoft.tests.helpers import TRIGGER as TRIGGER_DATA
from docg.providers.microsoft.tests.helpers import fill_node, microsoft_connection, template

pytestmark = pytest.mark.django_db


def _check(cast, node, correlation_id=None):
    nodes = [TRIGGER, {**node, "connection": str(node["connection"].pk)}]
    return preflight_check(
        organization=cast.acme, nodes=nodes, trigger_data=TRIGGER_DATA, correlation_id=correlation_id
    )


def _codes(report) -> list[tuple[str, str]]:
    return [(i["domain"], i["code"]) for d in report["groups"].values() for i in d]


def _gets(graph_api) -> list[tuple[str, str]]:
    return [(m, p) for m, p in graph_api.api_calls() if m == "GET"]


def test_the_onedrive_and_a_folder_to_be_created_pass_and_are_cached(cast, graph_api):
    node = fill_node(microsoft_connection(cast), template(cast))
    report = _check(cast, node, correlation_id="5b0f0d4e-8f7e-4a8e-9d55-1d1f6a1c9e2a")
    assert report["ok"], report["blocking"]
    assert _gets(graph_api) == [("GET", "/v1.0/me/drive"), ("GET", "/v1.0/me/drive/root:/docg")]
    assert {r.headers["x-correlation-id"] for r in graph_api.requests} == {"5b0f0d4e-8f7e-4a8e-9d55-1d1f6a1c9e2a"}
    assert graph_api.requests[0].query == {"$select": "id,driveType"}
    for _ in range(3):
        assert _check(cast, node)["ok"]
    assert len(graph_api.requests) == 2  # the minute's cache answered


def test_a_sharepoint_library_that_does_not_exist_is_named(cast, graph_api):
    node = fill_node(microsoft_connection(cast), template(cast), drive_id="b!gone", folder="Contracts")
    report = _check(cast, node)
    assert _codes(report) == [("delivery", "delivery.folder_missing")]
    assert report["blocking"][0]["location"] == {"parameters": ["drive_id"]}
    assert report["recommended_actions"][0]["action"] == "edit_step"

    graph_api.drives.add("b!contracts")
    graph_api.folders.add("Contracts")
    node = fill_node(microsoft_connection(cast), template(cast), drive_id="b!contracts", folder="Contracts")
    assert _check(cast, node)["ok"]
    assert ("GET", "/v1.0/drives/b!contracts/root:/Contracts") in _gets(graph_api)


def test_graph_refusing_403_or_401(cast, graph_api):
    graph_api.fail_next(403, path="/v1.0/me/drive/root:")
    report = _check(cast, fill_node(microsoft_connection(cast), template(cast), folder="Legal/Signed"))
    assert _codes(report) == [("permissions", "permissions.folder_not_writable")]
    assert "Legal/Signed" in report["blocking"][0]["message_human"]
    assert report["recommended_actions"][0]["action"] == "edit_step"

    graph_api.fail_next(401, path="/v1.0/me/drive")
    report = _check(cast, fill_node(microsoft_connection(cast), template(cast)))
    assert _codes(report) == [("permissions", "oauth_expired")]
    assert report["recommended_actions"][0]["action"] == "reconnect_provider"


def test_a_graph_hiccup_only_warns(cast, graph_api):
    graph_api.fail_next(503, path="/v1.0/me/drive")
    node = fill_node(microsoft_connection(cast), template(cast))
    report = _check(cast, node)
    assert report["ok"] and [w["code"] for w in report["warnings"]] == ["permissions.unchecked"]
    assert _check(cast, node)["warnings"] == []  # not cached: asked again, answered


def test_scopes_without_files_readwrite_are_blocked_before_asking_graph(cast, graph_api):
    connection = microsoft_connection(cast)
    DataSourceConnection.objects.filter(pk=connection.pk).update(scopes=["openid", "Mail.Send", "User.Read"])
    connection.refresh_from_db()
    report = _check(cast, fill_node(connection, template(cast)))
    assert _codes(report) == [("permissions", "permissions.scope_missing")]
    assert graph_api.requests == []
    DataSourceConnection.objects.filter(pk=connection.pk).update(
        scopes=["https://graph.microsoft.com/Files.ReadWrite.All", "Mail.Send"]
    )
    assert _check(cast, fill_node(connection, template(cast)))["ok"]
