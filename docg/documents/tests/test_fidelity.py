"""Issue 14: what rendered wrong without a word (defects) and what a contract needs from data (features).

Each defect test failed before its fix; outputs are read back with python-docx, strict lxml and pdftotext.
"""

import io
import re
import zipfile

import docx
import pytest
from lxml import etree

from docg.common.errors import DocgError
from docg.documents.rendering.docx import render_docx
from docg.documents.tests import corpus
from docg.documents.tests.render_helpers import text_of, xml_parts

WORD = r"word/(document|header\d*|footer\d*)\.xml"


def _parts(rendered: bytes) -> dict[str, str]:
    """Every Word part of the output, each parsed strictly: a recovering parser would hide corruption."""
    parts = xml_parts(rendered, WORD)
    for xml in parts.values():
        etree.fromstring(xml.encode())  # raises on anything a strict reader (Word) would refuse
    return parts


def _body(rendered: bytes) -> str:
    return text_of(_parts(rendered)["word/document.xml"])


# --- defect 1: control characters in data -----------------------------------------------------


@pytest.mark.parametrize("control", ["\x0b", "\x01", "\a", "\f", "\x1f", "\x00"])
def test_a_control_character_in_data_does_not_erase_markup_elsewhere(control):
    template = corpus.docx_with("{{ a }}", "x < y & z > w: {{ b }}", header="Head {{ a }} & co")
    rendered = render_docx(template, {"a": f"one{control}two", "b": "<R&D>"})
    body = _body(rendered)
    assert "x < y & z > w: <R&D>" in body
    assert "one" in body and "two" in body and control not in body
    assert "Head one" in text_of(_parts(rendered)["word/header1.xml"])


def test_tab_and_newline_in_data_become_a_tab_and_a_line_break():
    rendered = render_docx(corpus.docx_with("{{ a }}"), {"a": "name\tvalue\r\nsecond line\x0bthird"})
    paragraph = docx.Document(io.BytesIO(rendered)).paragraphs[0]
    xml = paragraph._p.xml
    assert xml.count("<w:tab/>") == 1 and xml.count("<w:br/>") == 2
    assert paragraph.text == "name\tvalue\nsecond line\nthird"


def test_control_characters_in_link_text_and_core_properties_are_removed():
    document = docx.Document()
    document.add_paragraph("{{ link('https://example.com', label) }}")
    document.core_properties.title = "{{ label }}"
    out = io.BytesIO()
    document.save(out)
    rendered = render_docx(out.getvalue(), {"label": "Site\x01 oficial"})
    assert "Site oficial" in _body(rendered)
    assert docx.Document(io.BytesIO(rendered)).core_properties.title == "Site oficial"


# --- defect 2: string literals inside tags ----------------------------------------------------


def test_string_literals_in_tags_are_escaped_once():
    template = corpus.docx_with(
        '{{ x|default("R&D") }}', '{{ "Tom & Jerry" }}', "{{ '<b>' ~ name }}", "{{ '&lt;' }}", header='{{ "A & B" }}'
    )
    rendered = render_docx(template, {"name": "Ana & Bia"})
    body = _body(rendered)
    assert "R&D" in body and "Tom & Jerry" in body and "<b>Ana & Bia" in body
    assert "&lt;" in body  # typed as text in Word, it stays that text
    assert "&amp;" not in body
    assert "A & B" in text_of(_parts(rendered)["word/header1.xml"])


# --- defect 3: entities Word writes inside tags -----------------------------------------------


def _word_entities(template: bytes) -> bytes:
    """The template as Word 2016 saves it: quotes inside text written as &quot; / &apos;."""

    def text_only(xml: bytes) -> bytes:
        # only inside <w:t>…</w:t>: attribute quotes must stay quotes
        return re.sub(
            rb"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)",
            lambda m: m.group(1) + m.group(2).replace(b'"', b"&quot;").replace(b"'", b"&apos;") + m.group(3),
            xml,
        )

    return corpus.transform(template, "word/document.xml", text_only)


def test_preflight_reads_a_part_where_word_wrote_entities_inside_tags():
    from docg.documents.rendering.variables import docx_placeholders

    template = _word_entities(
        corpus.docx_with(
            "{{ customer.name }}",
            "{{ total|currency(\"BRL\") }} on {{ due|date('dd/MM/yyyy') }}",
            '{{ city|default("São Paulo") }} {{ note }}',
        )
    )
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        assert b"&quot;BRL&quot;" in package.read("word/document.xml")
    assert {p.name for p in docx_placeholders(template)} == {"customer.name", "total", "due", "note"}
    rendered = render_docx(template, {"customer": {"name": "Ana"}, "total": 10, "due": "2026-01-02", "note": "n"})
    assert "R$ 10,00 on 02/01/2026" in _body(rendered).replace("\xa0", " ")


def test_a_part_jinja_cannot_read_is_reported_with_its_location_not_skipped():
    from docg.documents.rendering.variables import docx_placeholders

    template = corpus.docx_with("{{ customer.name }}", "{% for x in items %}", "no end", header="{{ ok }}")
    with pytest.raises(DocgError) as caught:
        docx_placeholders(template)
    assert caught.value.code == "template.syntax_error"
    assert caught.value.details["location"]["part"] == "body"


@pytest.mark.django_db
def test_preflight_reports_an_unreadable_part_as_a_template_issue_with_its_location(cast):
    from docg.documents.rendering.preflight import render_preflight
    from docg.documents.tests.render_helpers import stored_template

    template = stored_template(cast.acme, "docx", corpus.docx_with("{{ a }}", "{% for x in items %}", "no end"))
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    [issue] = render_preflight("docx")(node=node, organization=cast.acme, trigger_data={"a": 1}, language="en")
    assert (issue["code"], issue["domain"]) == ("template.syntax_error", "template")
    assert issue["location"]["part"] == "body" and issue["location"]["template_id"] == str(template.pk)
    assert "has a malformed tag" in issue["message_human"]


# --- defect 4: {{r x }} / {{p x }} with a plain string -----------------------------------------


def _marker_template() -> bytes:
    document = docx.Document()
    paragraph = document.add_paragraph("Name: ")
    run = paragraph.add_run("{{r name }}")
    run.bold = True
    paragraph.add_run(" (client)")
    document.add_paragraph("{{p clause }}", style="Quote")
    document.add_paragraph("{{p image(logo, 10) }}")
    document.add_paragraph("end")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_run_and_paragraph_markers_with_plain_strings_write_valid_runs_and_paragraphs(tmp_path):
    from docg.documents.rendering.samples import sample_png
    from docg.documents.tests.render_helpers import libreoffice_text

    data = {"name": "Ana & Bia <Ltda>", "clause": "Cláusula 1\x0b segunda linha", "logo": _data_url(sample_png())}
    rendered = render_docx(_marker_template(), data)
    body = _parts(rendered)["word/document.xml"]
    assert not re.search(r"<w:p(?: [^>]*)?>[^<]", body) and not re.search(r"<w:body>[^<]", body)
    paragraphs = docx.Document(io.BytesIO(rendered)).paragraphs
    assert paragraphs[0].text == "Name: Ana & Bia <Ltda> (client)"
    assert [r.bold for r in paragraphs[0].runs if "Ana" in r.text] == [True]  # the tag's run formatting is kept
    assert paragraphs[1].text == "Cláusula 1\n segunda linha" and paragraphs[1].style.name == "Quote"
    assert "graphicData" in paragraphs[2]._p.xml
    text = libreoffice_text(rendered, ".docx", tmp_path)
    assert "Name: Ana & Bia <Ltda> (client)" in text and "Cláusula 1" in text and "segunda linha" in text


def _data_url(png: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode()


# --- defect 5: PowerPoint's typographic quotes ------------------------------------------------


def test_pptx_tags_with_typographic_quotes_render_and_text_keeps_them():
    from pptx import Presentation

    from docg.documents.rendering.pptx import render_pptx
    from docg.documents.tests.test_render_pptx import _deck

    left, right = "\u2018", "\u2019"  # what AutoCorrect writes for ' ' (and “ ” for " ")
    title = f"“Prazo”: {{{{ due|date(“dd/MM/yyyy”) }}}} - {{{{ name|default({left}sem nome{right}) }}}}"
    template = _deck(title, notes="{{ “nota” }}")
    slide = Presentation(io.BytesIO(render_pptx(template, {"due": "2026-11-24"}))).slides[0]
    assert slide.shapes.title.text == "“Prazo”: 24/11/2026 - sem nome"
    assert slide.notes_slide.notes_text_frame.text == "nota"


def test_pptx_preflight_reads_tags_with_typographic_quotes():
    from docg.documents.rendering.variables import pptx_placeholders
    from docg.documents.tests.test_render_pptx import _deck

    template = _deck("{{ due|date(“dd/MM/yyyy”) }} {{ customer.name }}")
    assert {p.name for p in pptx_placeholders(template)} == {"due", "customer.name"}


# --- defect 6: lint runs the renderer's preprocessing -----------------------------------------


def _lint(content: bytes) -> list[dict]:
    from docg.documents import lint, placeholders

    return lint.lint(placeholders.analyse(io.BytesIO(content), "docx"))


def _row_loop_in_one_row(*, header: bool = False) -> bytes:
    document = docx.Document()
    container = document.sections[0].header if header else document
    container.add_paragraph("Items")
    table = container.add_table(rows=2, cols=3, **({"width": docx.shared.Inches(6)} if header else {}))
    table.cell(0, 0).text = "Name"
    table.cell(1, 0).text = "{%tr for item in items %}"
    table.cell(1, 1).text = "{{ item.name }}"
    table.cell(1, 2).text = "{%tr endfor %}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("header", [False, True])
def test_a_row_loop_opened_and_closed_in_one_row_fails_lint_where_it_is(header):
    template = _row_loop_in_one_row(header=header)
    with pytest.raises(DocgError):  # what the renderer does with it
        render_docx(template, {"items": [{"name": "a"}]})
    errors = _lint(template)
    assert errors and {e["code"] for e in errors} == {"template.syntax_error"}
    where = errors[0]["location"]
    assert where["part"] == ("header" if header else "body")
    assert (where["table"], where["row"]) == (0, 1)
    assert "same table row" in errors[0]["message"]


def test_a_tag_sharing_a_paragraph_marker_would_be_lost_and_is_reported():
    errors = _lint(corpus.docx_with("{%p if vip %} Dear {{ name }}", "VIP", "{%p endif %}"))
    assert [e["tag"] for e in errors] == ["{{ name }}"]
    assert errors[0]["location"]["paragraph"] == 0


def test_a_part_that_fails_only_after_docxtpl_preprocessing_is_a_lint_error_with_its_part():
    # docxtpl's marker pattern stops at "%": the marker is left in place and Jinja cannot read it.
    template = corpus.docx_with("fine {{ a }}", "intro", footer='{{p note|default("100%") }}')
    with pytest.raises(DocgError):
        render_docx(template, {"a": 1, "note": "n"})
    errors = _lint(template)
    assert [e["code"] for e in errors] == ["template.syntax_error"]
    assert errors[0]["location"]["part"] == "footer"
    assert errors[0]["tag"] == '{{p note|default("100%") }}'


def test_the_corpus_contract_and_markers_stay_clean():
    from docg.documents.rendering.samples import contract_docx

    assert _lint(contract_docx()) == []
    assert _lint(_marker_template()) == []


# --- feature: rich text from data ---------------------------------------------------------------

CLAUSE_MD = """## Confidencialidade

As partes mantêm **sigilo** sobre *toda* informação ++recebida++, conforme [a lei](https://example.com/lgpd).
Segunda linha.

- primeiro item
- segundo **item**

1. passo um
2. passo dois

<script>alert(1)</script> & </w:t><w:p>"""

CLAUSE_HTML = (
    "<h1>Objeto</h1><p>O <b>fornecedor</b> <i>presta</i> <u>serviços</u> <a href='https://ex.com'>aqui</a>"
    "<br>nova linha <span onclick='x'>span</span></p><ul><li>um</li><li>dois</li></ul>"
    "<ol><li>primeiro</li></ol><p><a href='javascript:alert(1)'>js</a></p>"
)


def _rich_template() -> bytes:
    document = docx.Document()
    document.add_paragraph("Contrato")
    document.add_paragraph("{{p clause|rich }}")
    paragraph = document.add_paragraph("Nota: {{ note|rich }} fim")
    paragraph.runs[0].italic = True
    document.add_paragraph("{{p other|rich }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_rich_markdown_and_html_become_real_runs_paragraphs_lists_and_links(tmp_path):
    from docg.documents.tests.render_helpers import libreoffice_text

    data = {"clause": CLAUSE_MD, "note": "um **dois** três", "other": CLAUSE_HTML}
    rendered = render_docx(_rich_template(), data)
    parts = _parts(rendered)  # strict XML
    document = docx.Document(io.BytesIO(rendered))
    by_text = {p.text: p for p in document.paragraphs}
    assert by_text["Confidencialidade"].style.name == "Heading 2"
    clause = next(p for p in document.paragraphs if p.text.startswith("As partes"))
    assert clause.text == "As partes mantêm sigilo sobre toda informação recebida, conforme a lei.\nSegunda linha."
    runs = {r.text: r for r in clause.runs}
    assert runs["sigilo"].bold and runs["toda"].italic and runs["recebida"].underline
    assert by_text["primeiro item"].style.name == "List Bullet"
    assert by_text["passo dois"].style.name == "List Number"
    # Everything else is text, never markup
    assert any(p.text == "<script>alert(1)</script> & </w:t><w:p>" for p in document.paragraphs)
    assert "<script>" not in parts["word/document.xml"]
    links = [r.target_ref for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert sorted(links) == ["https://ex.com", "https://example.com/lgpd"]
    # inline: stays in its paragraph
    nota = next(p for p in document.paragraphs if p.text.startswith("Nota:"))
    assert nota.text == "Nota: um dois três fim"
    assert [(r.bold, r.italic) for r in nota.runs if r.text == "dois"] == [(True, True)]  # the tag's italic kept
    assert all(r.italic for r in nota.runs if r.text.strip())  # " fim", after the tag, stays italic too
    # HTML
    assert by_text["Objeto"].style.name == "Heading 1"
    objeto = next(p for p in document.paragraphs if p.text.startswith("O fornecedor"))
    assert objeto.text == "O fornecedor presta serviços aqui\nnova linha <span onclick='x'>span</span>"
    assert by_text["um"].style.name == "List Bullet" and by_text["primeiro"].style.name == "List Number"
    assert "js" in by_text  # a javascript: link is text without a link
    text = libreoffice_text(rendered, ".docx", tmp_path)
    for words in ("Confidencialidade", "sigilo sobre toda", "primeiro item", "passo dois", "O fornecedor presta"):
        assert words in text


def test_rich_text_without_the_templates_styles_uses_direct_formatting():
    from docg.documents.rendering import richtext

    previous = richtext.bind(None)
    try:
        xml = richtext.rich("# Title\n\n- item").docx_paragraphs("", "")
    finally:
        richtext.bind(previous)
    assert "<w:b/>" in xml and '<w:sz w:val="32"/>' in xml and "• " in xml
    etree.fromstring(f'<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{xml}</w:body>')


def test_rich_is_a_known_filter_for_lint():
    assert _lint(_rich_template()) == []


# --- feature: PPTX table-row loops --------------------------------------------------------------


def _price_deck(rows: list[list[str]]) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Preços para {{ customer }}"
    table = slide.shapes.add_table(len(rows), 2, Inches(1), Inches(2), Inches(6), Inches(3)).table
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


PRICE_ROWS = [
    ["Item", "Preço"],
    ["{%tr for item in items %}", ""],
    ["{{ loop.index }}. {{ item.name }}", "{{ item.price|currency('BRL') }}"],
    ["{%tr endfor %}", ""],
    ["Total", "{{ total|currency('BRL') }}"],
]


def _table_texts(rendered: bytes) -> list[list[str]]:
    from pptx import Presentation

    slide = Presentation(io.BytesIO(rendered)).slides[0]
    table = next(s for s in slide.shapes if s.has_table).table
    return [[c.text.replace("\xa0", " ") for c in row.cells] for row in table.rows]


def test_pptx_row_loop_repeats_its_rows_and_drops_the_marker_rows(tmp_path):
    from docg.documents.rendering.pptx import render_pptx
    from docg.documents.tests.render_helpers import libreoffice_text

    items = [{"name": "Plano {{ 7*7 }}", "price": 10}, {"name": "Suporte", "price": 2.5}]
    rendered = render_pptx(_price_deck(PRICE_ROWS), {"customer": "Ana", "items": items, "total": 12.5})
    assert _table_texts(rendered) == [
        ["Item", "Preço"],
        ["1. Plano {{ 7*7 }}", "R$ 10,00"],  # a value is never evaluated as a tag
        ["2. Suporte", "R$ 2,50"],
        ["Total", "R$ 12,50"],
    ]
    assert "2. Suporte" in libreoffice_text(rendered, ".pptx", tmp_path)
    empty = render_pptx(_price_deck(PRICE_ROWS), {"customer": "Ana", "items": [], "total": 0})
    assert _table_texts(empty) == [["Item", "Preço"], ["Total", "R$ 0,00"]]


def test_pptx_row_loop_without_its_end_fails_with_its_location():
    from docg.documents.rendering.pptx import render_pptx

    with pytest.raises(DocgError) as caught:
        render_pptx(_price_deck(PRICE_ROWS[:3]), {"customer": "Ana", "items": []})
    assert caught.value.code == "template.syntax_error" and "tr for" in caught.value.details["location"]["text"]


def test_pptx_row_loop_variables_are_not_inputs_and_lint_is_clean():
    from docg.documents import lint, placeholders
    from docg.documents.rendering.variables import pptx_placeholders

    template = _price_deck(PRICE_ROWS)
    assert {p.name for p in pptx_placeholders(template)} == {"customer", "items", "total"}
    analysis = placeholders.analyse(io.BytesIO(template), "pptx")
    assert lint.lint(analysis) == []
    names = {v["name"] for v in placeholders.variables(placeholders.placeholders(analysis))}
    assert names == {"customer", "items", "total"}


# --- feature: images from data ------------------------------------------------------------------


def _jpeg(color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(out, format="JPEG")
    return out.getvalue()


def _placeholder_picture_template() -> bytes:
    from docg.documents.rendering.samples import sample_png

    document = docx.Document()
    document.add_paragraph("Logo:")
    document.add_picture(io.BytesIO(sample_png()), width=docx.shared.Mm(30))
    document.inline_shapes[0]._inline.docPr.set("descr", "image:company.logo")  # where Word writes alt text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_placeholder_picture_is_replaced_by_alt_text_keeping_its_frame():
    from PIL import Image

    template = _placeholder_picture_template()
    before = docx.Document(io.BytesIO(template)).inline_shapes[0]
    rendered = render_docx(template, {"company": {"logo": _data_url(_jpeg())}})
    document = docx.Document(io.BytesIO(rendered))
    [shape] = document.inline_shapes
    assert (shape.width, shape.height) == (before.width, before.height)  # the template's frame
    blob = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
    with Image.open(io.BytesIO(blob)) as image:
        assert image.format == "PNG" and image.size == (40, 20)  # converted to the placeholder's format
        assert image.getpixel((5, 5))[0] > 150
    with pytest.raises(DocgError) as caught:
        render_docx(template, {"company": {}})
    assert caught.value.code == "data.unresolved_variables" and caught.value.details["missing"] == ["company.logo"]


@pytest.mark.django_db
def test_images_by_data_url_and_by_document_id_in_a_table_row_loop(cast):
    from django.core.files.base import ContentFile

    from docg.documents.models import GeneratedDocument
    from docg.documents.rendering.samples import sample_png

    stored = GeneratedDocument(organization=cast.acme, name="sig.png", content_type="image/png", size_bytes=100)
    stored.file.save("sig.png", ContentFile(sample_png()), save=False)
    stored.save()
    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "{%tr for s in signers %}"
    table.cell(1, 0).text = "{{ s.name }}"
    table.cell(1, 1).text = "{{ image(s.signature, 25) }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    out = io.BytesIO()
    document.save(out)
    signers = [{"name": "Ana", "signature": _data_url(sample_png())}, {"name": "Bia", "signature": str(stored.pk)}]
    rendered = render_docx(out.getvalue(), {"signers": signers}, organization_id=cast.acme.pk)
    _parts(rendered)
    result = docx.Document(io.BytesIO(rendered))
    assert [r.cells[0].text for r in result.tables[0].rows] == ["Ana", "Bia"]
    assert len(result.inline_shapes) == 2
    with pytest.raises(DocgError) as caught:
        render_docx(out.getvalue(), {"signers": signers}, organization_id=cast.globex.pk)
    assert caught.value.code == "template.image_unavailable"


# --- feature: clause library --------------------------------------------------------------------


def _clause_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Confidencialidade", level=2)
    document.add_paragraph("{{ customer }} mantém sigilo por {{ years }} anos.")
    document.add_paragraph("Item um", style="List Number")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Prazo"
    table.cell(0, 1).text = "{{ years }} anos"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_clause_is_included_rendered_with_the_same_data(cast, tmp_path):
    from docg.documents.tests.render_helpers import libreoffice_text, stored_template

    stored_template(cast.acme, "docx", _clause_docx(), name="Cláusula de sigilo")
    main = corpus.docx_with("Contrato com {{ customer }}", '{{p include("Cláusula de sigilo") }}', "Fim")
    rendered = render_docx(main, {"customer": "Ana", "years": 5}, organization_id=cast.acme.pk)
    _parts(rendered)
    document = docx.Document(io.BytesIO(rendered))
    texts = [p.text for p in document.paragraphs]
    assert texts == ["Contrato com Ana", "Confidencialidade", "Ana mantém sigilo por 5 anos.", "Item um", "Fim"]
    assert document.paragraphs[1].style.name == "Heading 2"
    assert [c.text for c in document.tables[0].rows[0].cells] == ["Prazo", "5 anos"]
    assert "Ana mantém sigilo por 5 anos" in libreoffice_text(rendered, ".docx", tmp_path)


@pytest.mark.django_db
def test_a_missing_clause_a_foreign_one_and_a_cycle_fail_with_what_is_wrong(cast):
    from docg.documents.tests.render_helpers import stored_template

    main = corpus.docx_with('{{p include("Sigilo") }}')
    stored_template(cast.globex, "docx", _clause_docx(), name="Sigilo")  # another organization's
    with pytest.raises(DocgError) as caught:
        render_docx(main, {}, organization_id=cast.acme.pk)
    assert caught.value.code == "template.not_found" and "Sigilo" in caught.value.message
    stored_template(cast.acme, "docx", corpus.docx_with('{{p include("B") }}'), name="A")
    stored_template(cast.acme, "docx", corpus.docx_with('{{p include("A") }}'), name="B")
    with pytest.raises(DocgError) as caught:
        render_docx(corpus.docx_with('{{p include("A") }}'), {}, organization_id=cast.acme.pk)
    assert "A → B → A" in caught.value.message


@pytest.mark.django_db
def test_preflight_reports_missing_clauses_cycles_and_the_inputs_clauses_read(cast):
    from docg.documents.rendering.preflight import render_preflight
    from docg.documents.tests.render_helpers import stored_template

    stored_template(cast.acme, "docx", _clause_docx(), name="Sigilo")
    stored_template(cast.acme, "docx", corpus.docx_with('{{p include("Loop") }}'), name="Loop")
    main = corpus.docx_with("{{ customer }}", '{{p include("Sigilo") }}', '{{p include("Nenhuma") }}', "x")
    template = stored_template(cast.acme, "docx", main)
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    issues = render_preflight("docx")(
        node=node, organization=cast.acme, trigger_data={"customer": "Ana"}, language="en"
    )
    by_code = {i["code"]: i for i in issues}
    assert by_code["template.not_found"]["location"]["text"] == '{{p include("Nenhuma") }}'
    assert by_code["data.unresolved_variables"]["missing"] == ["years"]
    places = by_code["data.unresolved_variables"]["location"]["placeholders"]
    assert places and {p["location"]["clause"] for p in places} == {"Sigilo"}
    looping = stored_template(cast.acme, "docx", corpus.docx_with('{{p include("Loop") }}'), name="Main")
    node = {"key": "r", "parameters": {"template_id": str(looping.pk)}}
    [issue] = render_preflight("docx")(node=node, organization=cast.acme, trigger_data={}, language="en")
    assert "Loop → Loop" in issue["details_tech"]["detail"]


# --- end to end: trigger → docx.render → pdf.convert -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_contract_with_rich_text_a_clause_and_images_runs_to_a_pdf(cast, worker):
    import subprocess

    from docg.documents.models import GeneratedDocument
    from docg.documents.rendering.samples import sample_png
    from docg.documents.tests.render_helpers import stored_template
    from docg.documents.tests.test_document_actions import DONE
    from docg.executions.choices import ExecutionStatus
    from docg.executions.engine import execution_start
    from docg.executions.tests.conftest import action, active_workflow
    from tests.fixtures.engine import wait_for_status

    stored_template(cast.acme, "docx", _clause_docx(), name="Sigilo")
    document = docx.Document(io.BytesIO(_placeholder_picture_template()))
    document.add_paragraph("Contrato com {{ customer }}")
    document.add_paragraph("{{p terms|rich }}")
    document.add_paragraph('{{p include("Sigilo") }}')
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "{%tr for s in signers %}"
    table.cell(1, 0).text = "{{ s.name }}"
    table.cell(1, 1).text = "{{ image(s.signature, 20) }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    out = io.BytesIO()
    document.save(out)
    template = stored_template(cast.acme, "docx", out.getvalue())
    data = {
        "customer": "Padaria Pão & Cia",
        "terms": "O **preço** é fixo.\n\n- entrega semanal\n- suporte",
        "years": 3,
        "company": {"logo": _data_url(_jpeg())},
        "signers": [{"name": "Ana Assinante", "signature": _data_url(sample_png())}],
    }
    workflow = active_workflow(
        cast,
        action("render", "render", app="docx", parameters={"template_id": str(template.pk)}),
        action("pdf", "convert", app="pdf", parameters={"document_id": "{{ steps.render.document_id }}"}),
    )
    execution = execution_start(workflow=workflow, trigger_data=data, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE, timeout=120)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_tech)
    pdf = GeneratedDocument.objects.get(execution=done, content_type="application/pdf")
    with pdf.file.open("rb") as handle:
        text = subprocess.run(["pdftotext", "-", "-"], input=handle.read(), capture_output=True, check=True).stdout
    words = re.sub(r"\s+", " ", text.decode())
    for expected in ("Contrato com Padaria Pão & Cia", "O preço é fixo.", "entrega semanal", "Confidencialidade"):
        assert expected in words
    assert "Padaria Pão & Cia mantém sigilo por 3 anos." in words and "Ana Assinante" in words


def test_a_placeholder_pictures_data_path_is_an_input_for_preflight():
    from docg.documents.rendering.variables import docx_placeholders

    assert {p.name for p in docx_placeholders(_placeholder_picture_template())} == {"company.logo"}


@pytest.mark.django_db
def test_preflight_reports_a_placeholder_pictures_missing_data_after_upload(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from docg.documents.rendering.preflight import render_preflight
    from docg.documents.services import template_create

    content = docx.Document(io.BytesIO(_placeholder_picture_template()))
    content.add_paragraph("{{ customer }}")
    out = io.BytesIO()
    content.save(out)
    upload = SimpleUploadedFile("logo.docx", out.getvalue())
    template = template_create(organization=cast.acme, by=cast.alice, name="Logo", upload=upload)
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    [issue] = render_preflight("docx")(node=node, organization=cast.acme, trigger_data={"customer": "A"}, language="en")
    assert issue["missing"] == ["company.logo"]


@pytest.mark.parametrize("filter_", ["safe", "urlize", "xmlattr"])
def test_no_filter_turns_data_into_raw_xml(filter_):
    value = {"v": "</w:t></w:r><w:r><w:t>x</w:t></w:r><w:r><w:t> https://e.com"}
    rendered = render_docx(corpus.docx_with(f"{{{{ v|{filter_} }}}}"), value)
    assert "</w:t></w:r><w:r><w:t>x" in _body(rendered)  # printed as text, the part still strict XML


# --- syntax reference ---------------------------------------------------------------------------


def test_the_syntax_reference_examples_render_as_documented():
    from docg.documents.rendering.syntax import REFERENCE

    for entry in REFERENCE:
        for example in (entry.en, entry.pt_br):
            if not example.result:
                continue
            body = _body(render_docx(corpus.docx_with(example.template), example.data)).replace("\xa0", " ")
            assert example.result in body.strip(), (entry.name, example.template, body)


def test_the_syntax_reference_lists_every_docg_filter_and_helper():
    from docg.documents.placeholders import RENDERER_HELPERS
    from docg.documents.rendering.docx import DOCX_FILTERS
    from docg.documents.rendering.syntax import reference

    names = " ".join(row["name"] for row in reference("pt-br"))
    for name in {"date", "currency", "number", *DOCX_FILTERS, *RENDERER_HELPERS} - {"safe", "urlize", "xmlattr"}:
        assert name in names


def test_each_numbered_list_from_rich_text_starts_at_one(tmp_path):
    from docg.documents.tests.render_helpers import libreoffice_text

    template = corpus.docx_with("{{p a|rich }}", "{{p b|rich }}")
    rendered = render_docx(template, {"a": "1. um\n2. dois", "b": "Texto\n\n1. outro"})
    document = docx.Document(io.BytesIO(rendered))
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert [p.text for p in numbered] == ["um", "dois", "outro"]
    assert ids[0] == ids[1] != ids[2]
    numbering = document.part.numbering_part.element
    for num_id in (ids[0], ids[2]):
        override = numbering.num_having_numId(num_id).xpath("./w:lvlOverride/w:startOverride/@w:val")
        assert override == ["1"]
    text = libreoffice_text(rendered, ".docx", tmp_path)
    assert "1. um 2. dois" in text and "1. outro" in text


def test_include_in_a_header_is_a_lint_error_and_a_render_error():
    template = corpus.docx_with("body", header='{{ include("Sigilo") }}')
    errors = _lint(template)
    assert [e["location"]["part"] for e in errors] == ["header"] and "body only" in errors[0]["message"]
    with pytest.raises(DocgError) as caught:
        render_docx(template, {})
    assert "in the body" in caught.value.message


@pytest.mark.parametrize("hostile", ["[a](" * 40_000, "**a" * 60_000, "*" * 190_000, "<b>" * 60_000])
def test_rich_text_parsing_stays_linear_on_hostile_input(hostile):
    import time

    from docg.documents.rendering.richtext import parse

    started = time.perf_counter()
    parse(hostile)
    assert time.perf_counter() - started < 10  # quadratic scanning took minutes here
