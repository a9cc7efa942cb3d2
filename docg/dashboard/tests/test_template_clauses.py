"""The template page with clauses: what they read (and in which clause), and includes that cannot be followed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.dashboard.tests.test_templates import stored
from docg.documents.models import Template
from docg.documents.tests import corpus

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_variables_of_included_clauses_with_the_clause(client, cast):
    client.force_login(cast.alice)
    stored(cast.acme, cast.alice, corpus.docx_with("Por {{ years }} anos."), name="Prazo")
    stored(cast.acme, cast.alice, corpus.docx_with("Sigilo.", '{{p include("Prazo") }}'), name="Sigilo")
    main = stored(cast.acme, cast.alice, corpus.docx_with("{{ customer }}", '{{p include("Sigilo") }}'))

    page = client.get(f"/templates/{main.pk}/").content.decode()

    assert 'data-variable="customer"' in page and 'data-variable="years"' in page
    assert "clause “Prazo”, body, paragraph 1" in page
    assert 'data-clause="Sigilo"' in page and 'data-clause="Prazo"' in page
    assert "clause “Sigilo”, body, paragraph 2" in page  # where Prazo is included
    assert "data-lint-errors" not in page


def test_a_missing_clause_and_a_cycle_show_on_the_page_with_their_location(client, cast):
    client.force_login(cast.alice)
    stored(cast.acme, cast.alice, corpus.docx_with('{{p include("Loop") }}'), name="Loop")
    main = stored(cast.acme, cast.alice, corpus.docx_with("x", '{{p include("Loop") }}', '{{p include("Nada") }}'))

    response = client.get(f"/templates/{main.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "This organization has no Word template named “Nada”" in page
    assert "body, paragraph 3" in page
    assert "a clause includes itself: Loop → Loop" in page


def test_an_upload_naming_a_missing_clause_is_kept_and_warned_about(client, cast):
    client.force_login(cast.alice)
    file = SimpleUploadedFile("c.docx", corpus.docx_with("Contrato", '{{p include("Sigilo") }}'))

    response = client.post("/templates/", {"name": "Contrato", "file": file}, follow=True)

    template = Template.objects.get(name="Contrato")
    assert response.redirect_chain[-1][0] == f"/templates/{template.pk}/"
    page = response.content.decode()
    assert "This organization has no Word template named “Sigilo”" in page and "(body, paragraph 2)" in page


def test_the_workflow_editor_offers_the_variables_of_included_clauses(client, cast):
    import json

    client.force_login(cast.alice)
    stored(cast.acme, cast.alice, corpus.docx_with("Por {{ years }} anos."), name="Prazo")
    main = stored(cast.acme, cast.alice, corpus.docx_with("{{ customer }}", '{{p include("Prazo") }}'))
    plain = stored(cast.acme, cast.alice, corpus.docx_with("{{ other }}"), name="Plain")

    page = client.get("/workflows/new/").content.decode()

    data = json.loads(page.split('id="wf-editor-data" type="application/json">')[1].split("</script>")[0])
    choices = {t["id"]: t["variables"] for t in data["templates"]}
    assert choices[str(main.pk)] == ["customer", "years"]
    assert choices[str(plain.pk)] == ["other"]


def test_the_run_form_asks_for_what_included_clauses_read(client, cast):
    import json
    from html import unescape

    from docg.executions.tests.builders import PREPARE, action, active_workflow

    stored(cast.acme, cast.alice, corpus.docx_with("Por {{ years }} anos."), name="Prazo")
    main = stored(cast.acme, cast.alice, corpus.docx_with("{{ customer }}", '{{p include("Prazo") }}'))
    render = action("contract", "render", app="docx", parameters={"template_id": str(main.pk)})
    workflow = active_workflow(cast, PREPARE, render, name="Contract")
    client.force_login(cast.alice)

    page = client.get(f"/workflows/{workflow.pk}/run/").content.decode()

    textarea = page.split("data-json-editor")[1].split(">", 1)[1].split("</textarea>")[0]
    assert json.loads(unescape(textarea)) == {"customer": "", "years": ""}
