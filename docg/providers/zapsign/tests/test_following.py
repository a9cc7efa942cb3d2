"""Following a ZapSign document: reminders (bulk resend) and withdrawal (refuse) against the loopback fake."""

import pytest

from docg.audit.models import AuditEvent
from docg.documents.models import SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.control import execution_cancel
from docg.executions.envelopes import execution_envelopes_withdraw
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.providers.zapsign import handlers
from docg.providers.zapsign.tests.test_zapsign import SIGNERS, _connection, _context, _document, _signing_execution

pytestmark = pytest.mark.django_db


def _signing(cast, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    handlers.create_document(
        _context(cast, connection, execution), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)
    return execution, list(SignatureRequest.objects.filter(execution=execution).order_by("signer_email"))


def test_signature_state_has_each_signers_sign_link(cast, zapsign_api, alice_api):
    execution, (ana, bruno) = _signing(cast, zapsign_api)
    [envelope] = WorkflowExecution.objects.get(pk=execution.pk).signature_state["envelopes"]
    assert envelope["provider"] == "zapsign" and envelope["envelope_id"] == ana.envelope_id
    assert [(s["email"], s["sign_url"]) for s in envelope["signers"]] == [
        (ana.signer_email, ana.sign_url),
        (bruno.signer_email, bruno.sign_url),
    ]
    listed = alice_api.get("/api/v1/signature-requests", {"provider": "zapsign", "status": "pending"}).json()
    assert {r["signer"]["sign_url"] for r in listed["results"]} == {ana.sign_url, bruno.sign_url}


def test_a_reminder_is_zapsigns_bulk_resend(cast, zapsign_api, alice_api):
    _execution, (ana, _bruno) = _signing(cast, zapsign_api)
    before = len(zapsign_api.requests)
    answer = alice_api.post(f"/api/v1/signature-requests/{ana.pk}/remind")
    assert answer.status_code == 200, answer.content
    assert len(answer.json()["reminded"]) == 2
    [call] = zapsign_api.requests[before:]
    assert (call.method, call.path) == ("POST", f"/api/v1/docs/{ana.envelope_id}/resend-notifications-bulk/")
    assert call.headers["authorization"] == "Bearer zs-api-token"
    assert zapsign_api.docs[ana.envelope_id]["reminders"] == 1
    assert AuditEvent.objects.filter(action="signature.reminded").count() == 2

    # ZapSign's cooldown (429) is passed on as a 429.
    zapsign_api.failures.append((429, {"detail": "cooldown_period"}, {}))
    assert alice_api.post(f"/api/v1/signature-requests/{ana.pk}/remind").status_code == 429


def test_cancelling_the_run_refuses_the_document_at_zapsign(cast, zapsign_api):
    execution, (ana, _bruno) = _signing(cast, zapsign_api)
    execution_cancel(execution=execution, by=cast.alice, reason="")
    before = len(zapsign_api.requests)
    assert execution_envelopes_withdraw(execution_id=execution.pk) == [
        {"envelope_id": ana.envelope_id, "status": "withdrawn"}
    ]
    [call] = zapsign_api.requests[before:]
    assert (call.method, call.path) == ("POST", "/api/v1/refuse/")
    assert call.body == {"doc_token": ana.envelope_id, "rejected_reason": "The run was canceled."}
    assert call.headers["user-agent"] == "docg"
    assert zapsign_api.docs[ana.envelope_id]["status"] == "refused"
    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"canceled"}


def test_a_zapsign_refusal_to_cancel_is_shown_on_the_run(cast, zapsign_api):
    execution, _requests = _signing(cast, zapsign_api)
    execution_cancel(execution=execution, by=cast.alice, reason="")
    zapsign_api.failures.append((403, {"detail": "permission_denied"}, {}))
    [outcome] = execution_envelopes_withdraw(execution_id=execution.pk)
    assert outcome["status"] == "failed" and outcome["code"] == "zapsign.unauthorized"
    [envelope] = WorkflowExecution.objects.get(pk=execution.pk).signature_state["envelopes"]
    assert envelope["status"] == "pending" and envelope["withdrawal"]["code"] == "zapsign.unauthorized"
    assert AuditEvent.objects.filter(action="signature.withdraw_failed").count() == 2


def test_a_transient_refusal_is_recorded_then_retried(cast, zapsign_api):
    execution, _requests = _signing(cast, zapsign_api)
    execution_cancel(execution=execution, by=cast.alice, reason="")
    zapsign_api.failures.append((503, {"detail": "unavailable"}, {}))
    with pytest.raises(Exception) as raised:
        execution_envelopes_withdraw(execution_id=execution.pk)
    assert getattr(raised.value, "transient", False) is True
    assert execution_envelopes_withdraw(execution_id=execution.pk)[0]["status"] == "withdrawn"
    [envelope] = WorkflowExecution.objects.get(pk=execution.pk).signature_state["envelopes"]
    assert envelope["status"] == "canceled" and envelope["withdrawal"]["status"] == "withdrawn"
