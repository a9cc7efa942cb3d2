"""Google Docs / Slides / Drive / Gmail actions against a loopback fake of the Google APIs."""

import base64
import email
from email import policy

import pytest

from docg.audit.models import AuditEvent
from docg.common.errors import DocgError
from docg.documents.models import GeneratedDocument
from docg.providers.google import handlers_delivery, handlers_documents
from docg.providers.google.tests.fake import ERRORS, TOKEN, not_found
from docg.providers.google.tests.helpers import (
    DOC_TEMPLATE,
    FOLDER,
    SLIDES_TEMPLATE,
    add_templates,
    context,
    google_connection,
    run_for,
    stored_pdf,
)

FILL = {"template_file_id": DOC_TEMPLATE, "folder_id": FOLDER, "replacements": {"name": "Ana Souza", "total": 1200}}


def _assert_auth(fake, execution):
    assert fake.requests, "no request reached the fake"
    for recorded in fake.requests:
        assert recorded.headers["authorization"] == f"Bearer {TOKEN}"
        assert recorded.headers["x-correlation-id"] == str(execution.correlation_id)
    assert fake.violations == []


@pytest.mark.django_db
def test_fill_document_copies_the_template_fills_it_and_keeps_the_pdf(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    execution = run_for(cast, connection)
    result = handlers_documents.fill_document(context(cast, connection, execution), {**FILL, "name": "Contract Ana"})

    [copy] = google_api.calls("POST", rf"/drive/v3/files/{DOC_TEMPLATE}/copy")
    assert copy.json() == {
        "name": "Contract Ana",
        "parents": [FOLDER],
        "appProperties": {"docgStep": f"{execution.pk}:fill"},
    }
    copy_id = result.output["google_file_id"]
    [batch] = google_api.calls("POST", rf"/v1/documents/{copy_id}:batchUpdate")
    assert batch.json() == {
        "requests": [
            {"replaceAllText": {"containsText": {"text": "{{name}}", "matchCase": True}, "replaceText": "Ana Souza"}},
            {"replaceAllText": {"containsText": {"text": "{{total}}", "matchCase": True}, "replaceText": "1200"}},
        ]
    }
    [export] = google_api.calls("GET", rf"/drive/v3/files/{copy_id}/export")
    assert export.query == {"mimeType": "application/pdf"}
    _assert_auth(google_api, execution)

    document = GeneratedDocument.objects.get(pk=result.output["document_id"])
    assert (document.organization, document.execution, document.node_key) == (cast.acme, execution, "fill")
    assert document.name == "Contract Ana.pdf" and document.content_type == "application/pdf"
    with document.file.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF") and b"Contract for Ana Souza, total 1200." in pdf
    assert result.status == "ready"
    assert result.output["occurrences_changed"] == 2
    assert result.output["google_file_url"] == f"https://docs.google.com/document/d/{copy_id}/edit"
    # The template itself is untouched: only the copy was filled.
    assert "{{name}}" in google_api.files[DOC_TEMPLATE]["text"]


@pytest.mark.django_db
def test_a_retry_after_a_failed_export_reuses_the_copy(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    execution = run_for(cast, connection)
    google_api.fail_next("/export", 503, ERRORS[503])
    with pytest.raises(DocgError) as info:
        handlers_documents.fill_document(context(cast, connection, execution), FILL)
    assert (info.value.code, info.value.transient) == ("google.unavailable", True)
    assert not GeneratedDocument.objects.exists()

    again = handlers_documents.fill_document(context(cast, connection, execution, attempt=2), FILL)
    assert len(google_api.calls("POST", r"/drive/v3/files/.+/copy")) == 1
    copies = [f for f in google_api.files.values() if f["appProperties"]]
    assert len(copies) == 1 and again.output["google_file_id"] == copies[0]["id"]
    # A redelivered step after success returns the stored PDF and calls nobody.
    calls = len(google_api.requests)
    third = handlers_documents.fill_document(context(cast, connection, execution, attempt=3), FILL)
    assert third.output["document_id"] == again.output["document_id"] and third.output["reused"] is True
    assert len(google_api.requests) == calls and GeneratedDocument.objects.count() == 1


@pytest.mark.django_db
def test_fill_presentation_replaces_text_and_image_shapes(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    execution = run_for(cast, connection, app="google_slides", operation="fill_presentation")
    params = {
        "template_file_id": SLIDES_TEMPLATE,
        "folder_id": FOLDER,
        "replacements": {"name": "Acme"},
        "images": {"logo": "https://cdn.acme.example/logo.png"},
    }
    result = handlers_documents.fill_presentation(context(cast, connection, execution), params)
    copy_id = result.output["google_file_id"]
    [batch] = google_api.calls("POST", rf"/v1/presentations/{copy_id}:batchUpdate")
    assert batch.json()["requests"] == [
        {"replaceAllText": {"containsText": {"text": "{{name}}", "matchCase": True}, "replaceText": "Acme"}},
        {
            "replaceAllShapesWithImage": {
                "imageUrl": "https://cdn.acme.example/logo.png",
                "imageReplaceMethod": "CENTER_INSIDE",
                "containsText": {"text": "{{logo}}", "matchCase": True},
            }
        },
    ]
    assert google_api.files[copy_id]["images"] == {"{{logo}}": "https://cdn.acme.example/logo.png"}
    with GeneratedDocument.objects.get(pk=result.output["document_id"]).file.open("rb") as handle:
        assert b"Proposal for Acme" in handle.read()
    _assert_auth(google_api, execution)


@pytest.mark.django_db
def test_drive_upload_sends_metadata_and_the_file_once(cast, google_api):
    connection = google_connection(cast)
    execution = run_for(cast, connection, "save", app="google_drive", operation="upload")
    document = stored_pdf(cast.acme)
    params = {"document_id": str(document.pk), "folder_id": FOLDER, "name": "Signed contract.pdf"}
    result = handlers_delivery.drive_upload(context(cast, connection, execution, node_key="save"), params)
    [upload] = google_api.calls("POST", "/upload/drive/v3/files")
    assert upload.query["uploadType"] == "multipart"
    uploaded = google_api.files[result.output["file_id"]]
    assert uploaded["name"] == "Signed contract.pdf" and uploaded["parents"] == [FOLDER]
    assert uploaded["mimeType"] == "application/pdf"
    with document.file.open("rb") as handle:
        assert uploaded["content"] == handle.read()
    assert result.output["web_view_link"].endswith("/view")
    _assert_auth(google_api, execution)
    # A retry finds the uploaded file instead of making a second one.
    again = handlers_delivery.drive_upload(context(cast, connection, execution, node_key="save", attempt=2), params)
    assert again.output["file_id"] == result.output["file_id"] and again.output["reused"] is True
    assert len(google_api.calls("POST", "/upload/drive/v3/files")) == 1


@pytest.mark.django_db
def test_gmail_send_posts_a_raw_mime_with_the_pdf_attached(cast, google_api):
    connection = google_connection(cast)
    execution = run_for(cast, connection, "mail", app="gmail", operation="send")
    document = stored_pdf(cast.acme)
    params = {
        "to": "Ana Souza <ana@client.example>",
        "cc": ["legal@client.example"],
        "subject": "Your contract",
        "body": "Hello Ana, the contract is attached.",
        "attachments": [str(document.pk)],
    }
    result = handlers_delivery.gmail_send(context(cast, connection, execution, node_key="mail"), params)
    [call] = google_api.calls("POST", "/gmail/v1/users/me/messages/send")
    assert set(call.json()) == {"raw"}
    raw = call.json()["raw"]
    assert "+" not in raw and "/" not in raw  # base64url
    message = email.message_from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), policy=policy.default)
    assert message["To"] == "Ana Souza <ana@client.example>" and message["Cc"] == "legal@client.example"
    assert message["Subject"] == "Your contract"
    assert message.get_body(("plain",)).get_content().strip() == "Hello Ana, the contract is attached."
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == "contract.pdf"
    with document.file.open("rb") as handle:
        assert attachment.get_content() == handle.read()
    _assert_auth(google_api, execution)
    assert result.status == "sent" and result.output["gmail_id"].startswith("18c")
    assert result.delivery_state["status"] == "sent"  # the engine keeps it as the run's delivery_state
    assert AuditEvent.objects.filter(action="document.sent", target_id=str(document.pk)).count() == 1


@pytest.mark.django_db
def test_gmail_dry_run_sends_nothing(cast, google_api):
    connection = google_connection(cast)
    execution = run_for(cast, connection, "mail", app="gmail", operation="send")
    params = {"to": "ana@client.example", "subject": "S", "body": "B"}
    result = handlers_delivery.gmail_send(context(cast, connection, execution, node_key="mail", dry_run=True), params)
    assert result.output["dry_run"] is True and result.status == "running"
    assert google_api.requests == []


@pytest.mark.django_db
def test_gmail_refuses_an_invalid_recipient_before_calling_google(cast, google_api):
    connection = google_connection(cast)
    execution = run_for(cast, connection, "mail", app="gmail", operation="send")
    params = {"to": "ana@client.example, not-an-address", "subject": "S", "body": "B"}
    with pytest.raises(DocgError) as info:
        handlers_delivery.gmail_send(context(cast, connection, execution, node_key="mail"), params)
    assert info.value.code == "delivery.invalid_email" and "not-an-address" in info.value.human
    assert google_api.requests == []


@pytest.mark.parametrize(
    ("path", "status", "body", "headers", "code", "transient"),
    [
        ("/copy", 401, ERRORS[401], {}, "oauth_expired", False),
        ("/copy", 403, ERRORS["scope"], {}, "drive.insufficient_permissions", False),
        ("/copy", 403, ERRORS["rate403"], {}, "rate_limit", True),
        ("/copy", 404, not_found(DOC_TEMPLATE), {}, "template.not_found", False),
        ("/export", 404, not_found("copy"), {}, "google.not_found", False),
        (":batchUpdate", 429, ERRORS[429], {"Retry-After": "17"}, "rate_limit", True),
        ("/export", 500, ERRORS[500], {}, "google.unavailable", True),
        ("/copy", 503, ERRORS[503], {}, "google.unavailable", True),
    ],
)
@pytest.mark.django_db
def test_google_errors_are_classified(cast, google_api, path, status, body, headers, code, transient):
    add_templates(google_api)
    connection = google_connection(cast)
    execution = run_for(cast, connection)
    google_api.fail_next(path, status, body, headers)
    with pytest.raises(DocgError) as info:
        handlers_documents.fill_document(context(cast, connection, execution), FILL)
    error = info.value
    assert (error.code, error.transient) == (code, transient)
    assert error.details["status_code"] == status and error.details["body"] == body
    if status == 429:
        assert error.details["retry_after"] == "17"
    if code == "template.not_found":
        assert DOC_TEMPLATE in error.human and FOLDER in error.human
    if code == "drive.insufficient_permissions":
        assert DOC_TEMPLATE in error.human
    if code == "oauth_expired":
        assert "reconnect" in error.human
    assert not GeneratedDocument.objects.exists()


@pytest.mark.django_db
def test_errors_speak_the_organization_language(cast, google_api):
    add_templates(google_api)
    connection = google_connection(cast)
    execution = run_for(cast, connection)
    google_api.fail_next("/copy", 403, ERRORS["scope"])
    with pytest.raises(DocgError) as info:
        handlers_documents.fill_document(context(cast, connection, execution, language="pt-br"), FILL)
    assert info.value.human.startswith("A conta Google não tem permissão")


@pytest.mark.django_db
def test_a_wrong_token_is_oauth_expired_and_an_expired_connection_calls_nobody(cast, google_api):
    add_templates(google_api)
    wrong = google_connection(cast, access_token="ya29.revoked")
    execution = run_for(cast, wrong)
    with pytest.raises(DocgError) as info:
        handlers_documents.fill_document(context(cast, wrong, execution), FILL)
    assert (info.value.code, info.value.transient) == ("oauth_expired", False)

    calls = len(google_api.requests)
    # Expired, and nothing to renew it with.
    expired = google_connection(cast, expires_at=1_000_000, refresh_token="")
    with pytest.raises(DocgError) as info:
        handlers_documents.fill_document(context(cast, expired, execution), FILL)
    assert info.value.code == "oauth_expired" and len(google_api.requests) == calls


@pytest.mark.django_db
def test_another_organizations_document_is_not_found(cast, google_api):
    connection = google_connection(cast)
    execution = run_for(cast, connection, "mail", app="gmail", operation="send")
    foreign = stored_pdf(cast.globex)
    params = {"to": "ana@client.example", "subject": "S", "body": "B", "attachments": [str(foreign.pk)]}
    with pytest.raises(DocgError) as info:
        handlers_delivery.gmail_send(context(cast, connection, execution, node_key="mail"), params)
    assert info.value.code == "document.not_found" and google_api.requests == []


def test_timeouts_are_transient(google_api, settings):
    from docg.providers.google.client import GoogleClient

    # A port that accepts nothing answers quickly with a connection error: transient too.
    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "gmail": "http://127.0.0.1:9"}
    with pytest.raises(DocgError) as info:
        GoogleClient(access_token=TOKEN, correlation_id="c", timeout=1).gmail_send(raw="eA")
    assert (info.value.code, info.value.transient) == ("google.unavailable", True)
