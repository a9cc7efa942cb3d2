"""Templates and data authored in code: the contract and the deck used by the tests and `benchmark render`.

The contract is three pages: header and footer fields, tags split across runs,
a conditional clause, a 20-row table loop, an image and a hyperlink. The deck
has a title slide, a table slide, a slide repeated per highlight (marker in its
notes) and a closing slide.
"""

import base64
import io
from decimal import Decimal
from typing import Any

CLAUSE = (
    "Cláusula {n}. A CONTRATADA prestará ao CONTRATANTE, {{{{ customer.name }}}}, os serviços descritos "
    "neste instrumento, observados os prazos, as condições comerciais e os níveis de serviço acordados entre "
    "as partes, que declaram conhecer e aceitar integralmente as obrigações aqui previstas, inclusive as de "
    "confidencialidade, proteção de dados pessoais e continuidade operacional durante toda a vigência."
)


def sample_png(size: int = 32) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (size, size), (32, 96, 160))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def contract_data(rows: int = 20) -> dict[str, Any]:
    """Data for the contract: `rows` items whose totals add up to 12,345.50."""
    items = []
    for i in range(1, rows + 1):
        price = Decimal("600.00") if i < rows else Decimal("12345.50") - Decimal("600.00") * (rows - 1)
        items.append({"n": i, "description": f"Serviço {i:02d}", "quantity": 1, "unit_price": str(price)})
    return {
        "contract": {"number": "2026-0042"},
        "customer": {"name": "Padaria Pão & Cia", "email": "compras@paocia.com.br", "contact": "Ana Souza"},
        "issued_at": "2026-11-10",
        "due_date": "2026-11-24",
        "items": items,
        "total": str(sum(Decimal(item["unit_price"]) for item in items)),
        "has_discount": True,
        "discount_pct": 5,
        "portal_url": "https://portal.example.com/contratos/2026-0042",
        "logo": "data:image/png;base64," + base64.b64encode(sample_png()).decode(),
    }


def _split(paragraph, *pieces: str) -> None:
    """One run per piece, alternating bold, so a tag sits across runs as Word often leaves it."""
    for i, piece in enumerate(pieces):
        paragraph.add_run(piece).bold = bool(i % 2)


def contract_docx(clauses: int = 24) -> bytes:
    from docx import Document

    doc = Document()
    section = doc.sections[0]
    _split(section.header.paragraphs[0], "Contrato nº {{ contr", "act.number }} — {{ customer.name }}")
    section.footer.paragraphs[0].text = "Emitido em {{ issued_at|date('dd/MM/yyyy', 'pt-br') }} · {{ customer.email }}"
    doc.add_heading("Contrato de prestação de serviços", level=1)
    _split(doc.add_paragraph(), "Contratante: {{ cust", "omer.na", "me }} ({{ customer.email }})")
    doc.add_paragraph("{{ image(logo, 20) }}")
    doc.add_paragraph("Acompanhe em {{ link(portal_url, 'portal do cliente') }}.")
    doc.add_paragraph("Vencimento: {{ due_date|date('dd/MM/yyyy', 'pt-br') }}. Valor: {{ total|currency('BRL') }}.")
    for n in range(1, clauses // 2 + 1):
        doc.add_paragraph(CLAUSE.format(n=n))
    doc.add_paragraph("{%p if has_discount %}")
    doc.add_paragraph("Cláusula de desconto: o CONTRATANTE terá {{ discount_pct }}% de desconto à vista.")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if not has_discount %}")
    doc.add_paragraph("Sem desconto para pagamento à vista.")
    doc.add_paragraph("{%p endif %}")
    table = doc.add_table(rows=5, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("#", "Item", "Qtd", "Preço"), strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "{%tr for item in items %}"
    cells = table.rows[2].cells
    cells[0].text, cells[1].text = "{{ item.n }}", "{{ item.description }}"
    cells[2].text, cells[3].text = "{{ item.quantity }}", "{{ item.unit_price|currency('BRL') }}"
    table.rows[3].cells[0].text = "{%tr endfor %}"
    table.rows[4].cells[0].text, table.rows[4].cells[3].text = "Total", "{{ total|currency('BRL') }}"
    for n in range(clauses // 2 + 1, clauses + 1):
        doc.add_paragraph(CLAUSE.format(n=n))
    doc.add_paragraph("{{ customer.name }} — assinatura: ______________________")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def deck_data() -> dict[str, Any]:
    data = contract_data(rows=3)
    data["highlights"] = [
        {"title": "Entrega rápida", "text": "Primeira entrega em 5 dias úteis."},
        {"title": "Suporte", "text": "Atendimento em português, das 8h às 20h."},
    ]
    return data


def deck_pptx() -> bytes:
    """Four template slides; the third repeats per highlight, so two highlights give five slides."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = "Proposta para {{ customer.name }}"
    subtitle = title.placeholders[1].text_frame.paragraphs[0]
    for i, piece in enumerate(("Contrato {{ contr", "act.number }} · {{ issued_at|date('dd/MM/yyyy', ", "'pt-br') }}")):
        subtitle.add_run().text = piece
        subtitle.runs[i].font.bold = bool(i % 2)

    summary = prs.slides.add_slide(prs.slide_layouts[5])
    summary.shapes.title.text = "Resumo"
    table = summary.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(8), Inches(2)).table
    rows = (("Total", "{{ total|currency('BRL') }}"), ("Vencimento", "{{ due_date|date('dd/MM/yyyy', 'pt-br') }}"))
    rows += (("Cliente", "{{ customer.name }}"),)
    for r, (label, value) in enumerate(rows):
        table.cell(r, 0).text, table.cell(r, 1).text = label, value

    repeated = prs.slides.add_slide(prs.slide_layouts[1])
    repeated.shapes.title.text = "{{ loop.index }}/{{ loop.length }} · {{ item.title }}"
    repeated.placeholders[1].text_frame.text = "{{ item.text }}"
    repeated.notes_slide.notes_text_frame.text = "{% slide for item in highlights %}\nDestaque: {{ item.title }}"

    closing = prs.slides.add_slide(prs.slide_layouts[1])
    closing.shapes.title.text = "Obrigado, {{ customer.contact }}"
    closing.placeholders[1].text_frame.text = "{% if has_discount %}Desconto de {{ discount_pct }}%{% endif %}"
    closing.notes_slide.notes_text_frame.text = (
        "Falar com {{ customer.contact }} sobre o total {{ total|currency('BRL') }}"
    )
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


# --- the rich contract: rich text, a clause from the library and images from data --------------------

RICH_CLAUSE = (
    "## Obrigações das partes\n\n"
    "A CONTRATADA prestará os serviços com **diligência** e *boa-fé*, conforme o "
    "[portal do cliente](https://portal.example.com/contratos), e ++comunicará++ qualquer atraso.\n\n"
    "- Entregar os relatórios mensais\n"
    "- Manter sigilo sobre os dados pessoais\n"
    "- Garantir a continuidade do serviço\n\n"
    "1. Primeira etapa: levantamento\n"
    "2. Segunda etapa: implantação\n"
    "3. Terceira etapa: operação assistida"
)
RICH_CLAUSE_NAME = "Cláusula de sigilo"


def rich_contract_data(signers: int = 3) -> dict[str, Any]:
    """The contract's data plus a Markdown clause and signers, each with a signature image (a data URL)."""
    data = contract_data(rows=10)
    data["clause_text"] = RICH_CLAUSE
    data["signers"] = [
        {
            "name": f"Signatário {i}",
            "signature": "data:image/png;base64," + base64.b64encode(sample_png(24 + 8 * i)).decode(),
        }
        for i in range(1, signers + 1)
    ]
    return data


def rich_clause_docx() -> bytes:
    """A clause for the library: a heading, a field, a numbered list and a table."""
    from docx import Document

    doc = Document()
    doc.add_heading("Confidencialidade", level=2)
    doc.add_paragraph("{{ customer.name }} manterá sigilo sobre as informações recebidas por 5 anos.")
    doc.add_paragraph("Informações técnicas", style="List Number")
    doc.add_paragraph("Informações comerciais", style="List Number")
    table = doc.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text, table.cell(0, 1).text = "Prazo", "Multa"
    table.cell(1, 0).text, table.cell(1, 1).text = "5 anos", "{{ total|currency('BRL') }}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def rich_contract_docx(*, raw: bool = False, clauses: int = 8) -> bytes:
    """The contract with `{{p clause_text|rich }}`, `{{p include(…) }}`, a logo and signature images in a row loop.

    With `raw`, the same document for docxtpl alone: the tags print RichTextParagraph, Subdoc
    and InlineImage objects built by hand (the render benchmark's baseline).
    """
    from docx import Document

    tags = {
        "logo": "{{ logo_image }}" if raw else "{{ image(logo, 20) }}",
        "rich": "{{p clause_rich }}" if raw else "{{p clause_text|rich }}",
        "clause": "{{p clause_subdoc }}" if raw else '{{p include("' + RICH_CLAUSE_NAME + '") }}',
        "signature": "{{ s.signature_image }}" if raw else "{{ image(s.signature, 25) }}",
    }
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Contrato nº {{ contract.number }} — {{ customer.name }}"
    doc.add_heading("Contrato de prestação de serviços", level=1)
    doc.add_paragraph(tags["logo"])
    doc.add_paragraph("Contratante: {{ customer.name }} ({{ customer.email }})")
    for n in range(1, clauses // 2 + 1):
        doc.add_paragraph(CLAUSE.format(n=n))
    doc.add_paragraph(tags["rich"])
    doc.add_paragraph(tags["clause"])
    for n in range(clauses // 2 + 1, clauses + 1):
        doc.add_paragraph(CLAUSE.format(n=n))
    table = doc.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text, table.cell(0, 1).text = "Nome", "Assinatura"
    table.cell(1, 0).text = "{%tr for s in signers %}"
    table.cell(2, 0).text, table.cell(2, 1).text = "{{ s.name }}", tags["signature"]
    table.cell(3, 0).text = "{%tr endfor %}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
