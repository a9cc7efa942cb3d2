import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.audit.models import AuditEvent
from docg.documents.models import Template

pytestmark = pytest.mark.django_db


def _docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document>Hello {{ name }}</w:document>")
    return buffer.getvalue()


def _upload(client, filename="contract.docx", content=None, name="Contract"):
    file = SimpleUploadedFile(filename, content if content is not None else _docx_bytes())
    return client.post("/api/v1/templates", {"name": name, "file": file}, format="multipart")


def test_upload_docx_keeps_file_digest_and_audits(alice_api, cast):
    response = _upload(alice_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "docx"
    assert body["version"] == 1
    assert body["filename"] == "contract.docx"
    template = Template.objects.get(pk=body["id"])
    assert template.organization == cast.acme
    assert template.file.read() == _docx_bytes()
    assert AuditEvent.objects.filter(action="template.version_updated", target_id=body["id"]).exists()


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("contract.docm", None, "template.macros_refused"),
        ("contract.pdf", None, "template.unsupported_type"),
        ("contract.docx", b"not a zip at all", "template.not_ooxml"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_kept(alice_api, filename, content, code):
    response = _upload(alice_api, filename=filename, content=content)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Template.objects.exists()


def test_empty_file_and_json_body_are_4xx(alice_api):
    assert _upload(alice_api, content=b"").status_code == 400
    response = alice_api.post("/api/v1/templates", {"name": "x"}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_viewer_cannot_upload(vera_api):
    assert _upload(vera_api).status_code == 403


def test_delete_removes_file(alice_api, django_capture_on_commit_callbacks):
    template_id = _upload(alice_api).json()["id"]
    template = Template.objects.get(pk=template_id)
    storage, name = template.file.storage, template.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(f"/api/v1/templates/{template_id}").status_code == 204
    assert not Template.objects.filter(pk=template_id).exists()
    assert not storage.exists(name)


def test_another_organization_gets_404(alice_api, charlie_api):
    template_id = _upload(alice_api).json()["id"]
    assert charlie_api.get(f"/api/v1/templates/{template_id}").status_code == 404
    assert charlie_api.delete(f"/api/v1/templates/{template_id}").status_code == 404
    assert charlie_api.get("/api/v1/templates").json()["results"] == []
    assert Template.objects.filter(pk=template_id).exists()
