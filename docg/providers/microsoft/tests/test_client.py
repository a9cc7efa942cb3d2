"""GraphClient against a loopback fake of Microsoft Graph: exact requests, the PDF redirect, error classes."""

import base64

import pytest

from docg.common.errors import DocgError
from docg.providers.microsoft.client import GraphClient
from docg.providers.microsoft.messages import translate
from docg.providers.microsoft.tests.fake import ERRORS, TOKEN, fake_pdf

CORRELATION = "6f1c2a9e-3b7d-4e5f-8a90-1b2c3d4e5f60"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _client(token: str = TOKEN, **kwargs) -> GraphClient:
    return GraphClient(token, headers={"X-Correlation-ID": CORRELATION}, **kwargs)


def test_it_uploads_with_replace_on_conflict_to_the_documented_path(graph_api):
    item = _client().upload_file(path="docg/Contratos/Acordo 7.docx", content=b"PK\x03\x04filled", content_type=DOCX)

    [call] = graph_api.requests
    assert (call.method, call.path) == ("PUT", "/v1.0/me/drive/root:/docg/Contratos/Acordo 7.docx:/content")
    assert call.query == {"@microsoft.graph.conflictBehavior": "replace"}
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["x-correlation-id"] == CORRELATION
    assert call.headers["content-type"] == DOCX
    assert call.body == b"PK\x03\x04filled"
    assert item["name"] == "Acordo 7.docx" and item["id"] in graph_api.items

    # The same path again (a retried step) replaces the file: same item, no conflict.
    again = _client().upload_file(path="docg/Contratos/Acordo 7.docx", content=b"PK\x03\x04v2", content_type=DOCX)
    assert again["id"] == item["id"] and graph_api.items[item["id"]]["content"] == b"PK\x03\x04v2"


def test_it_uploads_into_a_sharepoint_library_by_drive_id(graph_api):
    item = _client().upload_file(path="x.docx", content=b"PK", content_type=DOCX, drive_id="b!Lib-42")
    assert graph_api.api_calls() == [("PUT", "/v1.0/drives/b!Lib-42/root:/x.docx:/content")]
    pdf = _client().download_converted(item_id=item["id"], drive_id="b!Lib-42")
    assert graph_api.api_calls()[-1] == ("GET", f"/v1.0/drives/b!Lib-42/items/{item['id']}/content")
    assert pdf == fake_pdf(b"PK", "x.docx")


def test_it_follows_the_pdf_redirect_without_sending_the_token_there(graph_api):
    item = _client().upload_file(path="docg/a.docx", content=b"PK-a", content_type=DOCX)
    pdf = _client().download_converted(item_id=item["id"])

    assert pdf == graph_api.pdf_of(item["id"]) and pdf.startswith(b"%PDF-")
    convert = graph_api.requests[-1]
    assert (convert.method, convert.path, convert.query) == (
        "GET",
        f"/v1.0/me/drive/items/{item['id']}/content",
        {"format": "pdf"},
    )
    assert convert.headers["authorization"] == f"Bearer {TOKEN}"
    [download] = graph_api.downloads
    assert download.method == "GET" and download.path.startswith("/download/")
    assert "authorization" not in download.headers  # the pre-authenticated URL must not get the bearer token
    assert download.headers["x-correlation-id"] == CORRELATION


def test_it_sends_mail_as_documented(graph_api):
    message = {
        "subject": "Contrato",
        "body": {"contentType": "HTML", "content": "<p>Olá</p>"},
        "toRecipients": [{"emailAddress": {"address": "ana@client.example"}}],
        "attachments": [
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "c.pdf",
                "contentType": "application/pdf",
                "contentBytes": base64.b64encode(b"%PDF-1.4").decode(),
            }
        ],
    }
    assert _client().send_mail(message=message) is None

    [call] = graph_api.requests
    assert (call.method, call.path) == ("POST", "/v1.0/me/sendMail")
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-correlation-id"] == CORRELATION
    assert call.json() == {"message": message, "saveToSentItems": True}


def test_a_refused_token_is_oauth_expired_and_asks_to_reconnect(graph_api):
    with pytest.raises(DocgError) as caught:
        _client(token="revoked").send_mail(message={"subject": "x"})
    error = caught.value
    assert (error.code, error.transient) == ("oauth_expired", False)
    assert "reconnect" in error.human
    assert error.details["status_code"] == 401
    assert error.details["graph_code"] == "InvalidAuthenticationToken"
    assert "conecte a conta Microsoft de novo" in translate(error, "pt-br")


@pytest.mark.parametrize(
    ("status", "headers", "code", "transient"),
    [
        (403, {}, "microsoft.insufficient_permissions", False),
        (404, {}, "microsoft.not_found", False),
        (409, {}, "microsoft.conflict", True),
        (429, {"Retry-After": "7"}, "rate_limit", True),
        (500, {}, "microsoft.unavailable", True),
        (503, {"Retry-After": "30"}, "microsoft.unavailable", True),
    ],
)
def test_graph_errors_are_classified(graph_api, status, headers, code, transient):
    graph_api.fail_next(status, headers=headers)
    with pytest.raises(DocgError) as caught:
        _client().upload_file(path="docg/a.docx", content=b"PK", content_type=DOCX)
    error = caught.value
    assert (error.code, error.transient) == (code, transient)
    assert error.details["status_code"] == status
    assert error.details["graph_code"] == ERRORS[status][0]
    if "Retry-After" in headers:
        assert error.details["retry_after"] == headers["Retry-After"]
    assert str(status) in error.human  # the summary names what Graph answered


def test_insufficient_scope_has_a_human_message_in_both_languages(graph_api):
    graph_api.fail_next(403, code="ErrorAccessDenied", message="Access is denied. Check credentials and try again.")
    with pytest.raises(DocgError) as caught:
        _client().send_mail(message={"subject": "x"})
    error = caught.value
    assert error.human.startswith("The Microsoft account lacks a permission docg needs")
    assert "accept every permission" in error.human
    assert translate(error, "pt-br").startswith("A conta Microsoft não tem uma permissão de que o docg precisa")
    assert error.details["graph_code"] == "ErrorAccessDenied"


def test_a_conversion_of_a_missing_item_is_not_found(graph_api):
    with pytest.raises(DocgError) as caught:
        _client().download_converted(item_id="01MISSING")
    assert (caught.value.code, caught.value.transient) == ("microsoft.not_found", False)
    assert caught.value.details["graph_code"] == "itemNotFound"


def test_a_slow_graph_is_a_transient_timeout(graph_api):
    graph_api.delay = 1.0
    with pytest.raises(DocgError) as caught:
        _client(timeout=0.2).upload_file(path="docg/a.docx", content=b"PK", content_type=DOCX)
    assert (caught.value.code, caught.value.transient) == ("microsoft.timeout", True)
    assert "não respondeu a tempo" in translate(caught.value, "pt-br")


def test_an_unreachable_graph_is_transient(settings):
    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "microsoft_graph": "http://127.0.0.1:9"}
    with pytest.raises(DocgError) as caught:
        _client().send_mail(message={"subject": "x"})
    assert (caught.value.code, caught.value.transient) == ("microsoft.unavailable", True)
