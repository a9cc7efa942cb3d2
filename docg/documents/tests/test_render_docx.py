import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import docx
import pytest
from django.core.files.base import ContentFile

from docg.common.errors import DocgError
from docg.documents.models import GeneratedDocument
from docg.documents.rendering.docx import render_docx
from docg.documents.rendering.errors import step_error
from docg.documents.rendering.samples import contract_data, contract_docx, sample_png
from docg.documents.tests.render_helpers import TAG, libreoffice_text, text_of, xml_parts


@pytest.fixture(scope="module")
def contract() -> bytes:
    return contract_docx()


def _one_paragraph(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _render_text(template: bytes, data: dict, **kwargs) -> str:
    return text_of(xml_parts(render_docx(template, data, **kwargs), r"word/document\.xml")["word/document.xml"])


def test_contract_leaves_no_tag_in_any_part(contract):
    rendered = render_docx(contract, contract_data())
    parts = xml_parts(rendered, r"word/(document|header\d*|footer\d*)\.xml")
    assert {"word/document.xml", "word/header1.xml", "word/footer1.xml"} <= set(parts)
    for name, xml in parts.items():
        assert not TAG.search(xml), f"{name} still holds a tag"


def test_contract_values_and_formats_are_right(contract):
    rendered = render_docx(contract, contract_data())
    parts = {name: text_of(xml) for name, xml in xml_parts(rendered, r"word/.*\.xml").items()}
    body = parts["word/document.xml"]
    assert "Vencimento: 24/11/2026. Valor: R$ 12.345,50." in body
    # Tags split across runs ("{{ cust" + "omer.na" + "me }}") render whole; "&" is escaped and comes back.
    assert "Contratante: Padaria Pão & Cia (compras@paocia.com.br)" in body
    assert "Contrato nº 2026-0042 — Padaria Pão & Cia" in parts["word/header1.xml"]
    assert "Emitido em 10/11/2026 · compras@paocia.com.br" in parts["word/footer1.xml"]


def test_contract_table_loop_conditional_image_and_link_open_in_python_docx(contract):
    document = docx.Document(io.BytesIO(render_docx(contract, contract_data())))
    table = document.tables[0]
    assert len(table.rows) == 1 + 20 + 1  # header, one row per item, total
    assert [c.text for c in table.rows[1].cells] == ["1", "Serviço 01", "1", "R$\xa0600,00"]
    assert [c.text for c in table.rows[20].cells] == ["20", "Serviço 20", "1", "R$\xa0945,50"]
    assert table.rows[21].cells[3].text == "R$\xa012.345,50"
    texts = [p.text for p in document.paragraphs]
    assert any("5% de desconto" in t for t in texts)
    assert not any("Sem desconto" in t for t in texts)
    assert len(document.inline_shapes) == 1
    links = [r.target_ref for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert links == ["https://portal.example.com/contratos/2026-0042"]
    assert any("portal do cliente" in t for t in texts)


def test_the_other_branch_of_the_conditional(contract):
    body = _render_text(contract, {**contract_data(), "has_discount": False})
    assert "Sem desconto para pagamento à vista." in body
    assert "de desconto à vista" not in body


def test_contract_opens_in_libreoffice_with_its_text(contract, tmp_path):
    text = libreoffice_text(render_docx(contract, contract_data()), ".docx", tmp_path)
    assert "R$ 12.345,50" in text
    assert "24/11/2026" in text
    assert "Serviço 20" in text
    assert "Contrato nº 2026-0042" in text  # the header


def test_en_us_formats():
    template = _one_paragraph(
        "{{ total|currency('USD') }} on {{ due|date('MM/dd/yyyy', 'en') }}, {{ n|number('en', 2) }}"
    )
    assert "$12,345.50 on 11/24/2026, 1,234.50" in _render_text(
        template, {"total": "12345.5", "due": "2026-11-24", "n": 1234.5}
    )


def test_markup_in_values_is_text_not_xml():
    text = _render_text(_one_paragraph("{{ name }}"), {"name": "</w:t><w:t>A & B <C>"})
    assert "</w:t><w:t>A & B <C>" in text


def test_values_are_never_evaluated_as_tags():
    assert "{{ 7 * 7 }}" in _render_text(_one_paragraph("{{ note }}"), {"note": "{{ 7 * 7 }}"})


@pytest.mark.parametrize(
    "tag",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ image.__globals__ }}",
        "{{ (1).__class__.__base__ }}",
    ],
)
def test_python_internals_are_refused_with_a_human_message(tag):
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph(f"Nome: {tag}"), {})
    assert caught.value.code == "template.forbidden"
    recorded = step_error(caught.value, language="pt-br", node="Contrato")
    assert recorded.human.startswith("O modelo da etapa 'Contrato' tenta acessar algo")
    assert recorded.details["location"]["part"] == "body"


@pytest.mark.parametrize(
    "tag",
    ["{{ link(u)._tpl.save(target) }}", "{{ link(u).tpl.save(target) }}", "{{ image(logo).tpl.save(target) }}"],
)
def test_helpers_do_not_open_the_document_object(tag, tmp_path):
    target = tmp_path / "written.docx"
    data = {"u": "https://example.com", "logo": contract_data()["logo"], "target": str(target)}
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph(tag), data)
    assert caught.value.code in ("template.forbidden", "data.unresolved_variables")
    assert not target.exists()


def test_a_template_that_loops_for_ever_is_stopped(settings):
    from docg.documents.rendering.render import render_bytes

    settings.DOCUMENT_RENDER_TIMEOUT_SECONDS = 1
    endless = _one_paragraph("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}")
    with pytest.raises(DocgError) as caught:
        render_bytes("docx", endless, {})
    assert caught.value.code == "template.render_timeout"
    assert caught.value.message == "more than 1 s"
    assert "took too long" in step_error(caught.value, language="en", node="r").human


def test_a_missing_value_names_the_field_and_where_it_is():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("Telefone: {{ customer.phone }}"), {"customer": {"name": "Ana"}})
    error = caught.value
    assert error.code == "data.unresolved_variables"
    assert error.details["missing"] == ["phone"]
    assert error.details["location"] == {"part": "body", "paragraph": 1, "text": "Telefone: {{ customer.phone }}"}
    assert "Telefone" in step_error(error, language="en", node="render").human


def test_a_malformed_tag_is_a_syntax_error_with_its_location():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("Total: {{ total | }}"), {"total": 1})
    assert caught.value.code == "template.syntax_error"
    assert caught.value.details["location"]["text"] == "Total: {{ total | }}"


def test_a_file_that_is_not_a_word_document_is_unreadable():
    with pytest.raises(DocgError) as caught:
        render_docx(b"%PDF-1.4 not a docx", {})
    assert caught.value.code == "template.unreadable"


def test_a_filter_error_fails_cleanly():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("{{ due|date('dd/MM/yyyy') }}"), {"due": "amanhã"})
    assert caught.value.code == "template.render_failed"
    assert "not a date" in caught.value.message


def test_hyperlinks_work_in_headers_too():
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "{{ link(site, 'Site') }}"
    out = io.BytesIO()
    document.save(out)
    rendered = docx.Document(io.BytesIO(render_docx(out.getvalue(), {"site": "https://example.com/"})))
    header_part = rendered.sections[0].header.part
    assert [r.target_ref for r in header_part.rels.values() if r.reltype.endswith("/hyperlink")] == [
        "https://example.com/"
    ]


def test_links_must_be_web_or_mail_addresses():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("{{ link(u) }}"), {"u": "javascript:alert(1)"})
    assert caught.value.code == "template.render_failed"


# --- images --------------------------------------------------------------------------


class _PngHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = sample_png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def png_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PngHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/logo.png"
    server.shutdown()
    server.server_close()


def test_an_image_url_on_a_private_address_is_refused(png_server):
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("{{ image(logo, 20) }}"), {"logo": png_server})
    assert caught.value.code == "template.image_unavailable"
    assert "loopback" in caught.value.message


def test_an_image_url_an_operator_allows_is_fetched(png_server, settings):
    settings.SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    rendered = docx.Document(io.BytesIO(render_docx(_one_paragraph("{{ image(logo, 20) }}"), {"logo": png_server})))
    assert len(rendered.inline_shapes) == 1


@pytest.mark.django_db
def test_an_image_from_a_stored_document_of_the_same_organization(cast):
    image = GeneratedDocument(organization=cast.acme, name="logo.png", content_type="image/png", size_bytes=100)
    image.file.save("logo.png", ContentFile(sample_png()), save=False)
    image.save()
    template = _one_paragraph("{{ image('document:' ~ logo_id, 15) }}")
    rendered = render_docx(template, {"logo_id": str(image.pk)}, organization_id=cast.acme.pk)
    assert len(docx.Document(io.BytesIO(rendered)).inline_shapes) == 1
    with pytest.raises(DocgError) as caught:
        render_docx(template, {"logo_id": str(image.pk)}, organization_id=cast.globex.pk)
    assert caught.value.code == "template.image_unavailable"


def test_bytes_that_are_not_an_image_fail_cleanly():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("{{ image(logo) }}"), {"logo": "data:image/png;base64,aGVsbG8="})
    assert caught.value.code == "template.image_unavailable"


def test_a_template_that_builds_a_huge_string_fails_with_a_clear_error():
    with pytest.raises(DocgError) as caught:
        render_docx(_one_paragraph("{{ 'a'.ljust(10**8) }}"), {})
    assert caught.value.code == "template.forbidden"
    assert "limit" in str(caught.value)
