"""PDF conversion through LibreOffice kept warm.

Starting LibreOffice costs about a second; converting a contract in a running
one costs tens of milliseconds. So each docg process keeps a small pool
(`PDF_POOL_SIZE`, default 2) of headless soffice processes and sends documents
to whichever is free.

Design
- One pool slot = one soffice with its own profile
  (`-env:UserInstallation=file:///dev/shm/docg-lo-…`, two instances never share a
  profile) plus `lo_worker.py`, a small UNO bridge run by the system Python
  (`LIBREOFFICE_PYTHON`, default /usr/bin/python3 -I: docg's venv cannot import
  `uno`). The bridge starts the soffice in its own process group, connects over
  a named UNO pipe, and converts one file per JSON line on stdin. Files travel
  through a private temporary directory, never through the pipe.
- A thread takes a free slot from a queue (so one soffice converts one
  document at a time: LibreOffice is not re-entrant), sends the request and
  waits for the answer with `select()` and the per-document timeout.
- Timeout (a hung soffice), a crashed soffice, a dead bridge, or an error
  answer: that document falls back to a cold `soffice --headless --convert-to
  pdf` with a fresh profile of its own and the same timeout (at least
  COLD_MIN_TIMEOUT_SECONDS: a cold start alone takes a second or two), so the
  worst case is the timeout plus the fallback's. A slot that timed out or died
  is killed (its whole process group, SIGKILL) and respawned in a background
  thread; it goes back into the queue once it answers again, so nobody waits
  for a restart they did not cause. A slot that fails to start is not tried
  again for START_BACKOFF_SECONDS (documents go cold meanwhile), and a slot is
  recycled after `PDF_MAX_CONVERSIONS_PER_PROCESS` documents, against slow
  leaks.
- Cold fallbacks are bounded by a semaphore the size of the pool.
- CPU per document (what `benchmark render --pdf` is bound by on a small machine):
  soffice runs with jemalloc preloaded when the system has it
  (`LIBREOFFICE_PRELOAD`, "" for glibc's malloc: LibreOffice spends about a fifth of
  a conversion in malloc/free, and jemalloc cuts its CPU per contract by about a
  quarter), profiles, soffice's temporary files and the documents in transit live
  on tmpfs (`PDF_WORK_DIR`, default /dev/shm when writable), and each profile
  starts with lo_worker.LEAN_SETTINGS (no idle word collection, spelling,
  recovery records or lock files).
- Safety: documents are opened hidden, read-only, with macros never executed
  and links never updated (no fetches of remote content from a template).
- Lifetime: slots start on first use (`start()` warms them ahead of time).
  `atexit` stops them; if docg dies without running atexit, each bridge sees
  EOF on stdin and takes its soffice down. After a fork (Dramatiq's worker
  processes) the child builds its own pool and never touches the parent's.
"""

import atexit
import contextlib
import json
import logging
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("lo_worker.py")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")
START_BACKOFF_SECONDS = 30
# A cold soffice needs a second or two just to start: a timeout sized for warm conversions
# (tens of milliseconds) must not doom the fallback too.
COLD_MIN_TIMEOUT_SECONDS = 30
# Where Debian/Ubuntu (libjemalloc2) and Fedora/Alpine put jemalloc.
JEMALLOC_PATHS = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2",
    "/usr/lib/libjemalloc.so.2",
)
COLD_FLAGS = ("--headless", "--invisible", "--nologo", "--nodefault", "--norestore", "--nolockcheck")
# Calc shows the results cached in a spreadsheet unless told to recalculate on load (its default for
# Excel and ODF files is "never"); a rendered sheet's inputs changed, so a cold soffice's fresh profile
# says "always". The warm bridge calls calculateAll() on each spreadsheet instead (lo_worker.py).
_RECALC_ITEM = (
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="{}" oor:op="fuse"><value>0</value></prop></item>'  # 0: always recalculate
)
RECALCULATE_ON_LOAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry">\n'
    + "".join(_RECALC_ITEM.format(mode) + "\n" for mode in ("OOXMLRecalcMode", "ODFRecalcMode"))
    + "</oor:items>\n"
)


class PdfConversionError(Exception):
    """LibreOffice could not turn the document into a PDF, warm or cold."""

    def __init__(self, message: str, *, transient: bool = False, details: dict | None = None):
        super().__init__(message)
        self.transient = transient
        self.details = details or {}


class _WarmFailed(Exception):
    """The warm path did not produce a PDF; the caller falls back to a cold soffice."""


def _setting(name: str, default):
    return getattr(settings, name, default) if settings.configured else default


def _preload() -> str:
    configured = _setting("LIBREOFFICE_PRELOAD", None)
    if configured is not None:
        return configured
    return next((path for path in JEMALLOC_PATHS if os.path.exists(path)), "")


def _work_dir() -> str | None:
    """A tmpfs folder for profiles and documents in transit when there is one (None: the system's temp)."""
    configured = _setting("PDF_WORK_DIR", None)
    if configured is not None:
        return configured or None
    shm = "/dev/shm"  # noqa: S108 (a private mkdtemp folder is made inside it)
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _kill_group(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


class _Slot:
    """One soffice and its bridge. Used by one thread at a time (the pool's queue hands it out)."""

    def __init__(self, index: int, pool: "PdfConverter"):
        self.index = index
        self.pool = pool
        self.profile = tempfile.mkdtemp(prefix=f"docg-lo-{os.getpid()}-{index}-", dir=pool.work_dir)
        self.bridge: subprocess.Popen | None = None
        self.soffice_pid: int | None = None
        self.conversions = 0
        self.starts = 0
        self.failed_at: float | None = None
        self.pipe = ""
        self._buffer = b""

    @property
    def alive(self) -> bool:
        return self.bridge is not None and self.bridge.poll() is None

    def start(self) -> None:
        self.kill()
        self.pipe = pipe = f"docg-lo-{os.getpid()}-{self.index}-{uuid.uuid4().hex[:8]}"
        log = open(Path(self.profile) / "bridge.log", "ab")  # noqa: SIM115 (the child keeps it)
        try:
            self.bridge = subprocess.Popen(  # noqa: S603 (fixed command line)
                [
                    self.pool.python,
                    "-I",  # isolated: not even the script's own folder (docg/documents/selectors.py!) on sys.path
                    str(WORKER_SCRIPT),
                    "--soffice",
                    self.pool.soffice,
                    "--profile",
                    self.profile,
                    "--pipe",
                    pipe,
                    "--startup-timeout",
                    str(self.pool.startup_timeout),
                    "--preload",
                    self.pool.preload,
                    "--tmpdir",
                    str(Path(self.profile) / "tmp"),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
                start_new_session=True,
            )
        finally:
            log.close()
        self._buffer, self.conversions = b"", 0
        self.starts += 1
        deadline = time.monotonic() + self.pool.startup_timeout + 10
        try:
            ready = self._read(self.pool.startup_timeout + 10)
            if "spawned" in ready:  # the soffice exists: from now on kill() can reach it
                self.soffice_pid = int(ready["spawned"])
                ready = self._read(max(0.1, deadline - time.monotonic()))
        except (TimeoutError, ConnectionError) as exc:
            ready = {"ready": False, "error": str(exc)}
        if not ready.get("ready"):
            self.kill()
            self.failed_at = time.monotonic()
            raise PdfConversionError(f"LibreOffice did not start: {ready.get('error')}", transient=True)
        self.soffice_pid = int(ready["soffice_pid"])
        self.failed_at = None

    def request(self, payload: dict, timeout: float) -> dict:
        assert self.bridge is not None and self.bridge.stdin is not None
        try:
            self.bridge.stdin.write(json.dumps(payload).encode() + b"\n")
        except (BrokenPipeError, OSError) as exc:
            raise ConnectionError(f"the LibreOffice bridge is gone ({exc})") from exc
        return self._read(timeout)

    def _read(self, timeout: float) -> dict:
        assert self.bridge is not None and self.bridge.stdout is not None
        fd = self.bridge.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"LibreOffice did not answer within {timeout:g} s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ConnectionError("the LibreOffice bridge exited")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def stop(self) -> None:
        """Ask the bridge to close its soffice; kill both if that takes too long."""
        if self.alive:
            with contextlib.suppress(OSError):
                self.bridge.stdin.write(b'{"op": "quit"}\n')
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.bridge.wait(timeout=10)
        self.kill()

    def kill(self) -> None:
        _kill_group(self.soffice_pid)
        if self.bridge is not None:
            _kill_group(self.bridge.pid)
            self.bridge.wait()
            for stream in (self.bridge.stdin, self.bridge.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
        self.bridge, self.soffice_pid = None, None
        if self.pipe:
            # A killed soffice leaves its named pipe's socket file behind (LibreOffice's OSL puts it in /tmp).
            Path(f"/tmp/OSL_PIPE_{os.getuid()}_{self.pipe}").unlink(missing_ok=True)  # noqa: S108
            self.pipe = ""


class PdfConverter:
    """A pool of warm LibreOffice processes with a cold fallback. Thread-safe."""

    def __init__(
        self,
        *,
        size: int | None = None,
        soffice: str | None = None,
        python: str | None = None,
        startup_timeout: float | None = None,
        max_conversions: int | None = None,
    ):
        self.size = max(1, int(size or _setting("PDF_POOL_SIZE", 2)))
        self.soffice = soffice or _setting("LIBREOFFICE_SOFFICE", "") or shutil.which("soffice") or "/usr/bin/soffice"
        self.python = python or _setting("LIBREOFFICE_PYTHON", "/usr/bin/python3")
        self.startup_timeout = float(startup_timeout or _setting("PDF_STARTUP_TIMEOUT_SECONDS", 60))
        self.max_conversions = int(max_conversions or _setting("PDF_MAX_CONVERSIONS_PER_PROCESS", 500))
        self.preload = _preload()
        self.work_dir = _work_dir()
        self.pid = os.getpid()
        self.stats: Counter = Counter()
        # Per warm conversion, the milliseconds of each phase inside LibreOffice and of the round trip
        # (writing the file, the bridge, reading the PDF back): what `benchmark render --pdf` reports.
        self.timings: deque[dict[str, float]] = deque(maxlen=10_000)
        self._lock = threading.Lock()
        self._closed = False
        self._slots = [_Slot(i, self) for i in range(self.size)]
        self._free: queue.Queue[_Slot] = queue.Queue()
        for slot in self._slots:
            self._free.put(slot)
        self._cold = threading.BoundedSemaphore(self.size)

    def convert(self, data: bytes, filename: str, *, timeout: float = 60) -> bytes:
        """The PDF of an office document (DOCX, PPTX, XLSX, ODT…); warm first, cold on failure."""
        if self._closed:
            raise PdfConversionError("The PDF converter has been shut down.", transient=True)
        workdir = Path(tempfile.mkdtemp(prefix="docg-pdf-", dir=self.work_dir))
        try:
            suffix = Path(filename or "").suffix.lower()
            source = workdir / f"document{suffix if _SUFFIX.match(suffix) else ''}"
            source.write_bytes(data)
            target = workdir / "document.pdf"
            try:
                started = time.monotonic()
                phases = self._convert_warm(source, target, timeout)
                self.timings.append({**phases, "round_trip": (time.monotonic() - started) * 1000})
                self._count("warm")
            except _WarmFailed as exc:
                logger.warning("Warm PDF conversion of %r failed (%s); falling back to a cold soffice.", filename, exc)
                self._count("fallback")
                target = self._convert_cold(source, workdir / "cold", max(timeout, COLD_MIN_TIMEOUT_SECONDS))
            pdf = target.read_bytes() if target.exists() else b""
            if not pdf.startswith(b"%PDF"):
                raise PdfConversionError("LibreOffice produced no PDF for this document.", details={"file": filename})
            return pdf
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def start(self) -> None:
        """Start every idle slot now, in parallel, instead of on first use."""
        idle = []
        while True:
            try:
                idle.append(self._free.get_nowait())
            except queue.Empty:
                break
        threads = [threading.Thread(target=self._respawn, args=(slot,), daemon=True) for slot in idle]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def soffice_pids(self) -> list[int]:
        return [slot.soffice_pid for slot in self._slots if slot.alive and slot.soffice_pid]

    def close(self) -> None:
        """Stop every soffice and remove the profiles (registered with atexit)."""
        if self.pid != os.getpid() or self._closed:
            return  # A forked child must not stop its parent's LibreOffice.
        self._closed = True
        for slot in self._slots:
            slot.stop()
            shutil.rmtree(slot.profile, ignore_errors=True)

    # --- internals --------------------------------------------------------------

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    def _convert_warm(self, source: Path, target: Path, timeout: float) -> dict[str, float]:
        try:
            slot = self._free.get(timeout=timeout)
        except queue.Empty:
            raise _WarmFailed(f"no LibreOffice was free within {timeout:g} s") from None
        healthy = False
        try:
            if self._closed:
                raise _WarmFailed("the converter is shutting down")
            if not slot.alive:
                if slot.failed_at is not None and time.monotonic() - slot.failed_at < START_BACKOFF_SECONDS:
                    # It failed to start a moment ago: do not make every document wait for another try.
                    healthy = True
                    raise _WarmFailed("LibreOffice failed to start a moment ago")
                slot.start()
            reply = slot.request({"op": "convert", "input": str(source), "output": str(target)}, timeout)
            if reply.get("ok"):
                healthy = True
                slot.conversions += 1
                return reply.get("phases") or {}
            healthy = not reply.get("fatal")
            raise _WarmFailed(reply.get("error") or "unknown error")
        except TimeoutError as exc:
            self._count("timeout")
            raise _WarmFailed(str(exc)) from exc
        except (ConnectionError, PdfConversionError) as exc:
            raise _WarmFailed(str(exc)) from exc
        finally:
            self._release(slot, healthy)

    def _release(self, slot: _Slot, healthy: bool) -> None:
        if healthy and slot.conversions < self.max_conversions:
            self._free.put(slot)
            return
        if healthy:
            slot.stop()  # recycled: let it close cleanly
        else:
            slot.kill()  # hung or crashed: no courtesy
            self._count("restart")
        threading.Thread(target=self._respawn, args=(slot,), name=f"lo-respawn-{slot.index}", daemon=True).start()

    def _respawn(self, slot: _Slot) -> None:
        try:
            if not self._closed and not slot.alive:
                slot.start()
        except PdfConversionError as exc:
            # Back in the queue dead: the next user tries to start it, and falls back if it cannot.
            logger.error("Could not restart LibreOffice slot %d: %s", slot.index, exc)
        finally:
            self._free.put(slot)

    def _convert_cold(self, source: Path, outdir: Path, timeout: float) -> Path:
        if not self._cold.acquire(timeout=timeout):
            raise PdfConversionError("Too many PDF conversions are falling back at once.", transient=True)
        profile = tempfile.mkdtemp(prefix="docg-lo-cold-", dir=self.work_dir)
        try:
            (Path(profile) / "user").mkdir()
            (Path(profile) / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD)
            outdir.mkdir(exist_ok=True)
            profile_url = f"-env:UserInstallation={Path(profile).as_uri()}"
            process = subprocess.Popen(  # noqa: S603 (fixed command line)
                [self.soffice, *COLD_FLAGS, profile_url, "--convert-to", "pdf", "--outdir", str(outdir), str(source)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.communicate()
                raise PdfConversionError(
                    f"LibreOffice did not convert the document within {timeout:g} s.", transient=True
                ) from None
            finally:
                _kill_group(process.pid)  # soffice.bin may linger after its wrapper exits
            result = outdir / f"{source.stem}.pdf"
            if process.returncode != 0 or not result.exists():
                raise PdfConversionError(
                    "LibreOffice could not convert the document to PDF.",
                    details={"returncode": process.returncode, "output": output.decode(errors="replace")[-2000:]},
                )
            return result
        finally:
            self._cold.release()
            shutil.rmtree(profile, ignore_errors=True)


_converter: PdfConverter | None = None
_converter_lock = threading.Lock()


def get_converter() -> PdfConverter:
    """This process's converter (a forked child gets its own)."""
    global _converter
    with _converter_lock:
        if _converter is None or _converter.pid != os.getpid() or _converter._closed:
            _converter = PdfConverter()
            atexit.register(_converter.close)
        return _converter


def convert_to_pdf(data: bytes, filename: str, *, timeout: float = 60) -> bytes:
    """Convert an office document to PDF with this process's warm LibreOffice pool."""
    return get_converter().convert(data, filename, timeout=timeout)


def shutdown() -> None:
    """Stop this process's LibreOffice pool (the next conversion starts a new one)."""
    with _converter_lock:
        if _converter is not None:
            _converter.close()
