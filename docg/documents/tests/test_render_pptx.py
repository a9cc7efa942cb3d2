import io

import pytest
from pptx import Presentation
from pptx.util import Inches

from docg.common.errors import DocgError
from docg.documents.rendering.pptx import render_pptx
from docg.documents.rendering.samples import deck_data, deck_pptx, sample_png
from docg.documents.tests.render_helpers import TAG, libreoffice_text, xml_parts


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_pptx(deck_pptx(), deck_data())


def _texts(slide) -> list:
    found = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            found.append(shape.text_frame.text.replace("\xa0", " "))
        if shape.has_table:
            found.append([c.text.replace("\xa0", " ") for row in shape.table.rows for c in row.cells])
    return found


def _notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text.replace("\xa0", " ") if slide.has_notes_slide else ""


def _deck(*texts: str, notes: str = "", picture: bool = False) -> bytes:
    prs = Presentation()
    for text in texts:
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = text
        if picture:
            slide.shapes.add_picture(io.BytesIO(sample_png()), Inches(1), Inches(2))
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def test_the_deck_leaves_no_tag_in_slides_or_notes(rendered):
    parts = xml_parts(rendered, r"ppt/(slides|notesSlides)/[^/]+\.xml")
    assert parts
    for name, xml in parts.items():
        assert not TAG.search(xml), f"{name} still holds a tag"


def test_the_deck_has_five_slides_with_the_right_values(rendered):
    slides = list(Presentation(io.BytesIO(rendered)).slides)
    assert len(slides) == 5
    # Tags split across runs render whole (the first run keeps its formatting).
    assert _texts(slides[0]) == ["Proposta para Padaria Pão & Cia", "Contrato 2026-0042 · 10/11/2026"]
    assert _texts(slides[1]) == [
        "Resumo",
        ["Total", "R$ 12.345,50", "Vencimento", "24/11/2026", "Cliente", "Padaria Pão & Cia"],
    ]
    assert _texts(slides[2]) == ["1/2 · Entrega rápida", "Primeira entrega em 5 dias úteis."]
    assert _texts(slides[3]) == ["2/2 · Suporte", "Atendimento em português, das 8h às 20h."]
    assert _notes(slides[2]) == "Destaque: Entrega rápida"  # the marker line is gone
    assert _notes(slides[3]) == "Destaque: Suporte"
    assert _texts(slides[4]) == ["Obrigado, Ana Souza", "Desconto de 5%"]
    assert _notes(slides[4]) == "Falar com Ana Souza sobre o total R$ 12.345,50"


def test_the_deck_opens_in_libreoffice_with_its_text(rendered, tmp_path):
    text = libreoffice_text(rendered, ".pptx", tmp_path)
    for expected in ("Proposta para Padaria Pão & Cia", "R$ 12.345,50", "24/11/2026", "2/2 · Suporte"):
        assert expected in text


def test_an_empty_list_removes_the_repeated_slide():
    data = {**deck_data(), "highlights": []}
    slides = list(Presentation(io.BytesIO(render_pptx(deck_pptx(), data))).slides)
    assert [_texts(s)[0] for s in slides] == ["Proposta para Padaria Pão & Cia", "Resumo", "Obrigado, Ana Souza"]


def test_copies_of_a_slide_keep_their_pictures_and_notes():
    template = _deck("{{ item }}", notes="{% slide for item in names %}\nSobre {{ item }}", picture=True)
    prs = Presentation(io.BytesIO(render_pptx(template, {"names": ["Ana", "Bruno", "Caio"]})))
    slides = list(prs.slides)
    assert [_texts(s) for s in slides] == [["Ana"], ["Bruno"], ["Caio"]]
    assert [_notes(s) for s in slides] == ["Sobre Ana", "Sobre Bruno", "Sobre Caio"]
    for slide in slides:
        [picture] = [s for s in slide.shapes if s.shape_type == 13]  # PICTURE
        assert picture.image.blob == sample_png()


def test_a_marker_on_the_slide_itself_works_too():
    template = _deck("{% slide for n in numbers %}", "fixed")
    prs = Presentation(io.BytesIO(render_pptx(template, {"numbers": [1, 2]})))
    assert len(prs.slides) == 3


def test_python_internals_are_refused_with_the_slide():
    with pytest.raises(DocgError) as caught:
        render_pptx(_deck("ok", "{{ ''.__class__.__mro__ }}"), {})
    assert caught.value.code == "template.forbidden"
    assert caught.value.details["location"]["part"] == "slide 2"


def test_a_missing_value_names_the_field_and_the_slide():
    with pytest.raises(DocgError) as caught:
        render_pptx(_deck("Olá {{ customer.name }}"), {"customer": {}})
    error = caught.value
    assert error.code == "data.unresolved_variables"
    assert error.details["location"] == {"part": "slide 1", "paragraph": 1, "text": "Olá {{ customer.name }}"}


def test_a_repeat_over_something_missing_is_reported():
    with pytest.raises(DocgError) as caught:
        render_pptx(_deck("{{ x }}", notes="{% slide for x in nothing %}"), {})
    assert caught.value.code == "data.unresolved_variables"
    assert caught.value.details["location"]["part"] == "slide 1"


def test_a_file_that_is_not_a_presentation_is_unreadable():
    with pytest.raises(DocgError) as caught:
        render_pptx(b"PK\x05\x06" + b"\0" * 18, {})
    assert caught.value.code == "template.unreadable"
