"""clicksign.create_envelope against a loopback fake of ClickSign API v3: calls, a signed run, retries, errors."""

import base64

import pytest

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.connectors.health import connection_test
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.builders import active_workflow
from docg.providers.clicksign import handlers
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings, translate
from docg.providers.clicksign.tests.fake import JSON_API, SIGNED_PDF, TOKEN
from docg.providers.clicksign.tests.helpers import (
    PDF,
    SIGNERS,
    connection,
    context,
    event,
    event_types,
    hook,
    node,
    pdf_document,
    running_execution,
    state,
)
from tests.fixtures.engine import wait_for_status, wait_until


def _requirement(kind_attributes, document_key, signer_id):
    return {
        "data": {
            "type": "requirements",
            "attributes": kind_attributes,
            "relationships": {
                "document": {"data": {"type": "documents", "id": document_key}},
                "signer": {"data": {"type": "signers", "id": signer_id}},
            },
        }
    }


@pytest.mark.django_db(transaction=True)
def test_run_sends_an_envelope_then_each_signature_moves_it_to_signed_and_completed(cast, worker, clicksign_api):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    workflow = active_workflow(cast, node(conn, document))
    execution = execution_start(workflow=workflow, trigger_data={"number": "2026-118"}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.SIGNING, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.SIGNING, (done.last_error_code, done.last_error_human)
    assert done.steps.get(node_key="sign").status == "waiting"

    calls = clicksign_api.api_calls()
    [envelope_id] = clicksign_api.envelopes
    base = f"/api/v3/envelopes/{envelope_id}"
    assert [(c.method, c.path) for c in calls] == [
        ("POST", "/api/v3/envelopes"),
        ("POST", f"{base}/documents"),
        ("POST", f"{base}/signers"),
        ("POST", f"{base}/requirements"),
        ("POST", f"{base}/requirements"),
        ("POST", f"{base}/signers"),
        ("POST", f"{base}/requirements"),
        ("POST", f"{base}/requirements"),
        ("PATCH", base),
        ("POST", f"{base}/notifications"),
    ]
    for call in calls:
        assert call.headers["authorization"] == TOKEN  # the bare access token, no "Bearer"
        assert call.headers["content-type"] == JSON_API and call.headers["accept"] == JSON_API
        assert call.headers["x-correlation-id"] == str(done.correlation_id)
    assert calls[0].body == {
        "data": {
            "type": "envelopes",
            "attributes": {
                "name": "Contract 2026-118",
                "locale": "en-US",
                "auto_close": True,
                "block_after_refusal": True,
            },
        }
    }
    assert calls[1].body == {
        "data": {
            "type": "documents",
            "attributes": {
                "filename": "contract.pdf",
                "content_base64": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
            },
        }
    }
    assert [c.body for c in (calls[2], calls[5])] == [{"data": {"type": "signers", "attributes": s}} for s in SIGNERS]
    requests = list(SignatureRequest.objects.filter(execution=done).order_by("signer_email"))
    ana, bruno = requests
    document_key = ana.provider_data["document_key"]
    assert document_key in clicksign_api.envelopes[envelope_id]["documents"]
    assert calls[3].body == _requirement({"action": "agree", "role": "sign"}, document_key, ana.external_id)
    assert calls[4].body == _requirement({"action": "provide_evidence", "auth": "email"}, document_key, ana.external_id)
    assert calls[6].body == _requirement({"action": "agree", "role": "sign"}, document_key, bruno.external_id)
    assert calls[8].body == {"data": {"id": envelope_id, "type": "envelopes", "attributes": {"status": "running"}}}
    assert calls[9].body == {"data": {"type": "notifications", "attributes": {}}}
    assert clicksign_api.envelopes[envelope_id]["notified"] == 1

    assert [(r.signer_email, r.status, r.envelope_id) for r in requests] == [
        ("ana@client.example", "pending", envelope_id),
        ("bruno@client.example", "pending", envelope_id),
    ]
    step_out = done.steps.get(node_key="sign").data_out
    assert step_out["envelope_id"] == envelope_id and step_out["document_key"] == document_key
    assert AuditEvent.objects.filter(action="signature.requested").count() == 2
    assert event_types(done).count("signature.requested") == 2

    first = hook(conn, event("sign", document_key, signer={"key": ana.external_id, "email": ana.signer_email}))
    assert first.status_code == 200, first.content
    assert first.json()["changed"] == [str(ana.pk)] and first.json()["completed"] is False
    assert dict(state())["ana@client.example"] == "signed"
    # Bruno signs; ClickSign names him by e-mail only here (the key is matched first when present).
    last = hook(conn, event("sign", document_key, signer={"email": "BRUNO@client.example"}))
    assert last.json()["changed"] == [str(bruno.pk)] and last.json()["completed"] is True
    assert AuditEvent.objects.filter(action="signature.signed", actor_type="webhook").count() == 2

    finished = wait_for_status(done.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert finished.status == ExecutionStatus.COMPLETED
    assert finished.steps.get(node_key="sign").status == "success"
    stream = [e for _, e in get_streams().read(execution_key(done.pk))]
    statuses = [e["status"] for e in stream]
    assert statuses.index("signing") < statuses.index("signed") < statuses.index("completed")
    types = [e["event_type"] for e in stream]
    assert types.count("signature.signed") == 2 and types.count("signature.completed") == 1
    assert types.index("signature.completed") < types.index("execution.completed")

    # The signed PDF is fetched once, after commit, and kept as one of the run's documents.
    signed = wait_until(
        lambda: GeneratedDocument.objects.filter(execution=done, name="contract-signed.pdf").first(),
        what="the signed PDF to be stored",
    )
    with signed.file.open("rb") as handle:
        assert handle.read() == SIGNED_PDF
    assert signed.node_key == "sign" and signed.content_type == "application/pdf"
    assert {r.provider_data["signed_document_id"] for r in SignatureRequest.objects.filter(execution=done)} == {
        str(signed.pk)
    }
    audit = AuditEvent.objects.get(action="document.generated", target_id=str(signed.pk))
    assert audit.event_metadata["signed"] is True and audit.event_metadata["envelope_id"] == envelope_id
    fetches = [(r.method, r.path) for r in clicksign_api.requests if r.method == "GET"]
    assert fetches == [
        ("GET", f"{base}/documents/{document_key}"),
        ("GET", f"/files/{document_key}-signed.pdf?expires=300"),
    ]
    # ClickSign's closing events afterwards change nothing and fetch nothing again.
    assert hook(conn, event("auto_close", document_key)).json()["changed"] == []
    assert hook(conn, event("document_closed", document_key)).json()["changed"] == []
    assert len([r for r in clicksign_api.requests if r.method == "GET"]) == 2
    assert GeneratedDocument.objects.filter(execution=done).count() == 1


@pytest.mark.django_db
def test_dry_run_sends_nothing(cast, clicksign_api):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    result = handlers.create_envelope(
        context(cast, conn, execution, dry_run=True), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    assert result.output["dry_run"] is True and result.status == ExecutionStatus.RUNNING and result.wait is None
    assert clicksign_api.requests == [] and not SignatureRequest.objects.exists()


@pytest.mark.django_db
def test_a_retried_step_picks_up_where_it_stopped_without_a_second_envelope(cast, clicksign_api):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    params = {"document_id": str(document.pk), "signers": SIGNERS, "name": "Contract"}
    clicksign_api.fail("/requirements", 503, {"errors": [{"detail": "Service Unavailable"}]})
    with pytest.raises(DocgError) as info:
        handlers.create_envelope(context(cast, conn, execution), params)
    assert (info.value.code, info.value.transient) == ("clicksign.unavailable", True)
    clicksign_api.fail("/notifications", 429, {"errors": [{"detail": "Too Many Requests"}]}, {"Retry-After": "60"})
    with pytest.raises(DocgError) as info:
        handlers.create_envelope(context(cast, conn, execution), params)
    assert (info.value.code, info.value.transient) == ("clicksign.rate_limited", True)
    assert info.value.details["retry_after"] == "60"
    assert AuditEvent.objects.filter(action="signature.requested").count() == 0  # not live yet

    result = handlers.create_envelope(context(cast, conn, execution), params)
    again = handlers.create_envelope(context(cast, conn, execution), params)  # a redelivered message
    assert result.status == ExecutionStatus.SIGNING and result.wait == "signature"
    assert again.output["envelope_id"] == result.output["envelope_id"]
    paths = [(c.method, c.path.rsplit("/", 1)[-1]) for c in clicksign_api.api_calls()]
    assert paths.count(("POST", "envelopes")) == 1 and paths.count(("POST", "documents")) == 1
    assert paths.count(("POST", "signers")) == 2
    [envelope] = clicksign_api.envelopes.values()
    assert len(envelope["requirements"]) == 4 and envelope["notified"] == 1
    assert envelope["attributes"]["status"] == "running"
    assert SignatureRequest.objects.count() == 2
    assert AuditEvent.objects.filter(action="signature.requested").count() == 2


@pytest.mark.django_db
def test_deadline_and_portuguese_locale_are_sent(cast, clicksign_api):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    params = {"document_id": str(document.pk), "signers": SIGNERS[:1], "deadline": "2026-12-20T18:00:00-03:00"}
    handlers.create_envelope(context(cast, conn, execution, language="pt-BR"), params)
    attributes = clicksign_api.api_calls()[0].body["data"]["attributes"]
    assert attributes["locale"] == "pt-BR" and attributes["deadline_at"] == "2026-12-20T18:00:00-03:00"
    assert attributes["name"] == "contract.pdf"


@pytest.mark.django_db
def test_bad_inputs_are_permanent_errors_that_call_nothing(cast, clicksign_api):
    conn = connection(cast)
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    cases = [
        ({"document_id": str(document.pk), "signers": SIGNERS, "deadline": "next week"}, "signature.invalid_deadline"),
        ({"document_id": "0b5e7c1a-0000-4000-8000-000000000000", "signers": SIGNERS}, "document.not_found"),
        ({"document_id": str(document.pk), "signers": [{"name": "X", "email": "nope"}]}, "signature.invalid_signer"),
    ]
    for params, code in cases:
        with pytest.raises(DocgError) as info:
            handlers.create_envelope(context(cast, conn, execution), params)
        assert (info.value.code, info.value.transient) == (code, False)
    no_token = connection(cast, access_token="")
    with pytest.raises(DocgError) as info:
        handlers.create_envelope(context(cast, no_token, execution), cases[0][0] | {"deadline": ""})
    assert info.value.code == "clicksign.misconfigured"
    assert clicksign_api.requests == []


@pytest.mark.django_db
def test_a_refused_token_fails_the_step_with_a_message_in_the_organizations_language(cast, clicksign_api):
    conn = connection(cast, access_token="revoked-token")
    document = pdf_document(cast.acme)
    execution = running_execution(cast, conn, document)
    with pytest.raises(DocgError) as info:
        handlers.create_envelope(
            context(cast, conn, execution, language="pt-BR"), {"document_id": str(document.pk), "signers": SIGNERS}
        )
    assert (info.value.code, info.value.transient) == ("clicksign.unauthorized", False)
    assert info.value.human.startswith("A ClickSign recusou o token de acesso da conexão (HTTP 401")
    assert [(c.method, c.path) for c in clicksign_api.requests] == [("POST", "/api/v3/envelopes")]


@pytest.mark.parametrize(
    ("status", "headers", "code", "transient"),
    [
        (401, {}, "clicksign.unauthorized", False),
        (403, {}, "clicksign.unauthorized", False),
        (404, {}, "clicksign.not_found", False),
        (422, {}, "clicksign.rejected", False),
        (429, {"Retry-After": "30"}, "clicksign.rate_limited", True),
        (500, {}, "clicksign.unavailable", True),
        (503, {}, "clicksign.unavailable", True),
    ],
)
def test_client_classifies_errors(clicksign_api, status, headers, code, transient):
    clicksign_api.fail("POST /api/v3/envelopes", status, {"errors": [{"detail": f"boom {status}"}]}, headers)
    client = ClickSignClient(ClickSignSettings(access_token=TOKEN, api_root=clicksign_api.url))
    with pytest.raises(DocgError) as info:
        client.create_envelope(name="c", locale="en-US")
    assert (info.value.code, info.value.transient) == (code, transient)
    assert info.value.details["status_code"] == status
    assert f"boom {status}" in info.value.human
    assert translate(info.value, "pt-BR") != info.value.human  # a Portuguese version exists
    if status == 429:
        assert info.value.details["retry_after"] == "30"


def test_client_timeouts_are_transient(clicksign_api):
    clicksign_api.delay = 1.0
    client = ClickSignClient(ClickSignSettings(access_token=TOKEN, api_root=clicksign_api.url, timeout=0.2))
    with pytest.raises(DocgError) as info:
        client.list_envelopes()
    assert (info.value.code, info.value.transient) == ("clicksign.timeout", True)


def test_a_signed_file_not_ready_yet_is_transient(clicksign_api):
    clicksign_api.signed_ready = False
    client = ClickSignClient(ClickSignSettings(access_token=TOKEN, api_root=clicksign_api.url))
    envelope_id = client.create_envelope(name="c", locale="en-US")
    document_id = client.create_document(envelope_id=envelope_id, filename="c.pdf", pdf=PDF)
    with pytest.raises(DocgError) as info:
        client.signed_file_url(envelope_id=envelope_id, document_id=document_id)
    assert (info.value.code, info.value.transient) == ("clicksign.file_not_ready", True)


@pytest.mark.django_db
def test_connection_check_asks_clicksign_with_the_token(cast, clicksign_api):
    good = connection_test(connection=connection(cast))
    assert good.ok and good.code == "ok"
    assert [(r.method, r.path, r.headers["authorization"]) for r in clicksign_api.requests] == [
        ("GET", "/api/v3/envelopes", TOKEN)
    ]
    bad = connection_test(connection=connection(cast, access_token="expired"))
    assert not bad.ok and bad.code == "clicksign.unauthorized" and bad.details["status_code"] == 401
    clicksign_api.fail("GET /api/v3/envelopes", 503)
    down = connection_test(connection=connection(cast))
    assert not down.ok and down.details["transient"] is True
