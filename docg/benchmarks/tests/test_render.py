from docg.benchmarks.render import run_render_benchmark


def test_the_render_benchmark_prints_every_series(monkeypatch):
    import docg.documents.pdf as pdf

    monkeypatch.setattr(pdf, "convert_to_pdf", lambda data, filename: b"%PDF-1.4 stand-in")
    lines: list[str] = []
    results = run_render_benchmark(docs=2, workers=1, pdf=True, write=lines.append)
    printed = "\n".join(lines)
    for series in ("docg DOCX", "docg DOCX (cold)", "raw docxtpl", "docg PPTX", "PDF conversion", "DOCX + PDF"):
        assert f"  {series} " in printed
    assert "docs/s" in printed and "p95" in printed
    assert results["docg DOCX"]["docs_per_second"] > 0
    assert results["ratio_to_raw"] > 0
