"""Whole runs through the engine: trigger → microsoft_word.fill_document → outlook.send_mail, on the fake Graph."""

import base64

import pytest

from docg.audit.models import AuditEvent
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.builders import active_workflow
from tests.fixtures.engine import wait_for_status

from .helpers import TRIGGER, docx_text, fill_node, mail_node, microsoft_connection, template

pytestmark = pytest.mark.django_db(transaction=True)
DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.NEEDS_REVIEW)


@pytest.fixture
def fast_retries(settings):
    settings.STEP_RETRY_BASE_SECONDS = 0.2


def _run(cast, *, trigger_data=None, dry_run=False, **mail):
    connection = microsoft_connection(cast)
    nodes = [
        fill_node(connection, template(cast)),
        mail_node(connection, attachments=["{{ steps.fill.document_id }}"], **mail),
    ]
    workflow = active_workflow(cast, *nodes)
    data = trigger_data or TRIGGER
    execution = execution_start(workflow=workflow, trigger_data=data, by=cast.alice, dry_run=dry_run)
    return wait_for_status(execution.pk, *DONE, timeout=60)


def _states(execution) -> list[str]:
    states: list[str] = []
    for _, event in get_streams().read(execution_key(execution.pk)):
        if not states or states[-1] != event["status"]:
            states.append(event["status"])
    return states


def test_a_triggered_agreement_is_filled_converted_by_microsoft_and_mailed_from_outlook(cast, worker, graph_api):
    done = _run(cast)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    assert [(m, p.split(":/")[0] if ":/" in p else p) for m, p in graph_api.api_calls()] == [
        # Preflight: the drive and the destination folder (created by the upload) may be used.
        ("GET", "/v1.0/me/drive"),
        ("GET", "/v1.0/me/drive/root"),
        ("PUT", "/v1.0/me/drive/root"),
        ("GET", f"/v1.0/me/drive/items/{next(iter(graph_api.items))}/content"),
        ("POST", "/v1.0/me/sendMail"),
    ]
    for call in [*graph_api.requests, *graph_api.downloads]:
        assert call.headers["x-correlation-id"] == str(done.correlation_id)
    upload = graph_api.requests[2]
    assert upload.path == f"/v1.0/me/drive/root:/docg/Agreement 2026-118 ({done.pk}).docx:/content"
    assert "Client: Ana Souza" in docx_text(upload.body)

    steps = {s.node_key: s for s in ExecutionStep.objects.filter(execution=done)}
    pdf = GeneratedDocument.objects.get(pk=steps["fill"].data_out["document_id"])
    assert (pdf.name, pdf.content_type, pdf.execution_id) == ("Agreement 2026-118.pdf", "application/pdf", done.pk)
    with pdf.file.open("rb") as handle:
        stored = handle.read()
    assert stored == graph_api.pdf_of(steps["fill"].data_out["drive_item_id"])

    [sent] = graph_api.sent
    message = sent["message"]
    assert message["subject"] == "Agreement 2026-118"
    assert message["toRecipients"] == [{"emailAddress": {"address": "ana@client.example"}}]
    assert message["body"]["content"] == "<p>Dear Ana Souza, your agreement is attached.</p>"
    [attachment] = message["attachments"]
    assert attachment["name"] == "Agreement 2026-118.pdf"
    assert base64.b64decode(attachment["contentBytes"]) == stored  # the e-mail carries the stored PDF

    expected = ["ready", "sending", "sent", "completed"]
    assert [s for s in _states(done) if s in expected] == expected
    assert done.delivery_state["status"] == "sent"
    assert "render" in done.phase_metrics and "delivery" in done.phase_metrics
    actions = set(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert {"document.generated", "document.sent", "execution.completed"} <= actions


def test_an_unavailable_graph_is_retried_and_the_run_still_completes(cast, worker, graph_api, fast_retries):
    # At the upload, after preflight's reads.
    graph_api.fail_next(503, headers={"Retry-After": "1"}, path="/v1.0/me/drive/root:/docg/")
    done = _run(cast)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    first, second = ExecutionStep.objects.filter(execution=done, node_key="fill").order_by("attempt")
    assert (first.status, first.error_code) == (StepStatus.FAILURE, "microsoft.unavailable")
    assert "docg will try again" in first.error_human and first.error_tech["retry_after"] == "1"
    assert second.status == StepStatus.SUCCESS
    assert len(graph_api.sent) == 1
    assert GeneratedDocument.objects.filter(execution=done).count() == 1


def test_a_missing_mail_permission_fails_the_run_with_a_fix(cast, worker, graph_api):
    cast.acme.language = "pt-br"
    cast.acme.save(update_fields=["language"])
    # Upload and conversion succeed; sendMail is refused for a missing Mail.Send permission.
    graph_api.fail_next(
        403,
        code="ErrorAccessDenied",
        message="Access is denied. Check credentials and try again.",
        path="/v1.0/me/sendMail",
    )
    done = _run(cast)
    assert done.status == ExecutionStatus.FAILED
    [step] = ExecutionStep.objects.filter(execution=done, node_key="mail")  # permanent: no retry
    assert step.error_code == "microsoft.insufficient_permissions"
    assert step.error_human.startswith("A conta Microsoft não tem uma permissão de que o docg precisa")
    assert "ErrorAccessDenied" in step.error_human
    assert done.last_error_code == "microsoft.insufficient_permissions"
    assert [a["action"] for a in done.recommended_actions] == ["fix_permissions"]
    assert done.delivery_state["status"] == "failed"
    assert graph_api.sent == [] and GeneratedDocument.objects.filter(execution=done).count() == 1


def test_an_expired_sign_in_fails_with_reconnect(cast, worker, graph_api):
    # The sign-in expires after preflight, at the upload.
    graph_api.fail_next(401, path="/v1.0/me/drive/root:/docg/")
    done = _run(cast)
    assert done.status == ExecutionStatus.FAILED
    assert done.last_error_code == "oauth_expired"
    assert "reconnect the Microsoft account" in done.last_error_human
    assert [a["action"] for a in done.recommended_actions] == ["reconnect_provider"]
    assert ExecutionStep.objects.filter(execution=done, node_key="fill").count() == 1  # permanent: no retry


def test_a_dry_run_fills_the_template_and_sends_nothing(cast, worker, graph_api):
    done = _run(cast, dry_run=True)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    # Only preflight's reads: nothing is uploaded, converted or sent.
    assert [m for m, _ in graph_api.api_calls()] == ["GET", "GET"] and graph_api.sent == []
    mail = ExecutionStep.objects.get(execution=done, node_key="mail")
    assert mail.data_out["dry_run"] is True and mail.data_out["delivery_state"]["status"] == "dry_run"
    assert "sent" not in _states(done)


def test_an_invalid_recipient_stops_the_run_in_preflight(cast, worker, graph_api):
    trigger = {**TRIGGER, "customer": {"name": "Ana Souza", "email": "ana.client.example"}}
    done = _run(cast, trigger_data=trigger)
    assert done.status == ExecutionStatus.NEEDS_REVIEW
    [issue] = done.preflight_summary["blocking"]
    assert (issue["code"], issue["domain"]) == ("delivery.invalid_email", "delivery")
    assert "ana.client.example" in issue["message_human"]
    assert [m for m, _ in graph_api.api_calls() if m != "GET"] == []  # preflight read; nothing was written
