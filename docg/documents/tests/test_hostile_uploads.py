"""Uploaded templates are untrusted: each hostile package gets a clear 4xx and leaves nothing behind."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.documents import ooxml
from docg.documents.models import Template, TemplateVersion
from docg.documents.tests import corpus

pytestmark = pytest.mark.django_db


def _upload(client, filename: str, content: bytes, url: str = "/api/v1/templates"):
    data = {"file": SimpleUploadedFile(filename, content)}
    if url == "/api/v1/templates":
        data["name"] = "Hostile"
    return client.post(url, data, format="multipart")


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


HOSTILE = [
    pytest.param("contract.docx", corpus.zip_bomb_docx, 400, "template.zip_bomb", id="zip-bomb"),
    pytest.param("contract.docx", corpus.xxe_docx, 400, "template.external_entities", id="xxe"),
    pytest.param("contract.docm", lambda: corpus.docx_with("Hi"), 400, "template.macros_refused", id="docm"),
    pytest.param("deck.pptm", corpus.deck_pptx, 400, "template.macros_refused", id="pptm"),
    pytest.param("contract.docx", corpus.macro_docx, 400, "template.macros_refused", id="vba-project-in-docx"),
    pytest.param(
        "contract.docx", corpus.macro_enabled_content_type_docx, 400, "template.macros_refused", id="macro-type"
    ),
    pytest.param("contract.docx", lambda: corpus.PDF, 400, "template.not_ooxml", id="renamed-pdf"),
    pytest.param("contract.docx", corpus.deck_pptx, 400, "template.wrong_kind", id="pptx-named-docx"),
    pytest.param("contract.pdf", lambda: corpus.PDF, 400, "template.unsupported_type", id="pdf"),
    pytest.param("contract.docx", lambda: b"", 400, "validation_error", id="empty"),
    pytest.param(
        "contract.docx",
        lambda: corpus.rewrite(corpus.docx_with("x"), {"[Content_Types].xml": None}),
        400,
        "template.not_ooxml",
        id="no-content-types",
    ),
    pytest.param(
        "contract.docx",
        lambda: corpus.rewrite(corpus.docx_with("x"), {"word/styles.xml": b"<w:styles"}),
        400,
        "template.malformed_xml",
        id="broken-xml-part",
    ),
]


@pytest.mark.parametrize(("filename", "build", "status", "code"), HOSTILE)
def test_hostile_upload_is_refused_and_nothing_is_kept(alice_api, settings, filename, build, status, code):
    response = _upload(alice_api, filename, build())
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert not Template.objects.exists()
    assert not TemplateVersion.objects.exists()
    assert _stored_files(settings) == []


@pytest.mark.parametrize(("filename", "build", "status", "code"), HOSTILE)
def test_hostile_new_version_is_refused_and_the_template_is_unchanged(
    alice_api, settings, filename, build, status, code
):
    created = _upload(alice_api, "contract.docx", corpus.docx_with("Hello {{ name }}")).json()
    files_before = _stored_files(settings)
    response = _upload(alice_api, filename, build(), url=f"/api/v1/templates/{created['id']}/versions")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    template = Template.objects.get(pk=created["id"])
    assert template.version == 1
    assert template.sha256 == created["sha256"]
    assert TemplateVersion.objects.count() == 1
    assert _stored_files(settings) == files_before


def test_renamed_pdf_says_it_is_a_pdf(alice_api):
    message = _upload(alice_api, "contract.docx", corpus.PDF).json()["error"]["message"]
    assert "PDF" in message


def test_upload_over_the_size_limit_is_413(alice_api, settings):
    settings.TEMPLATE_MAX_UPLOAD_BYTES = 10_000
    response = _upload(alice_api, "contract.docx", corpus.contract_docx())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "template.too_large"
    assert not Template.objects.exists()
    assert _stored_files(settings) == []


def test_zip_bomb_is_refused_from_the_directory_without_decompressing(monkeypatch):
    bomb = corpus.zip_bomb_docx()
    assert len(bomb) < 200_000  # small on the wire, 50 MB inside

    def no_reading(*args, **kwargs):
        raise AssertionError("an entry was opened before the directory was checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    with pytest.raises(ooxml.DocgError) as refused:
        ooxml.inspect(io.BytesIO(bomb), "contract.docx")
    assert refused.value.code == "template.zip_bomb"
    assert refused.value.details["entry"] == "word/document.xml"


def _entry(name: str, size: int, compressed: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.file_size = size
    info.compress_size = compressed
    return info


def test_total_uncompressed_size_is_bounded():
    entries = [_entry(f"word/media/image{i}.png", 60 * 1024 * 1024, 59 * 1024 * 1024) for i in range(4)]
    with pytest.raises(ooxml.DocgError) as refused:
        ooxml._check_directory(entries)
    assert refused.value.code == "template.zip_bomb"


def test_entry_count_is_bounded(alice_api):
    package = corpus.rewrite(
        corpus.docx_with("x"), extra={f"customXml/item{i}.txt": b"" for i in range(ooxml.MAX_ENTRIES)}
    )
    response = _upload(alice_api, "contract.docx", package)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "template.too_many_entries"


def test_duplicate_entries_are_refused():
    entries = [_entry("word/document.xml", 10, 10), _entry("word/document.xml", 10, 10)]
    with pytest.raises(ooxml.DocgError) as refused:
        ooxml._check_directory(entries)
    assert refused.value.code == "template.not_ooxml"


def test_ordinary_compression_is_accepted():
    # Real Word XML compresses well, but nowhere near a bomb.
    ooxml._check_directory([_entry("word/document.xml", 30 * 1024 * 1024, 2 * 1024 * 1024)])


def test_a_doctype_without_entities_is_refused_too():
    def add_doctype(xml: bytes) -> bytes:
        declaration, body = xml.split(b"?>", 1)
        return declaration + b"?><!DOCTYPE w:document>" + body

    package = corpus.transform(corpus.docx_with("x"), "word/document.xml", add_doctype)
    with pytest.raises(ooxml.DocgError) as refused:
        ooxml.inspect(io.BytesIO(package), "contract.docx")
    assert refused.value.code == "template.external_entities"


def test_entity_expansion_in_a_secondary_part_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><w:styles>&lol2;</w:styles>'
    )
    package = corpus.rewrite(corpus.docx_with("x"), {"word/styles.xml": laughs})
    with pytest.raises(ooxml.DocgError) as refused:
        ooxml.inspect(io.BytesIO(package), "contract.docx")
    assert refused.value.code == "template.external_entities"
    assert refused.value.details["part"] == "word/styles.xml"


def test_real_documents_pass_inspection():
    assert ooxml.inspect(io.BytesIO(corpus.contract_docx()), "contract.docx").kind == "docx"
    assert ooxml.inspect(io.BytesIO(corpus.deck_pptx()), "Deck.PPTX").kind == "pptx"
