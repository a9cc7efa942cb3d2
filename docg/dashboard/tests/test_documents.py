"""Documents area: the organization's generated files, downloadable through short-lived links."""

import pytest

from docg.documents.storage import document_store

pytestmark = pytest.mark.django_db


def stored(organization, name="contract-ana.pdf", data=b"%PDF-1.4 Ana", content_type="application/pdf"):
    return document_store(organization=organization, name=name, data=data, content_type=content_type)


def test_list_shows_own_documents_with_download_links(client, cast):
    ours = stored(cast.acme)
    stored(cast.globex, name="globex-secret.pdf")
    client.force_login(cast.vera)  # reading and downloading is for every role
    page = client.get("/documents/").content.decode()
    assert "contract-ana.pdf" in page
    assert "globex-secret.pdf" not in page
    assert f"/documents/{ours.pk}/download/" in page
    assert f"/documents/{ours.pk}/preview/" in page
    assert '<form method="post"' not in page.split('<main id="main"')[1]


def test_download_follows_a_signed_link_to_the_file(client, cast):
    document = stored(cast.acme, name="report.docx", data=b"PK docx", content_type="application/msword")
    client.force_login(cast.alice)
    response = client.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 302
    assert "sig=" in response["Location"]
    client.logout()  # the signed link itself is the credential
    file = client.get(response["Location"])
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == b"PK docx"
    assert "attachment" in file["Content-Disposition"]


def test_preview_shows_a_pdf_inline_and_downloads_other_types(client, cast):
    pdf = stored(cast.acme)
    docx = stored(cast.acme, name="draft.docx", data=b"PK", content_type="application/msword")
    client.force_login(cast.alice)
    inline = client.get(f"/documents/{pdf.pk}/preview/")
    assert inline.status_code == 200
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["Cache-Control"] == "private, no-store"
    assert client.get(f"/documents/{docx.pk}/preview/").status_code == 302
    listing = client.get("/documents/").content.decode()
    assert f"/documents/{pdf.pk}/preview/" in listing
    assert f"/documents/{docx.pk}/preview/" not in listing


def test_another_organizations_document_is_a_404(client, cast):
    theirs = stored(cast.globex, name="globex-secret.pdf")
    client.force_login(cast.alice)
    assert client.get(f"/documents/{theirs.pk}/download/").status_code == 404
    assert client.get(f"/documents/{theirs.pk}/preview/").status_code == 404
    assert client.get("/documents/00000000-0000-0000-0000-000000000000/download/").status_code == 404


def test_search_pages_and_odd_input(client, cast):
    for i in range(30):
        stored(cast.acme, name=f"invoice-{i:02}.pdf")
    stored(cast.acme, name="proposal.pdf")
    client.force_login(cast.alice)
    first = client.get("/documents/").content.decode()
    assert "Page 1 of 2" in first
    found = client.get("/documents/", {"q": "propos"}).content.decode()
    assert "proposal.pdf" in found and "invoice-01.pdf" not in found
    assert "No document matches" in client.get("/documents/", {"q": "nothing-like-this"}).content.decode()
    assert client.get("/documents/", {"q": "%" * 3000, "page": "abc"}).status_code == 200
    assert client.post("/documents/").status_code == 405


def test_empty_state_explains_where_documents_come_from(client, cast):
    client.force_login(cast.alice)
    assert "Documents your workflows generate appear here" in client.get("/documents/").content.decode()
