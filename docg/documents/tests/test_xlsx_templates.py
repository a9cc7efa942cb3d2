"""XLSX templates through docg's interfaces: upload checks, variables, lint, preflight, and a run to a PDF."""

import io
import re
import subprocess

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.documents.models import GeneratedDocument, Template
from docg.documents.rendering.preflight import render_preflight
from docg.documents.selectors import template_issues
from docg.documents.services import template_create
from docg.documents.tests import corpus
from docg.documents.tests.render_helpers import stored_template
from docg.documents.tests.test_document_actions import DONE
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_for_status


def _upload(client, filename="prices.xlsx", content=None, name="Prices"):
    file = SimpleUploadedFile(filename, content if content is not None else corpus.price_sheet_xlsx())
    return client.post("/api/v1/templates", {"name": name, "file": file}, format="multipart")


@pytest.mark.django_db
def test_an_uploaded_price_sheet_lists_its_variables_by_sheet_and_cell(alice_api):
    response = _upload(alice_api)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "xlsx" and created["lint_errors"] == []
    body = alice_api.get(f"/api/v1/templates/{created['id']}/variables").json()
    variables = {v["name"]: v["locations"] for v in body["variables"]}
    assert set(variables) == {"customer.name", "due", "items", "note", "number"}
    assert variables["due"] == [{"part": "sheet", "sheet": "Prices", "cell": "B8", "text": "{{ due }}"}]
    assert "{{ item.price }}" in [p["tag"] for p in body["placeholders"]]


@pytest.mark.django_db
def test_another_organization_gets_404_for_a_price_sheet(alice_api, charlie_api):
    template_id = _upload(alice_api).json()["id"]
    assert charlie_api.get(f"/api/v1/templates/{template_id}/variables").status_code == 404


@pytest.mark.django_db
def test_an_unclosed_tag_is_kept_with_a_lint_error_at_its_cell(alice_api):
    content = corpus.xlsx_with({"A1": "Total", "B4": "{{ total "})
    created = _upload(alice_api, content=content).json()
    [error] = created["lint_errors"]
    assert error["code"] == "template.malformed_tag"
    assert error["location"] == {"part": "sheet", "sheet": "Prices", "cell": "B4", "text": "{{ total"}
    [issue] = template_issues(Template.objects.get(pk=created["id"]))
    assert "(Prices!B4: {{ total )" in issue["message_human"]


def _xxe_xlsx() -> bytes:
    def poison(xml: bytes) -> bytes:  # openpyxl writes no XML declaration: the DOCTYPE opens the part
        return b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + xml.replace(b"Proposal ", b"&xxe;", 1)

    return corpus.transform(corpus.price_sheet_xlsx(), "xl/worksheets/sheet1.xml", poison)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "build", "code"),
    [
        pytest.param("prices.xlsx", _xxe_xlsx, "template.external_entities", id="xxe"),
        pytest.param(
            "prices.xlsx",
            lambda: corpus.zip_bomb_docx(package=corpus.price_sheet_xlsx(), part="xl/worksheets/sheet1.xml"),
            "template.zip_bomb",
            id="zip-bomb",
        ),
        pytest.param("prices.xlsm", corpus.price_sheet_xlsx, "template.macros_refused", id="xlsm"),
        pytest.param(
            "prices.xlsx",
            lambda: corpus.rewrite(corpus.price_sheet_xlsx(), extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"}),
            "template.macros_refused",
            id="vba-project",
        ),
        pytest.param("prices.xlsx", corpus.contract_docx, "template.wrong_kind", id="docx-named-xlsx"),
        pytest.param("contract.docx", corpus.price_sheet_xlsx, "template.wrong_kind", id="xlsx-named-docx"),
        pytest.param("prices.xlsx", lambda: b"\xd0\xcf\x11\xe0" + b"\0" * 600, "template.not_ooxml", id="old-xls"),
        pytest.param("prices.xls", corpus.price_sheet_xlsx, "template.unsupported_type", id="xls-suffix"),
    ],
)
def test_a_hostile_spreadsheet_is_refused_and_nothing_is_kept(alice_api, filename, build, code):
    response = _upload(alice_api, filename=filename, content=build())
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_preflight_names_missing_inputs_at_their_cells(cast):
    upload = SimpleUploadedFile("prices.xlsx", corpus.price_sheet_xlsx())
    template = template_create(organization=cast.acme, by=cast.alice, name="Prices", upload=upload)
    data = corpus.price_sheet_data()
    del data["due"]
    node = {"key": "sheet", "parameters": {"template_id": str(template.pk)}}
    [issue] = render_preflight("xlsx")(node=node, organization=cast.acme, trigger_data=data, language="en")
    assert issue["code"] == "data.unresolved_variables" and issue["missing"] == ["due"]
    [place] = issue["location"]["placeholders"]
    assert place["location"] == {"part": "sheet", "sheet": "Prices", "cell": "B8", "text": "{{ due }}"}
    wrong = {"key": "sheet", "parameters": {"template_id": str(template.pk)}}
    [refused] = render_preflight("docx")(node=wrong, organization=cast.acme, trigger_data=data, language="en")
    assert refused["code"] == "template.wrong_kind"


@pytest.mark.django_db
def test_preflight_reports_a_row_loop_without_its_end_at_its_cell(cast):
    content = corpus.xlsx_with({"A3": "{%tr for item in items %}", "A4": "{{ item }}"})
    template = template_create(
        organization=cast.acme, by=cast.alice, name="Broken", upload=SimpleUploadedFile("b.xlsx", content)
    )
    node = {"key": "sheet", "parameters": {"template_id": str(template.pk)}}
    issues = render_preflight("xlsx")(node=node, organization=cast.acme, trigger_data={"items": []}, language="en")
    assert [(i["code"], i["location"]["cell"]) for i in issues] == [("template.syntax_error", "A3")]
    assert "Prices!A3" in issues[0]["message_human"]


@pytest.mark.django_db(transaction=True)
def test_a_run_renders_the_price_sheet_and_its_pdf_shows_the_recalculated_total(cast, worker):
    template = stored_template(cast.acme, "xlsx", corpus.price_sheet_xlsx(), name="Proposta")
    workflow = active_workflow(
        cast,
        action(
            "sheet",
            "render",
            app="xlsx",
            parameters={"template_id": str(template.pk), "filename": "Proposta {{ trigger.number }}"},
        ),
        action("pdf", "convert", app="pdf", parameters={"document_id": "{{ steps.sheet.document_id }}"}),
    )
    execution = execution_start(workflow=workflow, trigger_data=corpus.price_sheet_data(), by=cast.alice)
    done = wait_for_status(execution.pk, *DONE, timeout=120)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_tech)
    sheet = GeneratedDocument.objects.get(execution=done, node_key="sheet")
    assert sheet.name == "Proposta P-2026-7.xlsx" and sheet.content_type.endswith("spreadsheetml.sheet")
    with sheet.file.open("rb") as handle:
        prices = openpyxl.load_workbook(io.BytesIO(handle.read()))["Prices"]
    assert prices["D7"].value == "=SUM(D4:D6)"
    pdf = GeneratedDocument.objects.get(execution=done, content_type="application/pdf")
    assert pdf.name == "Proposta P-2026-7.pdf"
    with pdf.file.open("rb") as handle:
        text = subprocess.run(["pdftotext", "-", "-"], input=handle.read(), capture_output=True, check=True).stdout
    words = re.sub(r"\s+", " ", text.decode())
    assert "Proposal P-2026-7 for Padaria Pão & Cia" in words
    assert "4,300.00" in words  # =SUM over the three repeated rows, computed by Calc


@pytest.mark.django_db(transaction=True)
def test_a_run_missing_data_of_a_template_analysed_at_no_upload_stops_at_the_cell(cast, worker):
    template = stored_template(cast.acme, "xlsx", corpus.xlsx_with({"C2": "{{ price|currency }}"}), name="P")
    workflow = active_workflow(
        cast, action("sheet", "render", app="xlsx", label="Planilha", parameters={"template_id": str(template.pk)})
    )
    # A template stored without the upload analysis: preflight reads the cells itself.
    execution = execution_start(workflow=workflow, trigger_data={"deal": {}}, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE, timeout=60)
    assert done.status == ExecutionStatus.NEEDS_REVIEW
    [issue] = done.preflight_summary["blocking"]
    assert issue["missing"] == ["price"]
    assert issue["location"]["placeholders"][0]["location"] == {
        "part": "sheet",
        "sheet": "Prices",
        "cell": "C2",
        "text": "{{ price|currency }}",
    }
