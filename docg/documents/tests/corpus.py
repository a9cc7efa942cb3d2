"""Templates the tests author: real .docx/.pptx/.xlsx built with python-docx, python-pptx and openpyxl, and hostile
packages."""

import io
import zipfile
from collections.abc import Callable

from docx import Document
from docx.shared import Pt
from pptx import Presentation
from pptx.util import Inches


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def split_runs(paragraph, *pieces: str) -> None:
    """Write a paragraph as separate runs, as Word does when formatting changes mid-tag."""
    for i, piece in enumerate(pieces):
        run = paragraph.add_run(piece)
        run.bold = i % 2 == 1  # different formatting: the runs cannot be merged
        run.font.size = Pt(11 + i % 2)


def contract_docx() -> bytes:
    """A contract: header/footer fields, a split-run tag, a conditional clause, a row loop, a nested table."""
    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Contract {{ contract.number }}"
    section.footer.paragraphs[0].text = "Signed for {{ company.name }} on {{ contract.date|date('short', 'pt-br') }}"
    document.add_heading("Service agreement", level=1)  # paragraph 0
    parties = document.add_paragraph("Between ACME Ltd and ")  # paragraph 1
    split_runs(parties, "{{ cus", "tomer.", "name }}", ", hereafter the Customer.")
    document.add_paragraph("{%p if customer.vip %}")  # paragraph 2
    document.add_paragraph("The Customer gets a {{ customer.discount }}% discount.")  # paragraph 3
    document.add_paragraph("{%p endif %}")  # paragraph 4
    table = document.add_table(rows=4, cols=2)
    table.cell(0, 0).text = "Item"
    table.cell(0, 1).text = "Price"
    table.cell(1, 0).text = "{%tr for item in items %}"
    table.cell(2, 0).text = "{{ item.name }}"
    table.cell(2, 1).text = "{{ item.price|currency('BRL') }} ({{ loop.index }})"
    table.cell(3, 0).text = "{%tr endfor %}"
    document.add_paragraph("Total: {{ total|currency('BRL') }}")  # paragraph 5
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Notes"
    inner = outer.cell(0, 1).add_table(rows=2, cols=1)
    inner.cell(1, 0).text = "{{ notes.internal }}"
    return _save(document)


def docx_with(*paragraphs: str, header: str = "", footer: str = "") -> bytes:
    document = Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    if footer:
        document.sections[0].footer.paragraphs[0].text = footer
    for text in paragraphs:
        document.add_paragraph(text)
    return _save(document)


def deck_pptx() -> bytes:
    """Five slides: a title, a split-run text box, a table, notes, and a repeated slide."""
    deck = Presentation()
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = "{{ deck.title }}"
    title.placeholders[1].text = "Prepared for {{ customer.name }}"

    text = deck.slides.add_slide(deck.slide_layouts[5])
    text.shapes.title.text = "Summary"
    box = text.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
    box.name = "Summary box"
    paragraph = box.text_frame.paragraphs[0]
    for i, piece in enumerate(("Revenue grew to {{ fig", "ures.rev", "enue|number }} this quarter")):
        run = paragraph.add_run()
        run.text = piece
        run.font.bold = i == 1

    table_slide = deck.slides.add_slide(deck.slide_layouts[5])
    table_slide.shapes.title.text = "Figures"
    table = table_slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    table.cell(0, 0).text = "Metric"
    table.cell(0, 1).text = "Value"
    table.cell(2, 0).text = "Margin"
    table.cell(2, 1).text = "{{ figures.margin }}%"

    notes = deck.slides.add_slide(deck.slide_layouts[5])
    notes.shapes.title.text = "Next steps"
    notes.notes_slide.notes_text_frame.text = "Remind {{ presenter.name }} to call the customer."

    repeated = deck.slides.add_slide(deck.slide_layouts[5])
    repeated.shapes.title.text = "{{ product.name }}: {{ product.price|currency('USD') }}"
    repeated.notes_slide.notes_text_frame.text = "{% slide for product in products %}"
    return _save(deck)


def rewrite(package: bytes, changes: dict[str, bytes | None] | None = None, *, extra: dict[str, bytes] | None = None):
    """A copy of a zip package with some entries replaced (None drops one) and some added."""
    changes = changes or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename in changes:
                if changes[item.filename] is not None:
                    out.writestr(item.filename, changes[item.filename])
            else:
                out.writestr(item, source.read(item.filename))
        for name, content in (extra or {}).items():
            out.writestr(name, content)
    return buffer.getvalue()


def transform(package: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        original = source.read(name)
    return rewrite(package, {name: change(original)})


def xxe_docx() -> bytes:
    """word/document.xml declares an external entity that would read /etc/passwd, and uses it."""

    def poison(xml: bytes) -> bytes:
        declaration, body = xml.split(b"?>", 1)
        doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        return declaration + b"?>" + doctype + body.replace(b"{{ name }}", b"&xxe;", 1)

    return transform(docx_with("Hello {{ name }}"), "word/document.xml", poison)


def zip_bomb_docx(megabytes: int = 50, *, package: bytes | None = None, part: str = "word/document.xml") -> bytes:
    """A small .docx (or `package`) whose main part expands to `megabytes` of one repeated byte."""
    package = package or docx_with("Hello")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename == part:
                with out.open(part, "w", force_zip64=True) as entry:
                    chunk = b" " * (1024 * 1024)
                    for _ in range(megabytes):
                        entry.write(chunk)
            else:
                out.writestr(item, source.read(item.filename))
    return buffer.getvalue()


def macro_docx() -> bytes:
    """A .docx carrying a VBA project (what a .docm renamed to .docx looks like)."""
    return rewrite(docx_with("Hello {{ name }}"), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 512})


def macro_enabled_content_type_docx() -> bytes:
    def enable(xml: bytes) -> bytes:
        return xml.replace(
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml",
        )

    return transform(docx_with("Hello"), "[Content_Types].xml", enable)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def xlsx_with(cells: dict[str, str | float], *, sheet: str = "Prices", formats: dict[str, str] | None = None) -> bytes:
    """A one-sheet workbook with these cells ({"B4": "{{ total }}"}) and number formats."""
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for coordinate, value in cells.items():
        worksheet[coordinate] = value
    for coordinate, number_format in (formats or {}).items():
        worksheet[coordinate].number_format = number_format
    return _save(workbook)


def price_sheet_xlsx() -> bytes:
    """A price sheet: a heading, an item row repeated by a row loop, per-row and total formulas, a merged note
    below the loop, a typed due date, a print area, and a summary sheet that reads the total and the item rows
    (directly and through a named range)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.workbook.defined_name import DefinedName

    workbook = Workbook()
    prices = workbook.active
    prices.title = "Prices"
    prices["A1"] = "Proposal {{ number }} for {{ customer.name }}"
    prices["A1"].font = Font(bold=True, size=14)
    for column, heading in zip("ABCD", ("Item", "Qty", "Unit price", "Amount"), strict=True):
        prices[f"{column}3"] = heading
    prices["A4"] = "{%tr for item in items %}"
    prices["A5"] = "{{ item.name }}"
    prices["B5"] = "{{ item.qty }}"
    prices["C5"] = "{{ item.price }}"
    prices["D5"] = "=B5*C5"
    for cell in ("C5", "D5", "D7"):
        prices[cell].number_format = "#,##0.00"
    prices.row_dimensions[5].height = 24
    prices["A6"] = "{%tr endfor %}"
    prices["A7"] = "Total"
    prices["D7"] = "=SUM(D4:D6)"
    prices["A8"] = "Due"
    prices["B8"] = "{{ due }}"
    prices["B8"].number_format = "dd/mm/yyyy"
    prices.column_dimensions["A"].width = 30
    prices.column_dimensions["B"].width = 14
    prices.merge_cells("A9:D9")
    prices["A9"] = "{{ note }}"
    prices.print_area = "A1:D9"
    prices.print_title_rows = "3:3"
    summary = workbook.create_sheet("Summary")
    summary["A1"] = "Total"
    summary["B1"] = "=Prices!D7"
    summary["A2"] = "Items"
    summary["B2"] = "=COUNT(Prices!B5:B5)"
    summary["A3"] = "Named"
    summary["B3"] = "=SUM(Amounts)"
    workbook.defined_names["Amounts"] = DefinedName("Amounts", attr_text="Prices!$D$5:$D$5")
    return _save(workbook)


def price_sheet_data() -> dict:
    return {
        "number": "P-2026-7",
        "customer": {"name": "Padaria Pão & Cia"},
        "items": [
            {"name": "Consultoria", "qty": 2, "price": 1500.25},
            {"name": "Suporte <24h>", "qty": 3, "price": 400},
            {"name": "Licença", "qty": 1, "price": "99.5"},
        ],
        "due": "2026-11-24",
        "note": "Valid for 30 days",
    }
