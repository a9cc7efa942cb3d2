import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.audit.models import AuditEvent
from docg.documents.lint import describe_location
from docg.documents.models import Template, TemplateVersion
from docg.documents.tests import corpus

pytestmark = pytest.mark.django_db


def _upload(client, filename="contract.docx", content=None, name="Contract"):
    file = SimpleUploadedFile(filename, content if content is not None else corpus.contract_docx())
    return client.post("/api/v1/templates", {"name": name, "file": file}, format="multipart")


def _new_version(client, template_id, filename="contract.docx", content=None):
    file = SimpleUploadedFile(filename, content if content is not None else corpus.docx_with("Hi {{ person.name }}"))
    return client.post(f"/api/v1/templates/{template_id}/versions", {"file": file}, format="multipart")


def test_upload_docx_keeps_file_digest_version_and_audits(alice_api, cast):
    content = corpus.contract_docx()
    response = _upload(alice_api, content=content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "docx"
    assert body["version"] == 1
    assert body["filename"] == "contract.docx"
    assert body["lint_errors"] == []
    assert "customer.name" in {v["name"] for v in body["variables"]}
    template = Template.objects.get(pk=body["id"])
    assert template.organization == cast.acme
    assert template.file.read() == content
    version = TemplateVersion.objects.get(template=template)
    assert (version.number, version.sha256, version.organization) == (1, template.sha256, cast.acme)
    assert version.file.name == template.file.name
    event = AuditEvent.objects.get(action="template.version_updated", target_id=body["id"])
    assert event.event_metadata["version"] == 1


def test_upload_pptx_detects_slides(alice_api):
    response = _upload(alice_api, filename="deck.pptx", content=corpus.deck_pptx(), name="Deck")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "pptx"
    names = {v["name"] for v in response.json()["variables"]}
    assert {"deck.title", "presenter.name", "products"} <= names


def test_upload_with_lint_errors_is_kept_and_lists_them(alice_api):
    response = _upload(alice_api, content=corpus.docx_with("{% for item in items %}", "{{ total|money }}"))
    assert response.status_code == 201
    errors = response.json()["lint_errors"]
    assert [e["code"] for e in errors] == ["template.unbalanced_block", "template.unknown_filter"]
    assert [e["location"]["paragraph"] for e in errors] == [1, 2]  # counted from 1, as the dashboard says


def test_new_version_becomes_current_and_keeps_the_old_file(alice_api, cast):
    created = _upload(alice_api).json()
    first_file = Template.objects.get(pk=created["id"]).file.name
    response = _new_version(alice_api, created["id"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == created["id"]
    assert body["version"] == 2
    assert [v["name"] for v in body["variables"]] == ["person.name"]
    assert body["sha256"] != created["sha256"]
    template = Template.objects.get(pk=created["id"])
    assert template.file.name != first_file
    assert template.file.storage.exists(first_file)
    assert list(template.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    events = AuditEvent.objects.filter(action="template.version_updated", target_id=created["id"])
    assert sorted(e.event_metadata["version"] for e in events) == [1, 2]


def test_versions_are_listed_newest_first(alice_api):
    template_id = _upload(alice_api).json()["id"]
    _new_version(alice_api, template_id)
    _new_version(alice_api, template_id, content=corpus.docx_with("{{ third }}"))
    response = alice_api.get(f"/api/v1/templates/{template_id}/versions")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [v["number"] for v in results] == [3, 2, 1]
    assert results[0]["filename"] == "contract.docx"
    assert set(results[0]) >= {"id", "number", "size_bytes", "sha256", "lint_errors", "created_by", "created_at"}


def test_a_version_of_another_kind_is_refused(alice_api):
    template_id = _upload(alice_api).json()["id"]
    response = _new_version(alice_api, template_id, filename="deck.pptx", content=corpus.deck_pptx())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "template.wrong_kind"
    assert TemplateVersion.objects.filter(template_id=template_id).count() == 1


def test_variables_lists_names_with_locations_and_every_placeholder(alice_api):
    template_id = _upload(alice_api).json()["id"]
    response = alice_api.get(f"/api/v1/templates/{template_id}/variables")
    assert response.status_code == 200
    body = response.json()
    variables = {v["name"]: v["locations"] for v in body["variables"]}
    assert variables["contract.number"][0]["part"] == "header"
    # Counted from 1, as the dashboard says them ("table 1, row 2, …"); stored from 0.
    assert variables["items"][0]["table"] == 1
    stored = Template.objects.get(pk=template_id).variables
    [items] = [v for v in stored if v["name"] == "items"]
    assert items["locations"][0]["table"] == 0
    first = items["locations"][0]
    assert variables["items"][0]["paragraph"] == first["paragraph"] + 1
    assert describe_location(first).endswith(f"paragraph {first['paragraph'] + 1}")
    detail = alice_api.get(f"/api/v1/templates/{template_id}").json()
    assert {v["name"]: v["locations"] for v in detail["variables"]}["items"][0]["table"] == 1
    tags = [p["tag"] for p in body["placeholders"]]
    assert "{%tr endfor %}" in tags
    assert "{{ item.name }}" in tags
    assert all(set(p) == {"tag", "kind", "names", "location"} for p in body["placeholders"])


def test_variables_follow_the_current_version(alice_api):
    template_id = _upload(alice_api).json()["id"]
    _new_version(alice_api, template_id)
    body = alice_api.get(f"/api/v1/templates/{template_id}/variables").json()
    assert [v["name"] for v in body["variables"]] == ["person.name"]
    assert [p["tag"] for p in body["placeholders"]] == ["{{ person.name }}"]


def test_bad_uploads_are_refused_and_nothing_kept(alice_api):
    response = _upload(alice_api, filename="contract.docx", content=b"not a zip at all")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "template.not_ooxml"
    assert not Template.objects.exists()


def test_empty_file_and_json_body_are_4xx(alice_api):
    assert _upload(alice_api, content=b"").status_code == 400
    response = alice_api.post("/api/v1/templates", {"name": "x"}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    template_id = _upload(alice_api).json()["id"]
    response = alice_api.post(f"/api/v1/templates/{template_id}/versions", {"file": "x"}, format="json")
    assert response.status_code == 415


def test_viewer_cannot_upload_or_add_versions_but_can_read(alice_api, vera_api):
    assert _upload(vera_api).status_code == 403
    template_id = _upload(alice_api).json()["id"]
    assert _new_version(vera_api, template_id).status_code == 403
    assert vera_api.get(f"/api/v1/templates/{template_id}/versions").status_code == 200
    assert vera_api.get(f"/api/v1/templates/{template_id}/variables").status_code == 200


def test_delete_removes_every_version_file(alice_api, django_capture_on_commit_callbacks):
    template_id = _upload(alice_api).json()["id"]
    _new_version(alice_api, template_id)
    template = Template.objects.get(pk=template_id)
    storage = template.file.storage
    names = list(template.versions.values_list("file", flat=True))
    assert len(names) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(f"/api/v1/templates/{template_id}").status_code == 204
    assert not Template.objects.filter(pk=template_id).exists()
    assert not TemplateVersion.objects.filter(template_id=template_id).exists()
    assert not any(storage.exists(name) for name in names)


def test_another_organization_gets_404(alice_api, charlie_api):
    template_id = _upload(alice_api).json()["id"]
    assert charlie_api.get(f"/api/v1/templates/{template_id}").status_code == 404
    assert charlie_api.get(f"/api/v1/templates/{template_id}/versions").status_code == 404
    assert charlie_api.get(f"/api/v1/templates/{template_id}/variables").status_code == 404
    response = _new_version(charlie_api, template_id)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert charlie_api.delete(f"/api/v1/templates/{template_id}").status_code == 404
    assert charlie_api.get("/api/v1/templates").json()["results"] == []
    template = Template.objects.get(pk=template_id)
    assert template.version == 1
    assert TemplateVersion.objects.filter(template=template).count() == 1
