"""`manage.py benchmark render`: docs/s and ms/doc for DOCX, PPTX and (optionally) PDF.

The template is the three-page contract of docg.documents.rendering.samples
(header and footer fields, split-run tags, a conditional clause, a 20-row table
loop, an image, a hyperlink); the deck has four template slides, one repeated.
Series, all in the same run:

- docg DOCX: what `docx.render` runs (sandboxed environment, compiled parts
  kept, time budget);
- docg DOCX (cold): the same with no compiled-part cache (every render compiles);
- raw docxtpl: `DocxTemplate.render` with a plain `jinja2.Environment` (docxtpl's
  default; autoescape on and the same filters so the output is the same);
- docg PPTX;
- docg rich contract: `{{p clause_text|rich }}` (Markdown with a heading, bold, italic,
  underline, a link, bullet and numbered lists), `{{p include("…") }}` of a clause from the
  library (a heading, a field, a numbered list, a table) and images from data URLs (a logo,
  a signature per signer in a row loop), rendered as `docx.render` does, the clause read
  from a template of a temporary organization (deleted afterwards);
- raw docxtpl rich: the same document with docxtpl alone, the RichTextParagraph, the Subdoc
  (the clause rendered by docxtpl with the same data) and the InlineImages built by hand;
- with --pdf: render then `docg.documents.pdf.convert_to_pdf`, per document: one
  thread renders while W threads convert (a pipeline), and the CPU per contract
  (this process plus LibreOffice and its bridges, from /proc) is reported.

Rendering is CPU-bound Python, so W workers are W processes (forked), each
rendering its share after a short warm-up; docs/s is documents over wall time. Each
series also gives the render's own CPU time (the worker process's), the figure that
holds on a machine other jobs share, and the docg / docxtpl ratios give both.
PDF conversion happens in LibreOffice, so its W workers are threads.
Only the rich series writes: one organization and its clause template, deleted at the end.
"""

import base64
import io
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from docg.benchmarks.engine import percentile

WARMUP = 3
_JOBS: dict[str, Callable[[], Any]] = {}
_CLAUSE_ORGANIZATION: list[Any] = []  # set before the workers fork: the organization that holds the clause
SERIES = ("docg DOCX", "docg DOCX (cold)", "raw docxtpl", "docg PPTX")
RICH_SERIES = ("docg rich contract", "raw docxtpl rich")


def _raw_environment():
    import jinja2

    from docg.workflows.expressions import filter_currency, filter_date, filter_number

    env = jinja2.Environment(autoescape=True)
    env.filters.update({"date": filter_date, "currency": filter_currency, "number": filter_number})
    return env


def _raw_docxtpl(template: bytes, data: dict) -> bytes:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    from docg.documents.rendering.media import load_image

    env = _raw_environment()
    tpl = DocxTemplate(io.BytesIO(template))
    images: dict[str, bytes] = {}

    def image(src, width_mm=None, height_mm=None):
        images.setdefault(src, load_image(src, organization_id=None))
        return InlineImage(tpl, io.BytesIO(images[src]), width=Mm(width_mm) if width_mm else None)

    def link(url, text=None):
        return text or url

    tpl.render({"image": image, "link": link, **data}, jinja_env=env)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _raw_rich_text(tpl: Any) -> Any:
    """samples.RICH_CLAUSE as someone writes it with docxtpl's own classes (what `|rich` builds from Markdown)."""
    from docxtpl import RichText, RichTextParagraph

    rich = RichTextParagraph()
    rich.add("Obrigações das partes", parastyle="Heading2")
    text = RichText("A CONTRATADA prestará os serviços com ")
    text.add("diligência", bold=True)
    text.add(" e ")
    text.add("boa-fé", italic=True)
    text.add(", conforme o ")
    url = tpl.build_url_id("https://portal.example.com/contratos")
    text.add("portal do cliente", url_id=url, color="0563C1", underline=True)
    text.add(", e ")
    text.add("comunicará", underline=True)
    text.add(" qualquer atraso.")
    rich.add(text)
    for item in ("Entregar os relatórios mensais", "Manter sigilo sobre os dados pessoais"):
        rich.add(item, parastyle="ListBullet")
    rich.add("Garantir a continuidade do serviço", parastyle="ListBullet")
    for item in ("Primeira etapa: levantamento", "Segunda etapa: implantação", "Terceira etapa: operação assistida"):
        rich.add(item, parastyle="ListNumber")
    return rich


def _raw_docxtpl_rich(template: bytes, clause: bytes, data: dict) -> bytes:
    """The rich contract with docxtpl alone: RichTextParagraph, Subdoc and InlineImage built by hand."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    env = _raw_environment()
    tpl = DocxTemplate(io.BytesIO(template))

    def image(data_url: str, width_mm: float) -> Any:
        picture = io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))
        return InlineImage(tpl, picture, width=Mm(width_mm))

    clause_tpl = DocxTemplate(io.BytesIO(clause))
    clause_tpl.render(data, jinja_env=env)
    rendered = io.BytesIO()
    clause_tpl.save(rendered)
    rendered.seek(0)
    context = {
        **data,
        "logo_image": image(data["logo"], 20),
        "clause_rich": _raw_rich_text(tpl),
        "clause_subdoc": tpl.new_subdoc(rendered),
        "signers": [{**s, "signature_image": image(s["signature"], 25)} for s in data["signers"]],
    }
    tpl.render(context, jinja_env=env)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


@contextmanager
def clause_library() -> Iterator[Any]:
    """A temporary organization whose template library holds the rich contract's clause; deleted on the way out."""
    from django.core.files.base import ContentFile

    from docg.documents.models import Template
    from docg.documents.rendering.samples import RICH_CLAUSE_NAME, rich_clause_docx
    from docg.orgs.models import Organization

    organization = Organization.objects.create(name="benchmark render (temporary)")
    clause = rich_clause_docx()
    template = Template(organization=organization, name=RICH_CLAUSE_NAME, kind="docx", size_bytes=len(clause))
    template.file.save("clause.docx", ContentFile(clause), save=False)
    template.save()
    _CLAUSE_ORGANIZATION[:] = [organization.pk]
    try:
        yield organization.pk
    finally:
        _CLAUSE_ORGANIZATION.clear()
        _JOBS.clear()
        template.file.delete(save=False)
        organization.delete()


def _jobs() -> dict[str, Callable[[], Any]]:
    if _JOBS:
        return _JOBS
    from docg.documents.rendering.docx import docx_environment_uncached, render_docx
    from docg.documents.rendering.render import render_bytes
    from docg.documents.rendering.samples import contract_data, contract_docx, deck_data, deck_pptx

    contract, data, deck, slides = contract_docx(), contract_data(), deck_pptx(), deck_data()
    cold = docx_environment_uncached()
    _JOBS.update(
        {
            # The production path: render_bytes (with its time budget), as docx.render calls it.
            "docg DOCX": lambda: render_bytes("docx", contract, data),
            "docg DOCX (cold)": lambda: render_docx(contract, data, jinja_env=cold),
            "raw docxtpl": lambda: _raw_docxtpl(contract, data),
            "docg PPTX": lambda: render_bytes("pptx", deck, slides),
        }
    )
    if _CLAUSE_ORGANIZATION:
        _JOBS.update(_rich_jobs(_CLAUSE_ORGANIZATION[0]))
    return _JOBS


def _rich_jobs(organization_id: Any) -> dict[str, Callable[[], Any]]:
    from docg.documents.rendering.render import render_bytes
    from docg.documents.rendering.samples import rich_clause_docx, rich_contract_data, rich_contract_docx

    contract, raw_contract, clause = rich_contract_docx(), rich_contract_docx(raw=True), rich_clause_docx()
    data = rich_contract_data()
    return {
        "docg rich contract": lambda: render_bytes("docx", contract, data, organization_id=organization_id),
        "raw docxtpl rich": lambda: _raw_docxtpl_rich(raw_contract, clause, data),
    }


def _prepare(name: str) -> None:
    """Each worker process builds the samples and renders a few documents before the clock starts."""
    job = _jobs()[name]
    for _ in range(WARMUP):
        job()


def _pid(pause: float) -> int:
    time.sleep(pause)
    return os.getpid()


def _run_share(name: str, count: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms of this process) per document: on a shared machine wall time carries others' load."""
    job = _jobs()[name]
    timings = []
    for _ in range(count):
        started, cpu = time.perf_counter(), time.process_time()
        job()
        timings.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return timings


def _shares(docs: int, workers: int) -> list[int]:
    return [docs // workers + (1 if i < docs % workers else 0) for i in range(workers) if docs // workers or i < docs]


def _measure(name: str, docs: int, workers: int) -> tuple[list[tuple[float, float]], float]:
    """Per-document (wall ms, CPU ms) and wall seconds for `docs` renders spread over `workers` processes."""
    from django.db import connections

    shares = _shares(docs, workers)
    # Each forked worker opens its own connections (the rich series reads its clause): a socket or a pool
    # inherited from this process would be shared by several workers at once and hang.
    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(shares), mp_context=context, initializer=_prepare, initargs=(name,)) as pool:
        # Every process forked and warmed up before the clock starts.
        seen: set[int] = set()
        while len(seen) < len(shares):
            seen.update(pool.map(_pid, [0.02] * len(shares)))
        started = time.perf_counter()
        futures = [pool.submit(_run_share, name, share) for share in shares]
        timings = [pair for future in futures for pair in future.result()]
        wall = time.perf_counter() - started
    return timings, wall


def _line(name: str, timings: list[float], wall: float, cpu: list[float] | None = None) -> str:
    line = (
        f"  {name:<20} {len(timings) / wall:8.1f} docs/s   p50 {percentile(timings, 50):7.1f} ms/doc"
        f"   p95 {percentile(timings, 95):7.1f} ms/doc"
    )
    return line + (f"   CPU p50 {percentile(cpu, 50):7.1f} ms/doc" if cpu else "") + f"   n={len(timings)}"


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of this process and of every process it started (LibreOffice and its bridges)."""
    try:
        from docg.benchmarks.webhook import cpu_seconds, descendants
    except ImportError:
        return {}
    own = os.getpid()
    others = descendants(own) - {own}
    return {"docg": cpu_seconds(own), "libreoffice": sum(cpu_seconds(pid) for pid in others)}


def _pipeline(docs: int, workers: int, render: Callable[[], bytes], convert: Callable[[bytes], Any]):
    """Render on one thread while `workers` threads convert what it rendered.

    docxtpl is Python (one core at a time, the GIL) and conversion happens in LibreOffice,
    so the next contract renders while the pool converts: no soffice waits for a render
    and both cores stay busy, as with a worker process's several threads in production.
    Returns (render ms, conversion ms) per document.
    """
    rendered: queue.Queue = queue.Queue(maxsize=workers)
    render_ms: list[float] = []

    def produce() -> None:
        try:
            for _ in range(docs):
                started = time.perf_counter()
                data = render()
                render_ms.append((time.perf_counter() - started) * 1000)
                rendered.put(data)
        finally:  # the converters stop even when a render fails
            for _ in range(workers):
                rendered.put(None)

    def consume() -> list[float]:
        timings, failure = [], None
        while (data := rendered.get()) is not None:
            if failure is not None:
                continue  # keep draining, so the renderer never blocks on a full queue
            started = time.perf_counter()
            try:
                convert(data)
            except Exception as exc:
                failure = exc
            timings.append((time.perf_counter() - started) * 1000)
        if failure is not None:
            raise failure
        return timings

    with ThreadPoolExecutor(max_workers=workers + 1) as pool:
        producer = pool.submit(produce)
        consumers = [pool.submit(consume) for _ in range(workers)]
        producer.result()
        pdf_ms = [ms for future in consumers for ms in future.result()]
    return render_ms, pdf_ms


def _pdf_series(docs: int, workers: int, write: Callable[[str], Any]) -> dict[str, Any] | None:
    try:
        from docg.documents.pdf import convert_to_pdf, get_converter
    except ImportError as exc:
        write(f"  PDF                skipped: docg.documents.pdf is not available ({exc})")
        return None
    from docg.documents.rendering.docx import render_docx
    from docg.documents.rendering.samples import contract_data, contract_docx

    contract, data = contract_docx(), contract_data()
    converter = get_converter()
    # Every slot started and warm before the clock starts (the free slots queue round-robin): a slot
    # starting inside the timed window costs a second or two of CPU.
    for _ in range(converter.size):
        convert_to_pdf(render_docx(contract, data), "contract.docx")

    converter.timings.clear()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    render_ms, pdf_ms = _pipeline(
        docs, workers, lambda: render_docx(contract, data), lambda rendered: convert_to_pdf(rendered, "contract.docx")
    )
    wall = time.perf_counter() - started
    cpu_after = _cpu_seconds()
    write(_line("PDF conversion", pdf_ms, wall))
    write(_line("DOCX + PDF", [r + p for r, p in zip(render_ms, pdf_ms, strict=True)], wall))
    # Where a warm conversion's time goes: inside LibreOffice (load = import + layout, export = PDF filter,
    # close), and around it (temporary files, the JSON bridge, reading the PDF back).
    timings = list(converter.timings)
    phases = {name: [t.get(name, 0.0) for t in timings] for name in ("load", "export", "close")}
    outside = [t["round_trip"] - t.get("load", 0) - t.get("export", 0) - t.get("close", 0) for t in timings]
    write(
        "  PDF phases p50:    "
        + "   ".join(f"{name} {percentile(values, 50):.1f} ms" for name, values in phases.items())
        + f"   outside LibreOffice {percentile(outside, 50):.1f} ms   render {percentile(render_ms, 50):.1f} ms"
        + f"   (pool of {converter.size}, {workers} converting thread(s), 1 rendering)"
    )
    results = {
        "pdf_p50_ms": percentile(pdf_ms, 50),
        "pdf_p95_ms": percentile(pdf_ms, 95),
        "docs_per_second": docs / wall,
        "render_p50_ms": percentile(render_ms, 50),
    }
    if cpu_before and cpu_after:
        # The firm figure when other jobs share the machine: CPU per contract, and the rate it allows.
        cpu = {name: (cpu_after[name] - cpu_before[name]) * 1000 / docs for name in cpu_before}
        total = sum(cpu.values())
        cores = os.cpu_count() or 1
        write(
            f"  CPU per contract:  {total:.1f} ms (docg render + bridge {cpu['docg']:.1f} ms, LibreOffice "
            f"{cpu['libreoffice']:.1f} ms): at most {cores * 1000 / total:.1f} contracts/s on {cores} core(s)"
            f"   load average {os.getloadavg()[0]:.1f}"
        )
        results["cpu_ms_per_contract"] = {**cpu, "total": total}
    return results


def _series(names: tuple[str, ...], docs: int, workers: int, write: Callable[[str], Any], results: dict) -> None:
    for name in names:
        pairs, wall = _measure(name, docs, workers)
        timings, cpu = [w for w, _ in pairs], [c for _, c in pairs]
        write(_line(name, timings, wall, cpu))
        results[name] = {
            "docs_per_second": len(timings) / wall,
            "p50_ms": percentile(timings, 50),
            "p95_ms": percentile(timings, 95),
            "cpu_p50_ms": percentile(cpu, 50),
        }


def _ratio(results: dict, ours: str, theirs: str) -> tuple[float, float]:
    """docg / baseline, p50 wall and p50 CPU."""
    return (
        results[ours]["p50_ms"] / results[theirs]["p50_ms"],
        results[ours]["cpu_p50_ms"] / results[theirs]["cpu_p50_ms"],
    )


def run_render_benchmark(*, docs: int, workers: int, pdf: bool, write: Callable[[str], Any]) -> dict[str, Any]:
    """Render `docs` documents per series with `workers` workers; print and return the figures."""
    if docs < 1 or workers < 1:
        raise ValueError("--docs and --workers must be at least 1.")
    write(f"Render benchmark: {docs} documents per series, {workers} worker(s), {os.cpu_count()} CPU(s)")
    write("  3-page contract, 20-row table loop; 5-slide deck (one slide repeated)")
    results: dict[str, Any] = {}
    _series(SERIES, docs, workers, write, results)
    ratio, ratio_cpu = _ratio(results, "docg DOCX", "raw docxtpl")
    cold, cold_cpu = _ratio(results, "docg DOCX (cold)", "raw docxtpl")
    write(
        f"  docg DOCX / raw docxtpl (p50): {ratio:.2f}x, CPU {ratio_cpu:.2f}x  "
        f"(cold, compiling every part: {cold:.2f}x, CPU {cold_cpu:.2f}x; target <= 1.10x)"
    )
    results["ratio_to_raw"], results["cold_ratio_to_raw"] = ratio, cold
    results["cpu_ratio_to_raw"], results["cold_cpu_ratio_to_raw"] = ratio_cpu, cold_cpu
    write("  rich contract: Markdown clause (|rich), a clause from the library (include), logo + 3 signature images")
    with clause_library():
        _series(RICH_SERIES, docs, workers, write, results)
    rich, rich_cpu = _ratio(results, "docg rich contract", "raw docxtpl rich")
    write(f"  docg rich contract / raw docxtpl rich (p50): {rich:.2f}x, CPU {rich_cpu:.2f}x  (target <= 1.10x)")
    results["rich_ratio_to_raw"], results["rich_cpu_ratio_to_raw"] = rich, rich_cpu
    if pdf:
        results["pdf"] = _pdf_series(docs, workers, write)
    return results
