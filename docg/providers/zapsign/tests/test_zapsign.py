"""zapsign.create_document against a loopback fake of the ZapSign API, and ZapSign webhook deliveries."""

import base64
import json

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.builders import action, active_workflow
from docg.providers.zapsign import handlers
from docg.providers.zapsign.client import ZapSignClient, ZapSignSettings
from tests.fixtures.engine import wait_for_status

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SECRET = "whsec-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c1e"
SIGNERS = [
    {"name": "Ana Souza", "email": "ana@client.example"},
    {"name": "Bruno Lima", "email": "bruno@client.example"},
]
URLS = "docg.providers.zapsign.tests.urls"


def _connection(cast, fake, **credentials):
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="zapsign",
        name="ZapSign",
        credentials={"api_token": "zs-api-token", "webhook_secret": SECRET, **credentials},
        config={"base_url": fake.base_url},
    )


def _document(organization) -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name="contract.pdf", content_type="application/pdf")
    document.size_bytes = len(PDF)
    document.file.save("contract.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


def _node(connection, document, **extra):
    parameters = {"document_id": str(document.pk), "signers": SIGNERS, "name": "Contract {{ trigger.number }}", **extra}
    return action("sign", "create_document", app="zapsign", connection=connection, parameters=parameters)


def _hook(connection, body, *, token=SECRET, header=SECRET):
    headers = {"HTTP_X_DOCG_WEBHOOK_SECRET": header} if header is not None else {}
    return Client().post(
        f"/hooks/zapsign/{connection.pk}/{token}", data=json.dumps(body), content_type="application/json", **headers
    )


def _signed(doc_token, who, signers, event="doc_signed"):
    return {
        "event_type": event,
        "token": doc_token,
        "status": "pending",
        "signers": signers,
        "signer_who_signed": {"token": who, "status": "signed"},
    }


def _state():
    return sorted(SignatureRequest.objects.values_list("external_id", "status"))


def _event_types(execution) -> list[str]:
    return [event["event_type"] for _, event in get_streams().read(execution_key(execution.pk))]


def _context(cast, connection, execution, *, dry_run=False):
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": "sign"},
        organization=cast.acme,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:sign:1",
        correlation_id=str(execution.correlation_id),
        language="en",
        connection=connection,
    )


def _signing_execution(cast, connection, document):
    workflow = active_workflow(cast, _node(connection, document))
    execution = execution_start(workflow=workflow, trigger_data={"number": "7"}, by=cast.alice)
    execution = WorkflowExecution.objects.get(pk=execution.pk)
    execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    return execution


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_run_creates_the_zapsign_document_then_webhooks_sign_it_once(cast, worker, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    workflow = active_workflow(cast, _node(connection, document))
    execution = execution_start(workflow=workflow, trigger_data={"number": "2026-118"}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.SIGNING, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    # The run waits in `signing` until every signer has signed.
    assert done.status == ExecutionStatus.SIGNING, (done.last_error_code, done.last_error_human)
    assert done.steps.get(node_key="sign").status == "waiting"

    [call] = zapsign_api.requests
    assert (call.method, call.path) == ("POST", "/api/v1/docs/")
    assert call.headers["authorization"] == "Bearer zs-api-token"
    assert call.headers["x-correlation-id"] == str(done.correlation_id)
    assert call.headers["content-type"] == "application/json"
    assert set(call.body) == {"name", "base64_pdf", "signers", "external_id"}
    assert call.body["name"] == "Contract 2026-118"
    assert base64.b64decode(call.body["base64_pdf"]) == PDF
    assert call.body["signers"] == SIGNERS
    assert call.body["external_id"] == f"{done.pk}:sign"

    requests = list(SignatureRequest.objects.filter(execution=done).order_by("signer_email"))
    assert [(r.signer_email, r.status, r.provider) for r in requests] == [
        ("ana@client.example", "pending", "zapsign"),
        ("bruno@client.example", "pending", "zapsign"),
    ]
    doc_token = requests[0].envelope_id
    assert doc_token and {r.envelope_id for r in requests} == {doc_token}
    assert all(r.external_id and r.sign_url.startswith("https://app.zapsign.com.br/") for r in requests)
    step_out = done.steps.get(node_key="sign").data_out
    assert step_out["envelope_id"] == doc_token
    assert [s["email"] for s in step_out["signers"]] == [s["email"] for s in SIGNERS]
    assert AuditEvent.objects.filter(action="signature.requested").count() == 2
    assert _event_types(done).count("signature.requested") == 2
    assert "signing" in [event["status"] for _, event in get_streams().read(execution_key(done.pk))]

    ana, bruno = requests
    signers = [{"token": ana.external_id, "status": "signed"}, {"token": bruno.external_id, "status": "new"}]
    before = _state()

    # Forged: wrong header, missing header, wrong URL token, unknown connection → refused, nothing changes.
    assert _hook(connection, _signed(doc_token, ana.external_id, signers), header="guess").status_code == 401
    assert _hook(connection, _signed(doc_token, ana.external_id, signers), header=None).status_code == 401
    assert _hook(connection, _signed(doc_token, ana.external_id, signers), token="guess").status_code == 404
    assert _state() == before
    assert AuditEvent.objects.filter(action="signature.signed").count() == 0

    answer = _hook(connection, _signed(doc_token, ana.external_id, signers))
    assert answer.status_code == 200, answer.content
    assert answer.json()["changed"] == [str(ana.pk)] and answer.json()["completed"] is False
    ana.refresh_from_db()
    assert ana.status == "signed" and ana.signed_at is not None

    # Replayed: the same delivery again changes nothing.
    after_first = (_state(), AuditEvent.objects.count(), len(_event_types(done)))
    replay = _hook(connection, _signed(doc_token, ana.external_id, signers))
    assert replay.status_code == 200 and replay.json()["changed"] == []
    assert (_state(), AuditEvent.objects.count(), len(_event_types(done))) == after_first

    signers[1]["status"] = "signed"
    last = _hook(connection, _signed(doc_token, bruno.external_id, signers))
    assert last.json()["changed"] == [str(bruno.pk)] and last.json()["completed"] is True
    assert {status for _, status in _state()} == {"signed"}
    assert AuditEvent.objects.filter(action="signature.signed").count() == 2
    types = _event_types(done)
    assert types.count("signature.signed") == 2 and types.count("signature.completed") == 1
    # The last signature releases the run: signed, then on to the end.
    finished = wait_for_status(done.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert finished.status == ExecutionStatus.COMPLETED
    assert finished.steps.get(node_key="sign").status == "success"
    statuses = [event["status"] for _, event in get_streams().read(execution_key(done.pk))]
    assert statuses.index("signing") < statuses.index("signed") < statuses.index("completed")


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_every_signer_signed_moves_a_signing_run_to_signed(cast, zapsign_api, django_capture_on_commit_callbacks):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    result = handlers.create_document(
        _context(cast, connection, execution), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    assert result.status == ExecutionStatus.SIGNING
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)  # what the engine does
    doc_token = result.output["envelope_id"]
    tokens = [s["token"] for s in result.output["signers"]]
    # ZapSign's doc_signed without signer_who_signed: the signers whose status is "signed".
    body = {
        "event_type": "doc_signed",
        "token": doc_token,
        "signers": [{"token": t, "status": "signed"} for t in tokens],
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = _hook(connection, body)
    assert answer.status_code == 200 and answer.json()["completed"] is True
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SIGNED
    assert _event_types(execution)[-3:] == ["signature.signed", "signature.signed", "signature.completed"]
    with django_capture_on_commit_callbacks(execute=True):
        assert _hook(connection, body).json()["changed"] == []
    assert _event_types(execution).count("signature.completed") == 1


def _sent_to_two(cast, zapsign_api):
    """A run waiting in `signing` on a ZapSign document sent to Ana and Bruno: (connection, run, the step's result)."""
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    result = handlers.create_document(
        _context(cast, connection, execution), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    execution_transition(execution=execution, target=ExecutionStatus.SIGNING)
    return connection, execution, result


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_a_refusal_declines_the_signer_and_the_run_keeps_signing(cast, zapsign_api):
    connection, execution, result = _sent_to_two(cast, zapsign_api)
    ana_token, bruno_token = (s["token"] for s in result.output["signers"])
    body = {
        "event_type": "doc_refused",
        "token": result.output["envelope_id"],
        "signers": [{"token": ana_token, "status": "new"}, {"token": bruno_token, "status": "refused"}],
    }
    assert _hook(connection, body).status_code == 200
    assert _hook(connection, body).json()["changed"] == []
    assert dict(SignatureRequest.objects.values_list("external_id", "status")) == {
        ana_token: "pending",
        bruno_token: "declined",
    }
    assert AuditEvent.objects.filter(action="signature.declined").count() == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SIGNING
    # A later "signed" for the declined signer does not undo the refusal.
    assert _hook(connection, _signed(result.output["envelope_id"], bruno_token, [])).json()["changed"] == []


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_deliveries_for_other_connections_or_junk_change_nothing(cast, zapsign_api):
    connection = _connection(cast, zapsign_api)
    other = _connection(cast, zapsign_api, webhook_secret="another-secret-0123456789abcdef")
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    result = handlers.create_document(
        _context(cast, connection, execution), {"document_id": str(document.pk), "signers": SIGNERS[:1]}
    )
    [signer] = result.output["signers"]
    body = _signed(result.output["envelope_id"], signer["token"], [])
    # The other connection's valid secret does not reach this connection's envelope.
    assert _hook(
        other, body, token=other.credentials["webhook_secret"], header=other.credentials["webhook_secret"]
    ).json()["ignored"]
    # The other connection's secret on this connection's URL is refused.
    assert _hook(connection, body, token="another-secret-0123456789abcdef").status_code == 404
    assert _hook(connection, {"event_type": "email_bounce", "token": result.output["envelope_id"]}).json()["ignored"]
    bad = Client().post(
        f"/hooks/zapsign/{connection.pk}/{SECRET}",
        data="[1",
        content_type="application/json",
        HTTP_X_DOCG_WEBHOOK_SECRET=SECRET,
    )
    assert bad.status_code == 400
    assert Client().get(f"/hooks/zapsign/{connection.pk}/{SECRET}").status_code == 405
    assert set(SignatureRequest.objects.values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_dry_run_calls_nothing(cast, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    result = handlers.create_document(
        _context(cast, connection, execution, dry_run=True), {"document_id": str(document.pk), "signers": SIGNERS}
    )
    assert result.output["dry_run"] is True and result.status == ExecutionStatus.RUNNING
    assert zapsign_api.requests == [] and not SignatureRequest.objects.exists()


@pytest.mark.django_db
def test_a_redelivered_step_does_not_create_a_second_document(cast, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    params = {"document_id": str(document.pk), "signers": SIGNERS}
    first = handlers.create_document(_context(cast, connection, execution), params)
    again = handlers.create_document(_context(cast, connection, execution), params)
    assert len(zapsign_api.requests) == 1 and first.output["envelope_id"] == again.output["envelope_id"]
    assert SignatureRequest.objects.count() == 2


@pytest.mark.django_db
def test_unknown_document_is_a_permanent_error(cast, zapsign_api):
    connection = _connection(cast, zapsign_api)
    document = _document(cast.acme)
    execution = _signing_execution(cast, connection, document)
    with pytest.raises(DocgError) as info:
        handlers.create_document(
            _context(cast, connection, execution),
            {"document_id": "0b5e7c1a-0000-4000-8000-000000000000", "signers": SIGNERS},
        )
    assert info.value.code == "document.not_found" and not info.value.transient
    assert zapsign_api.requests == []


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "transient"),
    [
        (403, {"detail": "Você não tem permissão."}, {}, "zapsign.unauthorized", False),
        (400, {"detail": "signers: campo obrigatório"}, {}, "zapsign.rejected", False),
        (429, {"detail": "Request was throttled."}, {"Retry-After": "30"}, "zapsign.rate_limited", True),
        (500, {"detail": "Internal error"}, {}, "zapsign.unavailable", True),
        (503, {"detail": "Unavailable"}, {}, "zapsign.unavailable", True),
    ],
)
def test_client_classifies_errors(zapsign_api, status, body, headers, code, transient):
    zapsign_api.failures.append((status, body, headers))
    client = ZapSignClient(ZapSignSettings(api_token="zs-api-token", base_url=zapsign_api.base_url))
    with pytest.raises(DocgError) as info:
        client.create_document(name="c", pdf=PDF, signers=SIGNERS, external_id="x")
    assert (info.value.code, info.value.transient) == (code, transient)
    assert info.value.details["status_code"] == status
    if status == 429:
        assert info.value.details["retry_after"] == "30"


def test_client_wrong_token_is_permanent_and_timeouts_are_transient(zapsign_api):
    wrong = ZapSignClient(ZapSignSettings(api_token="nope", base_url=zapsign_api.base_url))
    with pytest.raises(DocgError) as info:
        wrong.create_document(name="c", pdf=PDF, signers=SIGNERS, external_id="x")
    assert (info.value.code, info.value.transient) == ("zapsign.unauthorized", False)
    zapsign_api.delay = 1.0
    slow = ZapSignClient(ZapSignSettings(api_token="zs-api-token", base_url=zapsign_api.base_url, timeout=0.2))
    with pytest.raises(DocgError) as info:
        slow.create_document(name="c", pdf=PDF, signers=SIGNERS, external_id="x")
    assert (info.value.code, info.value.transient) == ("zapsign.timeout", True)


def test_loopback_is_refused_without_the_allow_list(settings, zapsign_api):
    settings.SSRF_ALLOWED_NETWORKS = []
    client = ZapSignClient(ZapSignSettings(api_token="zs-api-token", base_url=zapsign_api.base_url))
    with pytest.raises(DocgError) as info:
        client.create_document(name="c", pdf=PDF, signers=SIGNERS, external_id="x")
    assert info.value.code == "zapsign.blocked_address" and zapsign_api.requests == []


@pytest.mark.urls(URLS)
@pytest.mark.django_db
@pytest.mark.parametrize(
    "viewer",
    [
        {"status": "link-opened"},
        {"status": "new", "times_viewed": 2, "last_view_at": "2026-01-01T10:00:00Z"},
    ],
)
def test_doc_viewed_shows_the_signer_as_viewed_once(cast, zapsign_api, viewer, django_capture_on_commit_callbacks):
    connection, execution, result = _sent_to_two(cast, zapsign_api)
    ana_token, bruno_token = (s["token"] for s in result.output["signers"])
    body = {
        "event_type": "doc_viewed",
        "token": result.output["envelope_id"],
        "signers": [{"token": ana_token, **viewer}, {"token": bruno_token, "status": "new", "times_viewed": 0}],
    }
    ana = SignatureRequest.objects.get(external_id=ana_token)
    with django_capture_on_commit_callbacks(execute=True):
        assert _hook(connection, body).json()["changed"] == [str(ana.pk)]
        assert _hook(connection, {**body, "event_type": "doc_read_confirmation"}).json()["changed"] == []
    execution.refresh_from_db()
    statuses = {s["email"]: s["status"] for s in execution.signature_state["envelopes"][0]["signers"]}
    assert statuses == {"ana@client.example": "viewed", "bruno@client.example": "pending"}
    assert _event_types(execution).count("signature.viewed") == 1
    assert AuditEvent.objects.filter(action="signature.viewed").count() == 1
    assert _state() == sorted([(ana_token, "pending"), (bruno_token, "pending")])
