"""Staff upload templates and new versions in the admin, through the same checks as the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from docg.audit.models import AuditEvent
from docg.documents.models import Template, TemplateVersion
from docg.documents.tests import corpus
from docg.orgs.models import User
from tests.fixtures.cast import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db) -> Client:
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    client = Client()
    client.login(email="staff@example.com", password=PASSWORD)
    return client


def _add(staff_client, cast, filename: str, content: bytes):
    return staff_client.post(
        reverse("admin:documents_template_add"),
        {"organization": str(cast.acme.pk), "name": "Contract", "upload": SimpleUploadedFile(filename, content)},
    )


def _change(staff_client, template, **data):
    # The read-only versions inline still posts its management form, as the browser does.
    count = str(template.versions.count())
    management = {f"versions-{k}": v for k, v in {"TOTAL_FORMS": count, "INITIAL_FORMS": count}.items()}
    url = reverse("admin:documents_template_change", args=[template.pk])
    return staff_client.post(url, {**management, **data})


def test_admin_upload_creates_version_one(staff_client, cast):
    response = _add(staff_client, cast, "contract.docx", corpus.contract_docx())
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = Template.objects.get()
    assert (template.organization, template.kind, template.version) == (cast.acme, "docx", 1)
    assert TemplateVersion.objects.filter(template=template, number=1).exists()
    assert AuditEvent.objects.filter(action="template.version_updated", target_id=str(template.pk)).exists()


def test_admin_refuses_a_hostile_upload_as_a_form_error(staff_client, cast, settings):
    response = _add(staff_client, cast, "contract.docx", corpus.xxe_docx())
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "DTD" in errors["upload"][0]
    assert not Template.objects.exists()


def test_admin_change_with_a_file_adds_a_version(staff_client, cast):
    _add(staff_client, cast, "contract.docx", corpus.contract_docx())
    template = Template.objects.get()
    url = reverse("admin:documents_template_change", args=[template.pk])
    assert staff_client.get(url).status_code == 200
    upload = SimpleUploadedFile("v2.docx", corpus.docx_with("{{ person.name }}"))
    response = _change(staff_client, template, name="Contract v2", upload=upload)
    assert response.status_code == 302, response.context["adminform"].form.errors
    template.refresh_from_db()
    assert (template.name, template.version) == ("Contract v2", 2)
    assert [v["name"] for v in template.variables] == ["person.name"]
    version = template.versions.get(number=2)
    assert staff_client.get(reverse("admin:documents_templateversion_change", args=[version.pk])).status_code == 200
    assert staff_client.get(url).status_code == 200  # the inline lists both versions


def test_admin_refuses_a_version_of_another_kind(staff_client, cast):
    _add(staff_client, cast, "contract.docx", corpus.contract_docx())
    template = Template.objects.get()
    response = _change(staff_client, template, name="Contract", upload=SimpleUploadedFile("d.pptx", corpus.deck_pptx()))
    assert response.status_code == 200
    assert "upload" in response.context["adminform"].form.errors
    assert TemplateVersion.objects.count() == 1
