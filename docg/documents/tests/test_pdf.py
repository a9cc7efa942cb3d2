"""PDF conversion through warm LibreOffice: real soffice processes, real PDFs read back with pdftotext."""

import io
import os
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from docg.documents.pdf import (
    COLD_MIN_TIMEOUT_SECONDS,
    PdfConversionError,
    PdfConverter,
    convert_to_pdf,
    shutdown,
)
from tests.fixtures.engine import wait_until


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as poppler reads it (proof that the file opens)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is not installed: `make test` installs it (apt-get install poppler-utils).")
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


def make_docx(*lines: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Amount"
    table.cell(1, 0).text, table.cell(1, 1).text = "Consulting", "R$ 12.345,50"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx(*titles: str) -> bytes:
    import pptx

    deck = pptx.Presentation()
    for title in titles:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"Body of {title}"
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module", autouse=True)
def libreoffice_installed():
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice is not installed: `make test` installs it (libreoffice-writer-nogui).")
    yield
    shutdown()


@pytest.fixture
def converter():
    """A private one-soffice pool, so killing its soffice disturbs no other test."""
    pool = PdfConverter(size=1)
    pool.start()
    yield pool
    pool.close()


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_converts_a_docx_into_a_pdf_with_its_words():
    pdf = convert_to_pdf(make_docx("Service Agreement", "Between Acme and Globex"), "contract.docx")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Service Agreement" in text
    assert "Between Acme and Globex" in text
    assert "R$ 12.345,50" in text


def test_it_converts_a_pptx_into_a_pdf_with_every_slide(tmp_path):
    pdf = convert_to_pdf(make_pptx("Quarterly Review", "Pipeline Forecast"), "deck.pptx")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for words in ("Quarterly Review", "Pipeline Forecast", "Body of Pipeline Forecast"):
        assert words in text
    (tmp_path / "deck.pdf").write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(tmp_path / "deck.pdf")], capture_output=True, check=True).stdout.decode()
    assert re.search(r"^Pages:\s+2$", info, re.MULTILINE), info


def test_four_threads_convert_at_once_on_the_warm_pool():
    pool = PdfConverter(size=2)
    try:
        pool.start()
        jobs = [
            (make_docx(f"Contract {i}", f"Marker docx-{i}"), "c.docx", f"docx-{i}")
            if i % 2 == 0
            else (make_pptx(f"Marker pptx-{i}"), "d.pptx", f"pptx-{i}")
            for i in range(8)
        ]
        with ThreadPoolExecutor(max_workers=4) as threads:
            pdfs = list(threads.map(lambda job: pool.convert(job[0], job[1], timeout=60), jobs))
        for (_, _, marker), pdf in zip(jobs, pdfs, strict=True):
            assert f"Marker {marker}" in pdf_text(pdf)
        assert pool.stats["warm"] == 8
        assert pool.stats["fallback"] == 0
    finally:
        pool.close()


def test_a_killed_soffice_is_replaced_and_the_next_document_still_converts(converter):
    converter.convert(make_docx("Before the crash"), "a.docx")
    [crashed] = converter.soffice_pids()
    os.killpg(crashed, signal.SIGKILL)

    pdf = converter.convert(make_docx("Right after the crash"), "b.docx")
    assert "Right after the crash" in pdf_text(pdf)
    assert converter.stats["restart"] == 1

    # The slot came back with a new soffice, and the warm path serves again.
    replacement = wait_until(lambda: converter.soffice_pids(), timeout=30, what="a new soffice")
    assert replacement != [crashed]
    # Reaping of the killed group's orphans is up to PID 1: give it a moment.
    wait_until(lambda: not _group_alive(crashed), timeout=10, what="the crashed soffice to be gone")
    warm_before = converter.stats["warm"]
    assert "Back to warm" in pdf_text(converter.convert(make_docx("Back to warm"), "c.docx"))
    assert converter.stats["warm"] == warm_before + 1


def test_a_hung_soffice_hits_the_timeout_and_the_document_falls_back_to_a_cold_one(converter):
    converter.convert(make_docx("Warm once"), "a.docx")
    [hung] = converter.soffice_pids()
    os.killpg(hung, signal.SIGSTOP)  # alive but answering nothing: a hang

    started = time.monotonic()
    pdf = converter.convert(make_docx("Converted by the fallback"), "b.docx", timeout=2)
    elapsed = time.monotonic() - started
    assert "Converted by the fallback" in pdf_text(pdf)
    assert converter.stats["timeout"] == 1
    assert converter.stats["fallback"] == 1
    # The warm attempt waited its 2 s, then a cold soffice (given at least COLD_MIN_TIMEOUT) converted it.
    assert 2 <= elapsed < 2 + COLD_MIN_TIMEOUT_SECONDS

    # The hung soffice was killed (SIGKILL works on a stopped process) and replaced.
    wait_until(lambda: not _group_alive(hung), timeout=10, what="the hung soffice to be gone")
    wait_until(lambda: converter.soffice_pids(), timeout=30, what="a new soffice")
    assert "Warm again" in pdf_text(converter.convert(make_docx("Warm again"), "c.docx"))


def test_a_file_libreoffice_cannot_read_is_a_conversion_error(converter):
    with pytest.raises(PdfConversionError):
        converter.convert(b"PK\x03\x04 this is no office document", "broken.docx", timeout=20)
    # The warm soffice survived the bad file.
    assert converter.soffice_pids()


def test_close_stops_every_soffice():
    pool = PdfConverter(size=2)
    pool.start()
    pids = pool.soffice_pids()
    assert len(pids) == 2
    pool.close()
    for pid in pids:
        wait_until(lambda pid=pid: not _group_alive(pid), timeout=10, what=f"soffice {pid} to stop")
    with pytest.raises(PdfConversionError):
        pool.convert(make_docx("Too late"), "late.docx")


def _group_maps(pgid: int) -> str:
    """The memory maps of every process in a process group (soffice's wrapper and soffice.bin)."""
    maps = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        with open(f"/proc/{entry}/maps") as found:
                            maps.append(found.read())
            except (OSError, IndexError, ValueError):
                continue
    return "\n".join(maps)


def test_the_warm_soffice_runs_with_the_configured_allocator_folder_and_lean_profile(settings, tmp_path):
    from docg.documents.pdf import JEMALLOC_PATHS

    jemalloc = next((path for path in JEMALLOC_PATHS if os.path.exists(path)), None)
    if jemalloc is None:
        pytest.skip("libjemalloc2 is not installed (make test installs it)")
    settings.LIBREOFFICE_PRELOAD, settings.PDF_WORK_DIR = None, str(tmp_path)
    pool = PdfConverter(size=1)
    try:
        pool.start()
        assert "Lean" in pdf_text(pool.convert(make_docx("Lean"), "lean.docx"))
        (pid,) = pool.soffice_pids()
        assert "libjemalloc" in _group_maps(pid)
        (profile,) = [path for path in tmp_path.iterdir() if path.name.startswith("docg-lo-")]
        # lo_worker.LEAN_SETTINGS (lo_worker imports uno, which only the system python3 has).
        registry = (profile / "user" / "registrymodifications.xcu").read_text()
        for node, name in (("Writer/AutoFunction/Completion", "CollectWords"), ("Recovery/AutoSave", "Enabled")):
            assert f'Office.{node}"><prop oor:name="{name}" oor:op="fuse"><value>false<' in registry
    finally:
        pool.close()
    assert list(tmp_path.iterdir()) == []  # profiles and documents in transit are gone

    settings.LIBREOFFICE_PRELOAD = ""  # glibc's malloc, as before
    pool = PdfConverter(size=1)
    try:
        assert "Plain" in pdf_text(pool.convert(make_docx("Plain"), "plain.docx"))
        (pid,) = pool.soffice_pids()
        assert "libjemalloc" not in _group_maps(pid)
    finally:
        pool.close()


def test_a_file_named_for_another_type_converts_by_its_contents(converter):
    # The warm path names the import filter from the package's main part, never from the suffix alone.
    assert "Deck named docx" in pdf_text(converter.convert(make_pptx("Deck named docx"), "deck.docx"))
    assert "Contract named pptx" in pdf_text(converter.convert(make_docx("Contract named pptx"), "doc.pptx"))
    assert converter.stats["fallback"] == 0
