"""ClickSign webhook deliveries: only a valid, fresh, first delivery for a document docg sent has an effect, once."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from docg.audit.models import AuditEvent
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.state import execution_transition
from docg.providers.clicksign import handlers
from docg.providers.clicksign.signed_file import clicksign_signed_file_fetch
from docg.providers.clicksign.tests.helpers import (
    SIGNERS,
    connection,
    context,
    event,
    event_types,
    hook,
    pdf_document,
    running_execution,
    sign_hmac,
    state,
)
from docg.workflows.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _signing(cast, clicksign_api, signers=SIGNERS):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    result = handlers.create_envelope(
        context(cast, conn, execution), {"document_id": str(document.pk), "signers": signers}
    )
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)  # what the engine does
    requests = list(SignatureRequest.objects.filter(execution=execution).order_by("signer_email"))
    return conn, execution, result.output["document_key"], requests


def _fetches(callbacks) -> list:
    """The on-commit callbacks that queue a signed-file fetch (the others publish live events)."""
    return [c for c in callbacks if c.__qualname__.startswith("signed_fetch_schedule")]


def _effects():
    return (state(), AuditEvent.objects.count(), WebhookDelivery.objects.count())


def test_forged_deliveries_are_401_and_change_nothing(cast, clicksign_api):
    conn, execution, document_key, (ana, _) = _signing(cast, clicksign_api)
    body = event("sign", document_key, signer={"key": ana.external_id})
    raw = json.dumps(body).encode()
    before, events_before = _effects(), len(event_types(execution))
    assert hook(conn, raw=raw, secret="someone-elses-secret").status_code == 401
    assert hook(conn, raw=raw, signature="").status_code == 401  # no Content-Hmac
    assert hook(conn, raw=raw, signature="sha256=" + "0" * 64).status_code == 401
    # A real signature for another body does not carry over to this one.
    other = json.dumps(event("sign", document_key, signer={"key": "x"})).encode()
    forged = hook(conn, raw=raw, signature=sign_hmac(other))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "webhook.bad_signature"
    assert _effects() == before and len(event_types(execution)) == events_before
    # The real one, with or without the "sha256=" prefix, works.
    assert hook(conn, raw=raw, signature=sign_hmac(raw)[len("sha256=") :]).json()["changed"] == [str(ana.pk)]


def test_a_replayed_delivery_has_no_second_effect(cast, clicksign_api):
    conn, execution, document_key, (ana, bruno) = _signing(cast, clicksign_api)
    raw = json.dumps(event("sign", document_key, signer={"key": ana.external_id})).encode()
    first = hook(conn, raw=raw)
    assert first.status_code == 200 and first.json()["changed"] == [str(ana.pk)]
    after, events_after = _effects(), len(event_types(execution))
    for _ in range(2):
        replay = hook(conn, raw=raw)
        assert replay.status_code == 200 and replay.json() == {
            "event": "sign",
            "ignored": False,
            "duplicate": True,
            "changed": [],
        }
    assert _effects() == after and len(event_types(execution)) == events_after
    assert WebhookDelivery.objects.filter(workflow=execution.workflow, execution=execution).count() == 1
    # A new delivery (another event, another occurred_at) for the same signer is not a replay, yet changes nothing.
    again = hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    assert again.json()["duplicate"] is False and again.json()["changed"] == []
    assert AuditEvent.objects.filter(action="signature.signed").count() == 1
    assert dict(state()) == {ana.signer_email: "signed", bruno.signer_email: "pending"}


@pytest.mark.parametrize("ago", [timedelta(hours=73), timedelta(days=30), timedelta(minutes=-10)])
def test_stale_or_future_deliveries_are_refused(cast, clicksign_api, ago):
    conn, _, document_key, (ana, _) = _signing(cast, clicksign_api)
    before = _effects()
    answer = hook(conn, event("sign", document_key, signer={"key": ana.external_id}, ago=ago))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "webhook.stale"
    assert answer.json()["error"]["details"]["max_age_seconds"] == 72 * 3600
    assert _effects() == before
    # Within the window it is applied.
    assert hook(conn, event("sign", document_key, signer={"key": ana.external_id}, ago=timedelta(hours=71))).json()[
        "changed"
    ] == [str(ana.pk)]


def test_the_window_is_a_setting(cast, clicksign_api, settings):
    settings.SIGNATURE_WEBHOOK_MAX_AGE_SECONDS = 60
    conn, _, document_key, (ana, _) = _signing(cast, clicksign_api)
    body = event("sign", document_key, signer={"key": ana.external_id}, ago=timedelta(minutes=2))
    assert hook(conn, body).json()["error"]["code"] == "webhook.stale"


def test_deliveries_for_unknown_documents_other_connections_or_events_change_nothing(cast, clicksign_api):
    conn, _, document_key, (ana, _) = _signing(cast, clicksign_api)
    other = connection(cast, webhook_secret="another-secret-0123456789abcdef")
    no_secret = connection(cast, webhook_secret="")
    before = _effects()
    unknown = hook(conn, event("sign", "0b5e7c1a-0000-4000-8000-000000000000", signer={"key": ana.external_id}))
    assert unknown.status_code == 200 and unknown.json()["ignored"] is True
    # Another connection's valid delivery does not reach this connection's envelope.
    body = event("sign", document_key, signer={"key": ana.external_id})
    assert hook(other, body, secret="another-secret-0123456789abcdef").json()["ignored"] is True
    assert hook(conn, event("upload", document_key)).json()["ignored"] is True
    assert hook(conn, {"event": "sign"}).json()["ignored"] is True
    assert _effects() == before
    assert Client().get(f"/hooks/clicksign/{conn.pk}").status_code == 405
    assert hook(conn, raw=b"[1").status_code == 400
    assert hook(conn, raw=b'"text"').json()["error"]["code"] == "webhook.bad_body"
    missing = Client().post("/hooks/clicksign/0b5e7c1a-0000-4000-8000-000000000000", data=b"{}", content_type="x/y")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert hook(no_secret, body, secret="").status_code == 404
    assert _effects() == before


def test_a_refusal_declines_the_signer_and_the_run_keeps_waiting(
    cast, clicksign_api, django_capture_on_commit_callbacks
):
    conn, execution, document_key, (ana, bruno) = _signing(cast, clicksign_api)
    refusal = event("refusal", document_key, signer={"key": bruno.external_id, "email": bruno.signer_email})
    with django_capture_on_commit_callbacks(execute=True):  # live events go out after commit
        answer = hook(conn, refusal)
    assert answer.json()["changed"] == [str(bruno.pk)]
    assert dict(state()) == {ana.signer_email: "pending", bruno.signer_email: "declined"}
    assert AuditEvent.objects.filter(action="signature.declined", target_id=str(bruno.pk)).count() == 1
    assert event_types(execution).count("signature.declined") == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SIGNING
    # A later "sign" for the declined signer does not undo the refusal.
    assert hook(conn, event("sign", document_key, signer={"key": bruno.external_id})).json()["changed"] == []


def test_a_deadline_expires_every_pending_signer(cast, clicksign_api):
    conn, _, document_key, (ana, bruno) = _signing(cast, clicksign_api)
    hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    answer = hook(conn, event("deadline", document_key))
    assert answer.json()["changed"] == [str(bruno.pk)]
    assert dict(state()) == {ana.signer_email: "signed", bruno.signer_email: "expired"}
    assert AuditEvent.objects.filter(action="signature.expired").count() == 1


def test_completion_queues_one_fetch_of_the_signed_file(cast, clicksign_api, django_capture_on_commit_callbacks):
    conn, execution, document_key, requests = _signing(cast, clicksign_api, signers=SIGNERS[:1])
    [ana] = requests
    with django_capture_on_commit_callbacks() as callbacks:
        answer = hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    assert answer.json()["completed"] is True and len(_fetches(callbacks)) == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SIGNED
    with django_capture_on_commit_callbacks() as callbacks:
        hook(conn, event("auto_close", document_key))
    assert _fetches(callbacks) == []  # claimed once, by the delivery that completed the envelope
    # What the queued message does:
    stored = clicksign_signed_file_fetch(envelope_id=ana.envelope_id, connection_id=str(conn.pk))
    assert stored is not None and stored.execution_id == execution.pk and stored.name == "contract-signed.pdf"
    assert clicksign_signed_file_fetch(envelope_id=ana.envelope_id, connection_id=str(conn.pk)) is None
    assert GeneratedDocument.objects.filter(execution=execution).count() == 1


def test_signature_started_shows_the_signer_as_viewed_once(cast, clicksign_api, django_capture_on_commit_callbacks):
    conn, execution, document_key, (ana, bruno) = _signing(cast, clicksign_api)
    with django_capture_on_commit_callbacks(execute=True):
        opened = hook(conn, event("signature_started", document_key, signer={"key": ana.external_id}))
    assert opened.status_code == 200 and opened.json()["changed"] == [str(ana.pk)]
    execution.refresh_from_db()
    statuses = {s["email"]: s["status"] for s in execution.signature_state["envelopes"][0]["signers"]}
    assert statuses == {ana.signer_email: "viewed", bruno.signer_email: "pending"}
    assert execution.signature_state["envelopes"][0]["status"] == "pending"
    assert event_types(execution).count("signature.viewed") == 1
    # Opening it again is no news: nothing on the stream, nothing audited a second time.
    with django_capture_on_commit_callbacks(execute=True):
        again = hook(conn, event("signature_started", document_key, signer={"key": ana.external_id}))
    assert again.json()["changed"] == []
    assert AuditEvent.objects.filter(action="signature.viewed").count() == 1
    assert event_types(execution).count("signature.viewed") == 1
    # The viewer signs afterwards.
    assert hook(conn, event("sign", document_key, signer={"key": ana.external_id})).json()["changed"] == [str(ana.pk)]
    execution.refresh_from_db()
    assert execution.signature_state["envelopes"][0]["signers"][0]["status"] == "signed"
