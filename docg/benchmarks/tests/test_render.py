import io

import docx
import pytest

from docg.benchmarks.render import _raw_docxtpl_rich, clause_library, run_render_benchmark
from docg.documents.models import Template
from docg.orgs.models import Organization

# The rich series reads its clause from the database in forked workers: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_render_benchmark_prints_every_series(monkeypatch):
    import docg.documents.pdf as pdf

    monkeypatch.setattr(pdf, "convert_to_pdf", lambda data, filename: b"%PDF-1.4 stand-in")
    lines: list[str] = []
    results = run_render_benchmark(docs=2, workers=1, pdf=True, write=lines.append)
    printed = "\n".join(lines)
    series = ("docg DOCX", "docg DOCX (cold)", "raw docxtpl", "docg PPTX", "PDF conversion", "DOCX + PDF")
    for name in (*series, "docg rich contract", "raw docxtpl rich"):
        assert f"  {name} " in printed
    assert "docs/s" in printed and "p95" in printed
    assert results["docg DOCX"]["docs_per_second"] > 0
    assert results["ratio_to_raw"] > 0 and results["rich_ratio_to_raw"] > 0 and results["rich_cpu_ratio_to_raw"] > 0
    assert "CPU p50" in printed
    assert not Organization.objects.exists() and not Template.objects.exists()  # the clause library is gone


def _read(document: bytes):
    parsed = docx.Document(io.BytesIO(document))
    paragraphs = [(p.style.name, p.text) for p in parsed.paragraphs]
    cells = [[c.text for c in row.cells] for table in parsed.tables for row in table.rows]
    return paragraphs, cells, len(parsed.inline_shapes)


def test_the_rich_baseline_renders_the_same_document_as_docg():
    from docg.documents.rendering.render import render_bytes
    from docg.documents.rendering.samples import rich_clause_docx, rich_contract_data, rich_contract_docx

    data = rich_contract_data()
    with clause_library() as organization_id:
        ours = render_bytes("docx", rich_contract_docx(), data, organization_id=organization_id)
    raw = _raw_docxtpl_rich(rich_contract_docx(raw=True), rich_clause_docx(), data)

    paragraphs, cells, pictures = _read(ours)
    assert (paragraphs, cells, pictures) == _read(raw)
    assert ("Heading 2", "Obrigações das partes") in paragraphs and ("Heading 2", "Confidencialidade") in paragraphs
    assert ("List Bullet", "Manter sigilo sobre os dados pessoais") in paragraphs
    assert ["5 anos", "R$\xa012.345,50"] in cells and ["Signatário 3", ""] in cells
    assert pictures == 4  # the logo and three signatures
