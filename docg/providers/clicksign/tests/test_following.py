"""Following a ClickSign envelope: signature_state, the signatures API, reminders, withdrawal on cancel, run audit."""

import pytest

from docg.audit.models import AuditEvent
from docg.documents.models import SignatureRequest
from docg.executions.choices import ExecutionStatus, LogLevel
from docg.executions.control import execution_cancel
from docg.executions.envelopes import execution_envelopes_withdraw
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.providers.clicksign import handlers
from docg.providers.clicksign.tests.fake import JSON_API, TOKEN
from docg.providers.clicksign.tests.helpers import (
    SIGNERS,
    connection,
    context,
    event,
    hook,
    pdf_document,
    running_execution,
)
from tests.fixtures.engine import wait_until


def _signing(cast):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    result = handlers.create_envelope(
        context(cast, conn, execution), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)  # what the engine does
    requests = list(SignatureRequest.objects.filter(execution=execution).order_by("signer_email"))
    return conn, execution, result.output["document_key"], requests


def _state(execution) -> dict:
    return WorkflowExecution.objects.get(pk=execution.pk).signature_state


def _signers(state) -> dict:
    [envelope] = state["envelopes"]
    return {s["email"]: s for s in envelope["signers"]}


@pytest.mark.django_db
def test_signature_state_follows_each_signer_from_request_to_decline(cast, clicksign_api):
    conn, execution, document_key, (ana, _bruno) = _signing(cast)
    state = _state(execution)
    [envelope] = state["envelopes"]
    assert envelope["provider"] == "clicksign" and envelope["envelope_id"] == ana.envelope_id
    assert envelope["status"] == "pending" and envelope["node_key"] == "sign"
    assert envelope["document_id"] == str(ana.document_id)
    assert {e: s["status"] for e, s in _signers(state).items()} == {
        "ana@client.example": "pending",
        "bruno@client.example": "pending",
    }

    hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    signers = _signers(_state(execution))
    assert signers["ana@client.example"]["status"] == "signed" and signers["ana@client.example"]["signed_at"]
    assert signers["bruno@client.example"]["status"] == "pending"

    hook(conn, event("refusal", document_key, signer={"email": "bruno@client.example"}))
    state = _state(execution)
    assert state["envelopes"][0]["status"] == "declined"
    bruno_state = _signers(state)["bruno@client.example"]
    assert bruno_state["status"] == "declined" and bruno_state["declined_at"]


@pytest.mark.django_db
def test_the_api_lists_a_runs_signatures_and_the_organizations_requests(cast, clicksign_api, alice_api):
    conn, execution, document_key, (ana, bruno) = _signing(cast)
    hook(conn, event("sign", document_key, signer={"key": ana.external_id}))

    answer = alice_api.get(f"/api/v1/executions/{execution.pk}/signatures")
    assert answer.status_code == 200, answer.content
    [envelope] = answer.json()["envelopes"]
    assert envelope["envelope_id"] == ana.envelope_id and envelope["status"] == "pending"
    assert [(s["name"], s["email"], s["status"]) for s in envelope["signers"]] == [
        ("Ana Souza", "ana@client.example", "signed"),
        ("Bruno Lima", "bruno@client.example", "pending"),
    ]
    assert envelope["signers"][0]["signed_at"] and envelope["signers"][1]["signed_at"] is None

    pending = alice_api.get("/api/v1/signature-requests", {"status": "pending", "provider": "clicksign"})
    assert pending.status_code == 200, pending.content
    [row] = pending.json()["results"]
    assert row["id"] == str(bruno.pk) and row["execution_id"] == str(execution.pk)
    assert row["signer"]["email"] == "bruno@client.example" and row["signer"]["status"] == "pending"
    assert alice_api.get("/api/v1/signature-requests", {"provider": "zapsign"}).json()["results"] == []
    everyone = alice_api.get("/api/v1/signature-requests").json()["results"]
    assert {r["id"] for r in everyone} == {str(ana.pk), str(bruno.pk)}
    assert alice_api.get("/api/v1/signature-requests", {"status": "maybe"}).status_code == 400
    assert alice_api.get(f"/api/v1/signature-requests/{ana.pk}").json()["signer"]["status"] == "signed"


@pytest.mark.django_db
def test_another_organization_gets_404_for_signatures_and_reminders(cast, clicksign_api, charlie_api):
    _conn, execution, _key, (ana, _bruno) = _signing(cast)
    assert charlie_api.get(f"/api/v1/executions/{execution.pk}/signatures").status_code == 404
    assert charlie_api.get(f"/api/v1/signature-requests/{ana.pk}").status_code == 404
    assert charlie_api.post(f"/api/v1/signature-requests/{ana.pk}/remind").status_code == 404
    assert charlie_api.get("/api/v1/signature-requests").json()["results"] == []
    assert [c for c in clicksign_api.api_calls() if "notifications" in c.path and "/signers/" in c.path] == []


@pytest.mark.django_db
def test_a_reminder_notifies_each_pending_signer_at_clicksign_and_is_recorded(cast, clicksign_api, alice_api):
    conn, execution, document_key, (ana, bruno) = _signing(cast)
    hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    before = len(clicksign_api.api_calls())

    answer = alice_api.post(f"/api/v1/signature-requests/{bruno.pk}/remind")
    assert answer.status_code == 200, answer.content
    assert answer.json()["reminded"] == [str(bruno.pk)]
    [call] = clicksign_api.api_calls()[before:]
    # Only Bruno is still pending: ClickSign's per-signer endpoint e-mails him alone.
    assert (call.method, call.path) == (
        "POST",
        f"/api/v3/envelopes/{bruno.envelope_id}/signers/{bruno.external_id}/notifications",
    )
    assert call.body == {"data": {"type": "notifications", "attributes": {}}}
    assert call.headers["authorization"] == TOKEN and call.headers["content-type"] == JSON_API
    assert clicksign_api.envelopes[bruno.envelope_id]["signer_notified"] == [bruno.external_id]
    assert _signers(_state(execution))["bruno@client.example"]["reminded_at"]
    reminded = AuditEvent.objects.get(action="signature.reminded")
    assert reminded.target_id == str(bruno.pk) and reminded.actor_id == str(cast.alice.pk)

    # A reminder from any row of the envelope reaches its pending signers; a refused one is a 502.
    assert alice_api.post(f"/api/v1/signature-requests/{ana.pk}/remind").status_code == 200
    clicksign_api.fail("/notifications", 422, {"errors": [{"detail": "envelope is not running"}]})
    refused = alice_api.post(f"/api/v1/signature-requests/{bruno.pk}/remind")
    assert refused.status_code == 502 and refused.json()["error"]["code"] == "signature.remind_failed"


@pytest.mark.django_db
def test_nothing_to_remind_once_everyone_signed(cast, clicksign_api, alice_api, vera_api):
    conn, _execution, document_key, (ana, bruno) = _signing(cast)
    assert vera_api.post(f"/api/v1/signature-requests/{ana.pk}/remind").status_code == 403
    for request in (ana, bruno):
        hook(conn, event("sign", document_key, signer={"key": request.external_id}))
    answer = alice_api.post(f"/api/v1/signature-requests/{ana.pk}/remind")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "signature.not_pending"


@pytest.mark.django_db
def test_cancelling_a_signing_run_withdraws_the_envelope_at_clicksign(cast, clicksign_api, alice_api):
    _conn, execution, _key, (ana, _bruno) = _signing(cast)
    execution_cancel(execution=execution, by=cast.alice, reason="deal lost")
    before = len(clicksign_api.api_calls())
    outcomes = execution_envelopes_withdraw(execution_id=execution.pk)
    assert outcomes == [{"envelope_id": ana.envelope_id, "status": "withdrawn"}]

    [call] = clicksign_api.api_calls()[before:]
    assert (call.method, call.path) == ("PATCH", f"/api/v3/envelopes/{ana.envelope_id}")
    assert call.body == {"data": {"type": "envelopes", "id": ana.envelope_id, "attributes": {"status": "canceled"}}}
    assert clicksign_api.envelopes[ana.envelope_id]["attributes"]["status"] == "canceled"
    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"canceled"}
    [envelope] = _state(execution)["envelopes"]
    assert envelope["status"] == "canceled" and envelope["withdrawal"]["status"] == "withdrawn"
    # Nothing left to withdraw: a second delivery of the message calls nobody.
    assert execution_envelopes_withdraw(execution_id=execution.pk) == []
    assert len(clicksign_api.api_calls()) == before + 1

    audit = alice_api.get(f"/api/v1/executions/{execution.pk}/audit").json()["results"]
    actions = [row["action"] for row in audit]
    assert actions.count("signature.requested") == 2 and actions.count("signature.canceled") == 2
    assert "execution.canceled" in actions


@pytest.mark.django_db
def test_a_refused_withdrawal_is_recorded_logged_and_shown_on_the_run(cast, clicksign_api):
    _conn, execution, _key, (ana, _bruno) = _signing(cast)
    execution_cancel(execution=execution, by=cast.alice, reason="deal lost")
    clicksign_api.fail("PATCH", 403, {"errors": [{"detail": "Forbidden"}]})
    outcomes = execution_envelopes_withdraw(execution_id=execution.pk)
    assert outcomes == [{"envelope_id": ana.envelope_id, "status": "failed", "code": "clicksign.unauthorized"}]

    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"pending"}
    [envelope] = _state(execution)["envelopes"]
    assert envelope["withdrawal"]["status"] == "failed"
    assert envelope["withdrawal"]["code"] == "clicksign.unauthorized"
    assert "reconnect ClickSign" in envelope["withdrawal"]["message"]
    error = execution.logs.get(level=LogLevel.ERROR)
    assert "signers may still sign it" in error.message_human
    assert AuditEvent.objects.filter(action="signature.withdraw_failed").count() == 2


@pytest.mark.django_db(transaction=True)
def test_cancel_through_the_api_withdraws_the_envelope_after_commit(cast, clicksign_api, worker, alice_api):
    _conn, execution, _key, (ana, _bruno) = _signing(cast)
    answer = alice_api.post(f"/api/v1/executions/{execution.pk}/cancel", {"reason": "deal lost"}, format="json")
    assert answer.status_code == 200, answer.content
    wait_until(
        lambda: set(SignatureRequest.objects.values_list("status", flat=True)) == {"canceled"},
        what="the envelope to be withdrawn",
    )
    assert clicksign_api.envelopes[ana.envelope_id]["attributes"]["status"] == "canceled"
    signatures = alice_api.get(f"/api/v1/executions/{execution.pk}/signatures").json()
    assert signatures["envelopes"][0]["status"] == "canceled"
