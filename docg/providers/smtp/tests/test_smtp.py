"""smtp.send_email against a real SMTP server on loopback (aiosmtpd), run by the real engine."""

import subprocess

import pytest
from django.core.files.base import ContentFile

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.conftest import action, active_workflow
from docg.providers.recipients import split_addresses
from docg.providers.smtp.client import SmtpClient, SmtpSettings, translate
from docg.providers.smtp.handlers import message_id_for
from docg.providers.smtp.preflight import send_email_preflight
from tests.fixtures.engine import wait_for_status, wait_until
from tests.fixtures.processes import free_port
from tests.fixtures.smtp import smtp_credentials

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.NEEDS_REVIEW)
TERMINAL_EVENTS = {"execution.completed", "execution.failed", "execution.canceled"}


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    """A real PDF (LibreOffice's), so the test can check that the attachment opens."""
    from docg.documents.pdf import convert_to_pdf
    from docg.documents.tests.test_pdf import make_docx

    return convert_to_pdf(make_docx("Contract 2026-118", "Signed copy attached"), "contract.docx")


@pytest.fixture
def fast_retries(settings):
    settings.STEP_RETRY_BASE_SECONDS = 0.2


def _mailer(cast, server, organization=None, **extra):
    return connection_create(
        organization=organization or cast.acme,
        by=cast.alice,
        provider="smtp",
        name="Mail",
        credentials=smtp_credentials(server, **extra),
    )


def _document(organization, data: bytes, name="contract.pdf") -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name=name, content_type="application/pdf")
    document.size_bytes = len(data)
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    return document


def _send(connection, **parameters):
    defaults = {"to": "{{ trigger.email }}", "subject": "Your contract, {{ trigger.name }}", "text": "Hello"}
    return action("mail", "send_email", app="smtp", connection=connection, parameters={**defaults, **parameters})


def _run(cast, *nodes, trigger_data=None, dry_run=False):
    workflow = active_workflow(cast, *nodes)
    data = {"email": "ana@client.example", "name": "Ana", **(trigger_data or {})}
    execution = execution_start(workflow=workflow, trigger_data=data, by=cast.alice, dry_run=dry_run)
    return wait_for_status(execution.pk, *DONE, timeout=30)


def _statuses(execution) -> list[str]:
    """The run states in the order its live events carried them (repeats collapsed).

    Events are published after the commit that makes the row "completed", so the
    stream is read once it holds the run's terminal event, not as soon as the row says so.
    """

    def with_terminal_event():
        events = get_streams().read(execution_key(execution.pk))
        return events if any(event["event_type"] in TERMINAL_EVENTS for _, event in events) else None

    seen: list[str] = []
    for _, event in wait_until(with_terminal_event, timeout=10, what=f"the terminal event of {execution.pk}"):
        if not seen or seen[-1] != event["status"]:
            seen.append(event["status"])
    return seen


def _pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


@pytest.mark.django_db(transaction=True)
def test_it_delivers_text_html_and_the_pdf_to_to_cc_and_bcc(cast, worker, smtp_server, contract_pdf):
    document = _document(cast.acme, contract_pdf)
    node = _send(
        _mailer(cast, smtp_server),
        to="{{ trigger.email }}, Bruno <bruno@client.example>",
        cc=["legal@client.example"],
        bcc="archive@acme.example",
        html="<p>Hello <b>{{ trigger.name }}</b></p>",
        attachments=[str(document.pk)],
    )
    done = _run(cast, node)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    [received] = smtp_server.recorder.received
    assert received.mail_from == "contracts@acme.example"
    assert sorted(received.rcpt_tos) == sorted(
        ["ana@client.example", "bruno@client.example", "legal@client.example", "archive@acme.example"]
    )
    message = received.message
    assert message["Subject"] == "Your contract, Ana"
    assert message["To"] == "ana@client.example, Bruno <bruno@client.example>"
    assert message["Cc"] == "legal@client.example"
    assert message["Bcc"] is None and b"archive@acme.example" not in received.content
    assert message["X-Correlation-ID"] == str(done.correlation_id)
    assert message["X-Docg-Idempotency-Key"] == f"{done.pk}:mail:1"
    assert message.get_body(("plain",)).get_content().strip() == "Hello"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello <b>Ana</b></p>"
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/pdf", "contract.pdf")
    with document.file.open("rb") as handle:
        assert attachment.get_content() == handle.read()
    assert "Contract 2026-118" in _pdf_text(attachment.get_content())  # the attachment opens

    step = ExecutionStep.objects.get(execution=done, node_key="mail")
    state = step.data_out["delivery_state"]
    assert state["status"] == "sent"
    assert state["message_id"] == message["Message-ID"] == step.data_out["message_id"]
    assert sorted(state["accepted"]) == sorted(received.rcpt_tos)
    assert done.delivery_state["status"] == "sent"
    sent = AuditEvent.objects.get(organization=cast.acme, action="document.sent")
    assert sent.target_id == str(document.pk)
    assert sent.event_metadata["message_id"] == message["Message-ID"]


@pytest.mark.django_db(transaction=True)
def test_the_run_goes_sending_then_sent(cast, worker, smtp_server):
    done = _run(cast, _send(_mailer(cast, smtp_server)))
    assert done.status == ExecutionStatus.COMPLETED
    statuses = _statuses(done)
    assert statuses[-3:] == ["sending", "sent", "completed"], statuses


@pytest.mark.django_db(transaction=True)
def test_a_451_is_retried_and_the_message_then_goes_out_once(cast, worker, smtp_server, fast_retries):
    smtp_server.recorder.data_replies.append("451 4.3.0 Mailbox busy, try again later")
    done = _run(cast, _send(_mailer(cast, smtp_server)))
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    first, second = ExecutionStep.objects.filter(execution=done, node_key="mail").order_by("attempt")
    assert (first.status, first.error_code) == (StepStatus.FAILURE, "smtp.temporary_failure")
    assert "451" in first.error_human
    assert second.status == StepStatus.SUCCESS
    assert smtp_server.recorder.data_attempts == 2
    [received] = smtp_server.recorder.received
    # Both attempts carried the same Message-ID; the attempt shows in the idempotency header.
    assert received.message["X-Docg-Idempotency-Key"] == f"{done.pk}:mail:2"
    assert received.message["Message-ID"] == message_id_for(f"{done.pk}:mail:1", "contracts@acme.example")


@pytest.mark.django_db(transaction=True)
def test_a_550_fails_the_step_with_a_message_naming_the_recipient(cast, worker, smtp_server, fast_retries):
    smtp_server.recorder.rcpt_replies["gone@client.example"] = "550 5.1.1 <gone@client.example>: User unknown"
    done = _run(cast, _send(_mailer(cast, smtp_server), to="gone@client.example"))

    assert done.status == ExecutionStatus.FAILED
    [step] = ExecutionStep.objects.filter(execution=done, node_key="mail")  # permanent: no second attempt
    assert step.error_code == "smtp.recipient_refused"
    assert "gone@client.example" in step.error_human
    assert "550" in step.error_human
    assert done.delivery_state["status"] == "failed"
    assert smtp_server.recorder.received == []
    assert _statuses(done)[-2:] == ["sending", "failed"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("to", "trigger_email", "invalid"),
    [("ana@client..example", "x@y.example", "ana@client..example"), ("{{ trigger.email }}", "not-an-email", None)],
)
def test_an_invalid_address_stops_the_run_in_preflight(cast, worker, smtp_server, to, trigger_email, invalid):
    done = _run(cast, _send(_mailer(cast, smtp_server), to=to), trigger_data={"email": trigger_email})

    assert done.status == ExecutionStatus.NEEDS_REVIEW
    [issue] = done.preflight_summary["blocking"]
    assert (issue["code"], issue["domain"], issue["severity"]) == ("delivery.invalid_email", "delivery", "blocking")
    assert issue["details_tech"]["invalid"] == [invalid or trigger_email]
    assert (invalid or trigger_email) in issue["message_human"]
    assert not ExecutionStep.objects.filter(execution=done, node_key="mail").exists()
    assert smtp_server.recorder.data_attempts == 0


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_sends_nothing(cast, worker, smtp_server):
    done = _run(cast, _send(_mailer(cast, smtp_server)), dry_run=True)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    step = ExecutionStep.objects.get(execution=done, node_key="mail")
    assert step.data_out["dry_run"] is True
    assert step.data_out["delivery_state"]["status"] == "dry_run"
    assert step.data_out["to"] == ["ana@client.example"]
    assert smtp_server.recorder.data_attempts == 0
    assert "sent" not in _statuses(done)


@pytest.mark.django_db(transaction=True)
def test_another_organizations_document_cannot_be_attached(cast, worker, smtp_server):
    foreign = _document(cast.globex, b"%PDF-1.4 Globex only")
    done = _run(cast, _send(_mailer(cast, smtp_server), attachments=[str(foreign.pk)]))
    assert (done.status, done.last_error_code) == (ExecutionStatus.FAILED, "document.not_found")
    assert smtp_server.recorder.data_attempts == 0


# --- preflight, client and helpers without the engine -----------------------------


@pytest.mark.django_db
def test_preflight_wants_an_smtp_connection(cast, smtp_server):
    params = {"to": "ana@client.example", "subject": "s", "text": "t"}
    node = action("mail", "send_email", app="smtp", parameters=params)
    [issue] = send_email_preflight(node=node, organization=cast.acme, trigger_data={}, language="en")
    assert (issue["code"], issue["domain"]) == ("connection.inactive", "permissions")

    drive = connection_create(organization=cast.acme, by=cast.alice, provider="google", name="Drive")
    [issue] = send_email_preflight(
        node={**node, "connection": str(drive.pk)}, organization=cast.acme, trigger_data={}, language="pt-BR"
    )
    assert issue["code"] == "connection.inactive"
    assert "não SMTP" in issue["message_human"]

    mailer = _mailer(cast, smtp_server)
    ok = {**node, "connection": str(mailer.pk)}
    assert send_email_preflight(node=ok, organization=cast.acme, trigger_data={}, language="en") == []
    mailer.status = ConnectionStatus.REVOKED  # the generic check reports it; no double report here
    mailer.save()
    assert send_email_preflight(node=ok, organization=cast.acme, trigger_data={}, language="en") == []


@pytest.mark.django_db
def test_preflight_checks_what_it_can_know_before_the_run(cast, smtp_server):
    connection = str(_mailer(cast, smtp_server).pk)

    def issues(trigger_data=None, **params):
        node = action("mail", "send_email", app="smtp", connection=connection, parameters=params)
        return send_email_preflight(node=node, organization=cast.acme, trigger_data=trigger_data or {}, language="en")

    assert issues(to="a@x.example; B <b@y.example>", cc=["c@z.example"]) == []
    assert issues(to="{{ steps.lookup.email }}") == []  # only the run knows: checked when the step runs
    assert issues(to="{{ trigger.missing }}") == []  # reported as data.unresolved_variables instead
    [bad] = issues(to="a@x.example", bcc=["ok@x.example", "{{ trigger.boss }}"], trigger_data={"boss": "boss@"})
    assert (bad["details_tech"]["field"], bad["details_tech"]["invalid"]) == ("bcc", ["boss@"])
    [empty] = issues(to="{{ trigger.email }}", trigger_data={"email": ""})
    assert empty["code"] == "delivery.invalid_email"


def test_recipient_strings_split_on_commas_and_semicolons():
    assert split_addresses("a@x.example, Bia <b@y.example>;c@z.example") == [
        ("", "a@x.example"),
        ("Bia", "b@y.example"),
        ("", "c@z.example"),
    ]
    assert split_addresses(["a@x.example", ""]) == [("", "a@x.example")]
    assert split_addresses(None) == []


def test_an_unreachable_server_is_a_transient_error(settings):
    settings.SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    from email.message import EmailMessage

    with pytest.raises(DocgError) as caught:
        SmtpClient(smtp).send(EmailMessage(), sender="a@x.example", recipients=["b@y.example"])
    assert (caught.value.code, caught.value.transient) == ("smtp.unavailable", True)
    assert translate(caught.value, "pt-BR").startswith("Não foi possível falar com o servidor de e-mail 127.0.0.1:")


def test_the_message_id_is_the_same_for_every_attempt_of_a_step():
    first = message_id_for("exec-1:mail:1", "contracts@acme.example")
    assert first == message_id_for("exec-1:mail:3", "contracts@acme.example")
    assert first != message_id_for("exec-1:other:1", "contracts@acme.example")
    assert first.startswith("<docg.") and first.endswith("@acme.example>")


@pytest.mark.django_db
def test_preflight_lets_a_step_send_only_as_the_connections_addresses(cast, smtp_server):
    mailer = _mailer(cast, smtp_server, allowed_from=["sales@acme.example"])

    def issues(sender):
        node = {**_send(mailer, sender=sender), "connection": str(mailer.pk)}
        return send_email_preflight(node=node, organization=cast.acme, trigger_data={}, language="en")

    assert issues("") == [] and issues("Acme <contracts@acme.example>") == [] and issues("SALES@acme.example") == []
    [issue] = issues("ceo@elsewhere.example")
    assert (issue["code"], issue["domain"], issue["location"]) == (
        "delivery.sender_not_allowed",
        "delivery",
        {"parameters": ["sender"]},
    )
    assert "contracts@acme.example, sales@acme.example" in issue["message_human"]


@pytest.mark.django_db(transaction=True)
def test_the_step_sender_is_the_messages_from(cast, worker, smtp_server):
    mailer = _mailer(cast, smtp_server, allowed_from="sales@acme.example")
    execution = _run(cast, _send(mailer, sender="Acme Sales <sales@acme.example>"))
    assert execution.status == ExecutionStatus.COMPLETED, execution.last_error_human
    [received] = smtp_server.recorder.received
    assert received.mail_from == "sales@acme.example"
    assert "Acme Sales <sales@acme.example>" in received.message["From"]
