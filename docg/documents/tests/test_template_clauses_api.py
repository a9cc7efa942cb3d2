"""Templates that include clauses: their variables through the API, and includes of missing clauses at upload."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.documents.models import Template
from docg.documents.tests import corpus

pytestmark = pytest.mark.django_db


def _upload(client, name: str, *paragraphs: str):
    file = SimpleUploadedFile(f"{name}.docx", corpus.docx_with(*paragraphs))
    response = client.post("/api/v1/templates", {"name": name, "file": file}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def test_variables_list_what_included_clauses_read_recursively_and_where(alice_api):
    _upload(alice_api, "Prazo", "Vigência de {{ years }} anos para {{ customer }}.")
    _upload(alice_api, "Sigilo", "{{ customer }} mantém sigilo.", '{{p include("Prazo") }}')
    main = _upload(alice_api, "Contrato", "Contrato com {{ customer }}", '{{p include("Sigilo") }}')

    body = alice_api.get(f"/api/v1/templates/{main['id']}/variables").json()

    places = {v["name"]: v["locations"] for v in body["variables"]}
    assert set(places) == {"customer", "years"}
    assert {p.get("clause") for p in places["customer"]} == {None, "Sigilo", "Prazo"}
    [years] = places["years"]
    assert (years["clause"], years["part"], years["paragraph"]) == ("Prazo", "body", 1)  # counted from 1
    assert [(c["name"], c["included_from"]) for c in body["clauses"]] == [("Sigilo", []), ("Prazo", ["Sigilo"])]
    assert body["clauses"][0]["location"]["paragraph"] == 2
    assert body["clauses"][1]["location"]["clause"] == "Sigilo"
    assert body["clause_errors"] == []


def test_missing_clauses_and_cycles_are_reported_not_crashed_on(alice_api):
    _upload(alice_api, "A", '{{p include("B") }}')  # B does not exist yet: a warning, the upload is kept
    _upload(alice_api, "B", '{{p include("A") }}')
    main = _upload(alice_api, "Main", "x", '{{p include("A") }}', '{{p include("Nenhuma") }}')

    response = alice_api.get(f"/api/v1/templates/{main['id']}/variables")

    assert response.status_code == 200
    errors = response.json()["clause_errors"]
    codes = sorted(e["code"] for e in errors)
    assert codes == ["template.clause_cycle", "template.clause_not_found"]
    missing = next(e for e in errors if e["code"] == "template.clause_not_found")
    assert missing["tag"] == 'include("Nenhuma")'
    assert missing["location"]["paragraph"] == 3 and "Nenhuma" in missing["message"]
    cycle = next(e for e in errors if e["code"] == "template.clause_cycle")
    assert "A → B → A" in cycle["message"] and cycle["location"]["clause"] == "B"
    assert [c["name"] for c in response.json()["clauses"]] == ["A", "B"]


def test_an_upload_naming_a_missing_clause_is_kept_with_a_located_warning(alice_api, cast):
    created = _upload(alice_api, "Contrato", "Contrato", "Texto", '{{p include("Cláusula de sigilo") }}')

    assert created["lint_errors"] == []  # not an error: the clause may be uploaded next
    [warning] = created["lint_warnings"]
    assert warning["code"] == "template.clause_not_found"
    assert warning["tag"] == 'include("Cláusula de sigilo")'
    assert (warning["location"]["part"], warning["location"]["paragraph"]) == ("body", 3)
    assert warning["location"]["text"] == '{{p include("Cláusula de sigilo") }}'
    assert "Cláusula de sigilo" in warning["message"]
    assert Template.objects.filter(organization=cast.acme, name="Contrato").exists()

    _upload(alice_api, "Cláusula de sigilo", "Sigilo.")
    file = SimpleUploadedFile("v2.docx", corpus.docx_with('{{p include("Cláusula de sigilo") }}'))
    response = alice_api.post(f"/api/v1/templates/{created['id']}/versions", {"file": file}, format="multipart")
    assert response.status_code == 201 and response.json()["lint_warnings"] == []


def test_a_clause_of_another_organization_does_not_count(alice_api, charlie_api):
    _upload(charlie_api, "Sigilo", "Sigilo de {{ secret }}.")
    created = _upload(alice_api, "Contrato", '{{p include("Sigilo") }}')

    assert [w["code"] for w in created["lint_warnings"]] == ["template.clause_not_found"]
    body = alice_api.get(f"/api/v1/templates/{created['id']}/variables").json()
    assert body["clauses"] == [] and "secret" not in {v["name"] for v in body["variables"]}


def test_a_pptx_upload_has_no_clause_checks(alice_api):
    file = SimpleUploadedFile("deck.pptx", corpus.deck_pptx())
    response = alice_api.post("/api/v1/templates", {"name": "Deck", "file": file}, format="multipart")
    assert response.status_code == 201 and response.json()["lint_warnings"] == []
    body = alice_api.get(f"/api/v1/templates/{response.json()['id']}/variables").json()
    assert body["clauses"] == [] and body["clause_errors"] == []


def test_a_clause_whose_file_storage_lost_is_reported_where_it_is_included(alice_api):
    lost = _upload(alice_api, "Sigilo", "Sigilo de {{ secret }}.")
    clause = Template.objects.get(pk=lost["id"])
    clause.file.storage.delete(clause.file.name)
    main = _upload(alice_api, "Contrato", "x", '{{p include("Sigilo") }}')

    assert main["lint_warnings"][0]["code"] == "template.unreadable"
    response = alice_api.get(f"/api/v1/templates/{main['id']}/variables")

    assert response.status_code == 200
    [error] = response.json()["clause_errors"]
    assert (error["code"], error["tag"], error["location"]["paragraph"]) == (
        "template.unreadable",
        'include("Sigilo")',
        2,
    )
