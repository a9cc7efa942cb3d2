"""The Microsoft actions' handlers and preflight hooks against the loopback fake of Graph."""

import base64

import pytest

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus
from docg.documents.models import GeneratedDocument
from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import TRIGGER as TRIGGER_NODE
from docg.providers.microsoft import handlers
from docg.providers.microsoft.preflight import fill_preflight, send_mail_preflight

from .helpers import (
    TRIGGER,
    context,
    docx_text,
    fill_node,
    mail_node,
    microsoft_connection,
    pptx_text,
    running_execution,
    stored_pdf,
    template,
)

pytestmark = pytest.mark.django_db


def _read(document: GeneratedDocument) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def test_fill_document_uploads_the_filled_docx_and_stores_microsofts_pdf(cast, graph_api):
    connection = microsoft_connection(cast)
    agreement = template(cast)
    execution = running_execution(cast, fill_node(connection, agreement))
    params = {"template_id": str(agreement.pk), "data": TRIGGER, "filename": "Agreement 2026-118"}

    result = handlers.fill_document(context(cast, connection, execution), params)

    upload, convert = graph_api.requests
    remote = f"Agreement 2026-118 ({execution.pk}).docx"
    assert (upload.method, upload.path) == ("PUT", f"/v1.0/me/drive/root:/docg/{remote}:/content")
    assert upload.query == {"@microsoft.graph.conflictBehavior": "replace"}
    assert upload.headers["x-correlation-id"] == str(execution.correlation_id)
    text = docx_text(upload.body)  # the file Microsoft got is filled in, not the raw template
    assert "Service Agreement 2026-118" in text and "Client: Ana Souza" in text and "{{" not in text
    [item_id] = graph_api.items
    assert (convert.method, convert.path, convert.query) == (
        "GET",
        f"/v1.0/me/drive/items/{item_id}/content",
        {"format": "pdf"},
    )

    assert result.status == "ready"
    document = GeneratedDocument.objects.get(pk=result.output["document_id"])
    assert (document.name, document.content_type, document.node_key) == (
        "Agreement 2026-118.pdf",
        "application/pdf",
        "fill",
    )
    assert (document.execution_id, document.template_id) == (execution.pk, agreement.pk)
    assert _read(document) == graph_api.pdf_of(item_id)
    assert result.output["drive_item_id"] == item_id and result.output["remote_name"] == remote
    assert result.output["web_url"].endswith(remote)
    assert AuditEvent.objects.filter(action="document.generated", target_id=str(document.pk)).exists()

    # A redelivered step reuses its PDF: no second upload or conversion.
    again = handlers.fill_document(context(cast, connection, execution), params)
    assert again.output["document_id"] == str(document.pk) and again.output["reused"] is True
    assert len(graph_api.requests) == 2


def test_fill_presentation_goes_to_the_chosen_sharepoint_folder(cast, graph_api):
    connection = microsoft_connection(cast)
    proposal = template(cast, "pptx")
    node = fill_node(connection, proposal, app="microsoft_powerpoint", operation="fill_presentation")
    execution = running_execution(cast, node)
    params = {"template_id": str(proposal.pk), "folder": "Sales/Proposals 2026", "drive_id": "b!Sales"}

    result = handlers.fill_presentation(context(cast, connection, execution), params)

    upload, convert = graph_api.requests
    assert upload.path == f"/v1.0/drives/b!Sales/root:/Sales/Proposals 2026/Proposal ({execution.pk}).pptx:/content"
    assert upload.headers["content-type"].endswith("presentationml.presentation")
    assert "Proposal for Ana Souza" in pptx_text(upload.body)
    assert convert.path.startswith("/v1.0/drives/b!Sales/items/")
    document = GeneratedDocument.objects.get(pk=result.output["document_id"])
    assert document.name == "Proposal.pdf" and _read(document).startswith(b"%PDF-")


def test_a_dry_run_fills_the_template_but_sends_nothing_to_microsoft(cast, graph_api):
    connection = microsoft_connection(cast)
    agreement = template(cast)
    execution = running_execution(cast, fill_node(connection, agreement), dry_run=True)

    result = handlers.fill_document(
        context(cast, connection, execution, dry_run=True), {"template_id": str(agreement.pk), "data": TRIGGER}
    )

    assert graph_api.requests == []
    document = GeneratedDocument.objects.get(pk=result.output["document_id"])
    assert result.output["dry_run"] is True and document.name == "Service agreement.docx"
    assert "Client: Ana Souza" in docx_text(_read(document))


def test_a_missing_permission_fails_the_step_in_the_organizations_language(cast, graph_api):
    connection = microsoft_connection(cast)
    agreement = template(cast)
    execution = running_execution(cast, fill_node(connection, agreement))
    graph_api.fail_next(403)

    with pytest.raises(DocgError) as caught:
        handlers.fill_document(
            context(cast, connection, execution, language="pt-br"), {"template_id": str(agreement.pk), "data": TRIGGER}
        )
    error = caught.value
    assert (error.code, error.transient) == ("microsoft.insufficient_permissions", False)
    assert error.human.startswith("A conta Microsoft não tem uma permissão de que o docg precisa")
    assert not GeneratedDocument.objects.filter(execution=execution).exists()


def test_an_expired_connection_is_oauth_expired_before_any_call(cast, graph_api):
    connection = microsoft_connection(cast, access_token="old", refresh_token="", expires_at=1_000_000)
    agreement = template(cast)
    execution = running_execution(cast, fill_node(connection, agreement))
    with pytest.raises(DocgError) as caught:
        handlers.fill_document(context(cast, connection, execution), {"template_id": str(agreement.pk)})
    assert (caught.value.code, caught.value.transient) == ("oauth_expired", False)
    assert "reconnect" in caught.value.human
    assert graph_api.requests == []

    connection.status = ConnectionStatus.EXPIRED
    with pytest.raises(DocgError) as caught:
        handlers.fill_document(context(cast, connection, execution), {"template_id": str(agreement.pk)})
    assert caught.value.code == "oauth_expired"


def test_another_organizations_template_is_not_found(cast, graph_api):
    connection = microsoft_connection(cast)
    foreign = template(cast, organization=cast.globex)
    execution = running_execution(cast, fill_node(connection, template(cast)))
    with pytest.raises(DocgError) as caught:
        handlers.fill_document(context(cast, connection, execution), {"template_id": str(foreign.pk)})
    assert caught.value.code == "template.not_found" and not caught.value.transient
    assert graph_api.requests == []


def test_send_mail_posts_the_documented_message_with_the_pdf_attached(cast, graph_api):
    connection = microsoft_connection(cast)
    pdf = stored_pdf(cast.acme)
    execution = running_execution(cast, mail_node(connection))
    params = {
        "to": "Ana Souza <ana@client.example>, bruno@client.example",
        "cc": ["legal@client.example"],
        "subject": "Agreement\n2026-118",
        "body": "<p>Dear Ana</p>",
        "attachments": [str(pdf.pk)],
    }

    result = handlers.send_mail(context(cast, connection, execution, key="mail"), params)

    [call] = graph_api.requests
    assert (call.method, call.path) == ("POST", "/v1.0/me/sendMail")
    assert call.headers["authorization"] == "Bearer ms-access-token"
    assert call.headers["x-correlation-id"] == str(execution.correlation_id)
    body = call.json()
    assert body["saveToSentItems"] is True
    message = body["message"]
    assert message["subject"] == "Agreement 2026-118"  # no line breaks smuggled into a header
    assert message["body"] == {"contentType": "HTML", "content": "<p>Dear Ana</p>"}
    assert message["toRecipients"] == [
        {"emailAddress": {"address": "ana@client.example", "name": "Ana Souza"}},
        {"emailAddress": {"address": "bruno@client.example"}},
    ]
    assert message["ccRecipients"] == [{"emailAddress": {"address": "legal@client.example"}}]
    assert "bccRecipients" not in message
    [attachment] = message["attachments"]
    assert attachment["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert (attachment["name"], attachment["contentType"]) == ("contract.pdf", "application/pdf")
    assert base64.b64decode(attachment["contentBytes"]) == _read(pdf)

    assert result.status == "sent"
    assert result.output["delivery_state"]["status"] == "sent" and result.delivery_state["status"] == "sent"
    execution.refresh_from_db()
    assert execution.delivery_state is None  # the engine keeps what the result reports; a handler writes no run state
    sent = AuditEvent.objects.get(action="document.sent")
    assert sent.target_id == str(pdf.pk) and sent.event_metadata["provider"] == "outlook"


def test_send_mail_as_plain_text_without_a_copy_in_sent_items(cast, graph_api):
    connection = microsoft_connection(cast)
    execution = running_execution(cast, mail_node(connection))
    params = {"to": "ana@client.example", "subject": "Hi", "body": "Hello", "body_type": "text"}
    params["save_to_sent_items"] = False
    handlers.send_mail(context(cast, connection, execution, key="mail"), params)
    body = graph_api.requests[0].json()
    assert body["message"]["body"] == {"contentType": "Text", "content": "Hello"}
    assert body["saveToSentItems"] is False and "attachments" not in body["message"]


def test_a_dry_run_mails_nothing(cast, graph_api):
    connection = microsoft_connection(cast)
    execution = running_execution(cast, mail_node(connection), dry_run=True)
    params = {
        "to": "ana@client.example",
        "subject": "Hi",
        "body": "Hello",
        "attachments": str(stored_pdf(cast.acme).pk),
    }
    result = handlers.send_mail(context(cast, connection, execution, key="mail", dry_run=True), params)
    assert graph_api.requests == [] and graph_api.sent == []
    assert result.status == "running" and result.output["delivery_state"]["status"] == "dry_run"


def test_send_mail_refuses_bad_addresses_and_foreign_documents(cast, graph_api):
    connection = microsoft_connection(cast)
    execution = running_execution(cast, mail_node(connection))
    ctx = context(cast, connection, execution, key="mail")
    with pytest.raises(DocgError) as caught:
        handlers.send_mail(ctx, {"to": "ana@client..example", "subject": "Hi", "body": "x"})
    assert caught.value.code == "delivery.invalid_email" and "ana@client..example" in caught.value.human
    foreign = stored_pdf(cast.globex)
    with pytest.raises(DocgError) as caught:
        handlers.send_mail(
            ctx, {"to": "ana@client.example", "subject": "Hi", "body": "x", "attachments": [str(foreign.pk)]}
        )
    assert caught.value.code == "document.not_found"
    assert graph_api.requests == []


def test_a_throttled_send_is_retried_later_and_remembered(cast, graph_api):
    connection = microsoft_connection(cast)
    execution = running_execution(cast, mail_node(connection))
    graph_api.fail_next(429, headers={"Retry-After": "12"})
    with pytest.raises(DocgError) as caught:
        handlers.send_mail(
            context(cast, connection, execution, key="mail"), {"to": "a@b.example", "subject": "s", "body": "b"}
        )
    assert (caught.value.code, caught.value.transient) == ("rate_limit", True)
    assert caught.value.details["retry_after"] == "12"
    state = caught.value.details["delivery_state"]  # the engine keeps it as the run's delivery_state
    assert state["status"] == "retrying" and state["error_code"] == "rate_limit"
    assert graph_api.sent == []


# --- preflight -----------------------------------------------------------------------------


def test_fill_preflight_reports_a_missing_template_and_a_missing_connection(cast):
    node = fill_node(None, template(cast))
    node["parameters"]["template_id"] = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    issues = fill_preflight("docx")(node=node, organization=cast.acme, trigger_data=TRIGGER, language="en")
    assert [(i["code"], i["domain"]) for i in issues] == [
        ("template.not_found", "template"),
        ("connection.inactive", "permissions"),
    ]
    assert "no Microsoft connection" in issues[1]["message_human"]


def test_fill_preflight_reports_unresolved_fields_and_a_connection_to_another_provider(cast):
    from docg.connectors.services import connection_create

    smtp = connection_create(organization=cast.acme, by=cast.alice, provider="smtp", name="Mail", credentials={})
    node = fill_node(str(smtp.pk), template(cast))
    issues = fill_preflight("docx")(node=node, organization=cast.acme, trigger_data={"customer": {}}, language="pt-br")
    codes = [i["code"] for i in issues]
    assert codes == ["data.unresolved_variables", "connection.inactive"]
    assert "não Microsoft" in issues[1]["message_human"]


def test_an_unusable_sign_in_is_oauth_expired_in_preflight(cast):
    dead = microsoft_connection(cast, access_token="old", refresh_token="", expires_at=1_000_000)
    node = fill_node(str(dead.pk), template(cast))
    [issue] = fill_preflight("docx")(node=node, organization=cast.acme, trigger_data=TRIGGER, language="en")
    assert (issue["code"], issue["domain"]) == ("oauth_expired", "permissions")

    # A connection marked expired is reported once, by the generic check, with the reconnect action.
    live = microsoft_connection(cast)
    live.status = ConnectionStatus.EXPIRED
    live.save(update_fields=["status"])
    nodes = [TRIGGER_NODE, fill_node(str(live.pk), template(cast))]
    summary = preflight_check(organization=cast.acme, nodes=nodes, trigger_data=TRIGGER)
    assert [i["code"] for i in summary["blocking"]] == ["oauth_expired"]
    assert summary["recommended_actions"][0]["action"] == "reconnect_provider"


def test_send_mail_preflight_checks_the_addresses_it_can_know_now(cast):
    connection = microsoft_connection(cast)
    node = mail_node(str(connection.pk), cc="legal@@client.example", bcc="{{ steps.lookup.email }}")
    trigger = {**TRIGGER, "customer": {"name": "Ana", "email": "not-an-email"}}
    issues = send_mail_preflight(node=node, organization=cast.acme, trigger_data=trigger, language="en")
    assert [(i["code"], i["details_tech"]["field"], i["details_tech"]["invalid"]) for i in issues] == [
        ("delivery.invalid_email", "to", ["not-an-email"]),
        ("delivery.invalid_email", "cc", ["legal@@client.example"]),
    ]
    assert (
        send_mail_preflight(
            node=node | {"parameters": {**node["parameters"], "cc": ""}},
            organization=cast.acme,
            trigger_data=TRIGGER,
            language="en",
        )
        == []
    )


def test_send_mail_preflight_lets_a_step_send_only_as_the_mailbox(cast):
    connection = microsoft_connection(cast)
    connection.config = {"account": "ana@acme.example"}
    connection.save()

    def issues(sender):
        node = mail_node(str(connection.pk), sender=sender)
        return send_mail_preflight(node=node, organization=cast.acme, trigger_data=TRIGGER, language="en")

    assert issues("") == [] and issues("Ana <ANA@acme.example>") == []
    [issue] = issues("boss@acme.example")
    assert (issue["code"], issue["domain"]) == ("delivery.sender_not_allowed", "delivery")
    assert "ana@acme.example" in issue["message_human"]


def test_the_step_sender_is_the_graph_messages_from():
    params = {"subject": "s", "body": "b", "sender": "Ana Souza <ana@acme.example>"}
    message = handlers.build_message(params, {"to": [("", "x@client.example")], "cc": [], "bcc": []}, [])
    assert message["from"] == {"emailAddress": {"address": "ana@acme.example", "name": "Ana Souza"}}
    assert "from" not in handlers.build_message({**params, "sender": ""}, {"to": [], "cc": [], "bcc": []}, [])
