"""Templates area: upload with the API's checks, versions, variables with their locations, lint errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.documents.models import Template, TemplateVersion
from docg.documents.services import template_create
from docg.documents.tests import corpus

pytestmark = pytest.mark.django_db


def upload(client, content, filename="contract.docx", name="Contract", url="/templates/"):
    data = {"file": SimpleUploadedFile(filename, content)}
    if name is not None:
        data["name"] = name
    return client.post(url, data)


def stored(organization, user, content=None, name="Contract"):
    file = SimpleUploadedFile("contract.docx", content or corpus.contract_docx())
    return template_create(organization=organization, by=user, name=name, upload=file)


def test_upload_shows_the_detected_variables_with_their_locations(client, cast):
    client.force_login(cast.alice)
    response = upload(
        client, corpus.docx_with("Dear {{ customer.name }},", "Total: {{ total }}", header="No {{ ref }}")
    )
    assert response.status_code == 302
    template = Template.objects.get()
    assert response["Location"] == f"/templates/{template.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Contract" in page
    assert 'data-variable="customer.name"' in page
    assert "paragraph 1" in page and "paragraph 2" in page
    assert "header 1" in page
    assert "Dear {{ customer.name }}," in page
    assert "Ready to use" in page
    assert "v1" in page
    listing = client.get("/templates/").content.decode()
    assert f"/templates/{template.pk}/" in listing


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("contract.pdf", b"%PDF-1.4", "Upload a Word (.docx), PowerPoint (.pptx) or Excel (.xlsx) file."),
        ("contract.docx", b"%PDF-1.4 renamed", "a PDF renamed to .docx"),
        ("contract.docx", b"PK\x03\x04 this zip is broken", "not a valid Word document"),
        ("contract.docm", b"PK", "macros"),
    ],
)
def test_refused_uploads_are_explained_inline_and_nothing_is_kept(client, cast, filename, content, message):
    client.force_login(cast.alice)
    response = upload(client, content, filename=filename)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Template.objects.exists()
    assert not TemplateVersion.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, cast, settings):
    settings.TEMPLATE_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(cast.alice)
    response = upload(client, corpus.docx_with("x" * 10) + b"\0" * (1024 * 1024))
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert not Template.objects.exists()


def test_lint_errors_are_listed_with_their_location_and_nothing_is_kept(client, cast):
    client.force_login(cast.alice)
    response = upload(client, corpus.docx_with("{% for item in items %}", "{{ total|money }}"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "The file was not saved" in page
    assert "paragraph 1" in page and "paragraph 2" in page
    assert "{{ total|money }}" in page
    assert not Template.objects.exists()


def test_missing_name_or_file_is_a_form_error(client, cast):
    client.force_login(cast.alice)
    assert client.post("/templates/", {"name": "No file"}).status_code == 400
    assert upload(client, corpus.docx_with("Hi"), name=None).status_code == 400
    assert upload(client, b"", name="Empty").status_code == 400
    assert not Template.objects.exists()


def test_existing_lint_errors_show_on_the_detail_page(client, cast):
    template = stored(cast.acme, cast.alice, content=corpus.docx_with("{{ total|money }}"))
    client.force_login(cast.vera)
    page = client.get(f"/templates/{template.pk}/").content.decode()
    assert "Problems to fix" in page
    assert "money" in page
    assert "paragraph 1" in page


def test_a_new_version_becomes_current_and_both_are_listed(client, cast):
    template = stored(cast.acme, cast.alice)
    client.force_login(cast.bob)
    response = upload(
        client, corpus.docx_with("Hi {{ person.name }}"), name=None, url=f"/templates/{template.pk}/versions/"
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 2
    page = client.get(f"/templates/{template.pk}/").content.decode()
    assert 'data-variable="person.name"' in page
    assert 'data-variable="customer.name"' not in page
    assert "v1" in page and "v2" in page


def test_a_refused_new_version_keeps_the_current_one(client, cast):
    template = stored(cast.acme, cast.alice)
    client.force_login(cast.alice)
    response = upload(client, corpus.docx_with("{% if x %}"), name=None, url=f"/templates/{template.pk}/versions/")
    assert response.status_code == 400
    assert "The file was not saved" in response.content.decode()
    template.refresh_from_db()
    assert template.version == 1
    assert TemplateVersion.objects.count() == 1


def test_delete_removes_the_template(client, cast):
    template = stored(cast.acme, cast.alice)
    client.force_login(cast.alice)
    response = client.post(f"/templates/{template.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "deleted" in response.content.decode()
    assert not Template.objects.exists()


def test_viewer_sees_no_upload_or_delete_and_posts_are_refused(client, cast):
    template = stored(cast.acme, cast.alice)
    client.force_login(cast.vera)
    listing = client.get("/templates/").content.decode()
    assert "Contract" in listing
    assert "Upload a template" not in listing
    assert 'method="post" enctype' not in listing
    detail = client.get(f"/templates/{template.pk}/").content.decode()
    assert "Upload a new version" not in detail
    assert "/delete/" not in detail
    assert upload(client, corpus.docx_with("Hi {{ a }}"), name="Sneaky").status_code == 404
    assert (
        upload(client, corpus.docx_with("Hi {{ a }}"), name=None, url=f"/templates/{template.pk}/versions/").status_code
        == 404
    )
    assert client.post(f"/templates/{template.pk}/delete/").status_code == 404
    assert Template.objects.get().version == 1


def test_another_organizations_template_is_a_404(client, cast):
    theirs = stored(cast.globex, cast.charlie, name="Globex secret")
    client.force_login(cast.alice)
    assert "Globex secret" not in client.get("/templates/").content.decode()
    assert client.get(f"/templates/{theirs.pk}/").status_code == 404
    assert (
        upload(client, corpus.docx_with("{{ a }}"), name=None, url=f"/templates/{theirs.pk}/versions/").status_code
        == 404
    )
    assert client.post(f"/templates/{theirs.pk}/delete/").status_code == 404
    assert Template.objects.filter(pk=theirs.pk, version=1).exists()


def test_search_and_odd_query_strings_never_fail(client, cast):
    stored(cast.acme, cast.alice, name="Proposal")
    stored(cast.acme, cast.alice, name="Invoice")
    client.force_login(cast.alice)
    page = client.get("/templates/", {"q": "prop"}).content.decode()
    assert "Proposal" in page and "Invoice" not in page
    assert client.get("/templates/", {"q": "x" * 5000, "page": "-1"}).status_code == 200


def test_an_uploaded_price_sheet_shows_its_variables_by_sheet_and_cell(client, cast):
    client.force_login(cast.alice)
    response = upload(client, corpus.price_sheet_xlsx(), filename="prices.xlsx", name="Prices")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-variable="due"' in page and "Prices!B8" in page
    assert 'data-variable="items"' in page and "Prices!A4" in page
    assert "Ready to use" in page


def test_a_price_sheet_with_an_unclosed_tag_is_refused_with_its_cell(client, cast):
    client.force_login(cast.alice)
    response = upload(client, corpus.xlsx_with({"B4": "Total {{ total "}), filename="prices.xlsx")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The file was not saved" in page and "Prices!B4" in page
    assert not Template.objects.exists()
