"""ZapSign: the signed PDF is fetched once and stored; stale deliveries are refused; the connection check."""

from datetime import timedelta

import pytest
from django.utils import timezone

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.connectors.health import connection_test
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.state import execution_transition
from docg.executions.tests.builders import active_workflow
from docg.providers.zapsign import handlers
from docg.providers.zapsign.signed_file import zapsign_signed_file_fetch
from docg.providers.zapsign.tests.fake import SIGNED_PDF
from docg.providers.zapsign.tests.test_zapsign import (
    SIGNERS,
    URLS,
    _connection,
    _context,
    _document,
    _hook,
    _node,
    _signing_execution,
)
from tests.fixtures.engine import wait_for_status, wait_until


def _signing(cast, zapsign_api, signers=SIGNERS):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    result = handlers.create_document(
        _context(cast, connection, execution), {"document_id": str(document.pk), "signers": signers}
    )
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)
    return connection, execution, result.output["envelope_id"], [s["token"] for s in result.output["signers"]]


def _all_signed(doc_token, tokens, **extra):
    return {
        "event_type": "doc_signed",
        "token": doc_token,
        "status": "signed",
        "signers": [{"token": t, "status": "signed"} for t in tokens],
        **extra,
    }


def _fetches(callbacks) -> list:
    return [c for c in callbacks if c.__qualname__.startswith("signed_fetch_schedule")]


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_a_signed_run_keeps_the_signed_pdf(cast, worker, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    workflow = active_workflow(cast, _node(connection, document))
    execution = execution_start(workflow=workflow, trigger_data={"number": "9"}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.SIGNING, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.SIGNING, done.last_error_human
    doc_token = SignatureRequest.objects.filter(execution=done).first().envelope_id
    tokens = list(SignatureRequest.objects.filter(execution=done).values_list("external_id", flat=True))
    assert _hook(connection, _all_signed(doc_token, tokens)).json()["completed"] is True
    assert wait_for_status(done.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED).status == "completed"
    signed = wait_until(
        lambda: GeneratedDocument.objects.filter(execution=done, name="contract-signed.pdf").first(),
        what="the signed PDF",
    )
    with signed.file.open("rb") as handle:
        assert handle.read() == SIGNED_PDF
    gets = [r for r in zapsign_api.requests if r.method == "GET"]
    assert [r.path.split("?")[0] for r in gets] == [f"/api/v1/docs/{doc_token}/", f"/files/{doc_token}-signed.pdf"]
    assert gets[0].headers["authorization"] == "Bearer zs-api-token"
    assert gets[0].headers["x-correlation-id"] == str(done.correlation_id)
    assert {r.provider_data["signed_document_id"] for r in SignatureRequest.objects.filter(execution=done)} == {
        str(signed.pk)
    }


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_completion_queues_one_fetch_and_the_fetch_stores_once(cast, zapsign_api, django_capture_on_commit_callbacks):
    connection, execution, doc_token, tokens = _signing(cast, zapsign_api)
    with django_capture_on_commit_callbacks() as callbacks:
        assert _hook(connection, _all_signed(doc_token, tokens)).json()["completed"] is True
    assert len(_fetches(callbacks)) == 1
    with django_capture_on_commit_callbacks() as callbacks:  # replayed: nothing changes, nothing queued
        assert _hook(connection, _all_signed(doc_token, tokens)).json()["changed"] == []
    assert _fetches(callbacks) == []
    stored = zapsign_signed_file_fetch(envelope_id=doc_token, connection_id=str(connection.pk))
    assert stored.execution_id == execution.pk and stored.node_key == "sign" and stored.sha256
    assert zapsign_signed_file_fetch(envelope_id=doc_token, connection_id=str(connection.pk)) is None
    assert GeneratedDocument.objects.filter(execution=execution).count() == 1
    audit = AuditEvent.objects.get(action="document.generated", target_id=str(stored.pk))
    assert audit.event_metadata["signed"] is True and audit.event_metadata["provider"] == "zapsign"


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_a_signed_file_not_ready_yet_is_retried(cast, zapsign_api):
    connection, _, doc_token, tokens = _signing(cast, zapsign_api)
    _hook(connection, _all_signed(doc_token, tokens))
    zapsign_api.signed_ready = False
    with pytest.raises(DocgError) as info:
        zapsign_signed_file_fetch(envelope_id=doc_token, connection_id=str(connection.pk))
    assert (info.value.code, info.value.transient) == ("zapsign.file_not_ready", True)
    zapsign_api.failures.append((503, {"detail": "Unavailable"}, {}))
    zapsign_api.signed_ready = True
    with pytest.raises(DocgError) as info:
        zapsign_signed_file_fetch(envelope_id=doc_token, connection_id=str(connection.pk))
    assert info.value.transient is True
    assert zapsign_signed_file_fetch(envelope_id=doc_token, connection_id=str(connection.pk)) is not None


@pytest.mark.urls(URLS)
@pytest.mark.django_db
@pytest.mark.parametrize("ago", [timedelta(hours=73), timedelta(days=40), timedelta(minutes=-10)])
def test_stale_or_future_deliveries_are_refused(cast, zapsign_api, ago):
    connection, _, doc_token, tokens = _signing(cast, zapsign_api)
    stale = _all_signed(doc_token, tokens, last_update_at=(timezone.now() - ago).isoformat())
    answer = _hook(connection, stale)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "webhook.stale"
    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"pending"}
    assert AuditEvent.objects.filter(action="signature.signed").count() == 0
    fresh = _all_signed(doc_token, tokens, last_update_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    assert _hook(connection, fresh).json()["completed"] is True


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_a_timestamp_that_is_not_a_date_is_400(cast, zapsign_api):
    connection, _, doc_token, tokens = _signing(cast, zapsign_api)
    answer = _hook(connection, _all_signed(doc_token, tokens, last_update_at="yesterday"))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "webhook.bad_body"
    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_connection_check_asks_zapsign_with_the_token(cast, zapsign_api):
    good = connection_test(connection=_connection(cast, zapsign_api))
    assert good.ok and good.code == "ok"
    [call] = zapsign_api.requests
    assert (call.method, call.path, call.headers["authorization"]) == ("GET", "/api/v1/docs/", "Bearer zs-api-token")
    bad = connection_test(connection=_connection(cast, zapsign_api, api_token="revoked"))
    assert not bad.ok and bad.code == "zapsign.unauthorized" and bad.details["status_code"] == 401
