"""Preflight asks Google Drive whether a Google step can copy its template and write to its folder."""

import pytest

from docg.connectors.models import DataSourceConnection
from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import TRIGGER, action
from docg.providers.google.tests.fake import DOC_MIME, ERRORS, not_found
from docg.providers.google.tests.helpers import DOC_TEMPLATE, FOLDER, add_templates, google_connection

pytestmark = pytest.mark.django_db


def _fill(connection, **parameters):
    parameters = {"template_file_id": DOC_TEMPLATE, "folder_id": FOLDER, **parameters}
    return action("fill", "fill_document", app="google_docs", connection=str(connection.pk), parameters=parameters)


def _check(cast, *nodes):
    return preflight_check(organization=cast.acme, nodes=[TRIGGER, *nodes], trigger_data={})


def _codes(report) -> list[tuple[str, str]]:
    return [(i["domain"], i["code"]) for d in report["groups"].values() for i in d]


def _gets(google_api) -> list:
    return [r for r in google_api.requests if r.method == "GET" and r.path.startswith("/drive/v3/files/")]


def test_a_shared_template_and_writable_folder_pass_and_the_answers_are_cached(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    report = _check(cast, _fill(connection))
    assert report["ok"], report["blocking"]
    gets = _gets(google_api)
    assert {r.path for r in gets} == {f"/drive/v3/files/{DOC_TEMPLATE}", f"/drive/v3/files/{FOLDER}"}
    for call in gets:
        assert call.query["fields"].endswith("capabilities(canCopy,canDownload,canEdit,canAddChildren)")
        assert call.query["supportsAllDrives"] == "true" and call.headers["x-correlation-id"]
    # A burst of runs: the next preflights within a minute ask Drive nothing.
    for _ in range(3):
        assert _check(cast, _fill(connection))["ok"]
    assert len(_gets(google_api)) == 2
    assert google_api.violations == []


def test_a_missing_template_or_folder_is_named_with_an_action_that_fixes_it(cast, google_api):
    connection = google_connection(cast)
    report = _check(cast, _fill(connection))
    assert ("permissions", "permissions.file_not_found") in _codes(report)
    assert ("delivery", "delivery.folder_missing") in _codes(report)
    # One action per (kind, step): both are fixed by choosing other ids in the step.
    assert [(a["action"], a["node_key"]) for a in report["recommended_actions"]] == [("edit_step", "fill")]
    folder = next(i for i in report["blocking"] if i["code"] == "delivery.folder_missing")
    assert "pick another folder" in folder["message_human"] and folder["location"] == {"parameters": ["folder_id"]}


def test_a_template_it_may_not_copy_and_a_read_only_folder_are_refused(cast, google_api):
    add_templates(google_api)
    google_api.files[DOC_TEMPLATE]["capabilities"] = {"canCopy": False}
    google_api.files[FOLDER]["capabilities"] = {"canAddChildren": False}
    report = _check(cast, _fill(google_connection(cast)))
    assert set(_codes(report)) == {
        ("permissions", "permissions.file_denied"),
        ("permissions", "permissions.folder_not_writable"),
    }
    assert {a["action"] for a in report["recommended_actions"]} == {"fix_permissions", "edit_step"}


def test_drive_answering_403_or_404_or_401(cast, google_api):
    add_templates(google_api)
    google_api.fail_next(f"/drive/v3/files/{DOC_TEMPLATE}", 403, ERRORS["scope"])
    google_api.fail_next(f"/drive/v3/files/{FOLDER}", 404, not_found(FOLDER))
    report = _check(cast, _fill(google_connection(cast)))
    assert set(_codes(report)) == {
        ("permissions", "permissions.scope_missing"),
        ("delivery", "delivery.folder_missing"),
    }
    assert any(a["action"] == "reconnect_provider" for a in report["recommended_actions"])

    add_templates(google_api)
    google_api.fail_next(f"/drive/v3/files/{DOC_TEMPLATE}", 401, ERRORS[401])
    report = _check(cast, _fill(google_connection(cast), folder_id=FOLDER))
    assert ("permissions", "oauth_expired") in _codes(report)


def test_a_trashed_template_is_missing(cast, google_api):
    add_templates(google_api)
    google_api.add_file("1Trashed", name="Old", mime=DOC_MIME)
    google_api.files["1Trashed"]["trashed"] = True
    report = _check(cast, _fill(google_connection(cast), template_file_id="1Trashed"))
    assert _codes(report) == [("permissions", "permissions.file_not_found")]


def test_a_drive_hiccup_only_warns_and_is_not_cached(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    google_api.fail_next(f"/drive/v3/files/{DOC_TEMPLATE}", 503, ERRORS[503])
    report = _check(cast, _fill(connection))
    assert report["ok"] and [w["code"] for w in report["warnings"]] == ["permissions.unchecked"]
    assert _check(cast, _fill(connection))["warnings"] == []


def test_granted_scopes_without_drive_are_blocked_before_asking_drive(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    DataSourceConnection.objects.filter(pk=connection.pk).update(
        scopes=["openid", "https://www.googleapis.com/auth/gmail.send"]
    )
    report = _check(cast, _fill(connection))
    assert _codes(report) == [("permissions", "permissions.scope_missing")]
    assert _gets(google_api) == []


def test_ids_an_earlier_step_decides_are_not_asked_about(cast, google_api):
    report = _check(
        cast,
        _fill(
            google_connection(cast), folder_id="{{ steps.prepare.folder }}", template_file_id="{{ steps.prepare.t }}"
        ),
    )
    assert _gets(google_api) == [] and report["groups"]["permissions"] == []
