"""One warm LibreOffice and the UNO bridge that drives it (run by /usr/bin/python3, not by docg's venv).

docg's own Python cannot import `uno` (Debian builds it for the system Python
only), so docg.documents.pdf starts this script with the system interpreter.
The script starts its soffice in its own process group with a private profile,
connects to it over a named UNO pipe, and then answers one JSON request per
line on stdin with one JSON line on stdout:

    {"op": "convert", "input": "/tmp/…/document.docx", "output": "/tmp/…/document.pdf"}
    → {"ok": true, "ms": 123, "phases": {"load": 61, "export": 55, "close": 7}}
    | {"ok": false, "error": "…", "fatal": false}

`load` is LibreOffice's import filter and the layout it builds on load, `export`
the PDF filter (and any layout it still forces), `close` disposing the document.

Per-document CPU (measured with `benchmark render --pdf`, see pdf.py): the soffice
is started with a memory allocator to preload (`--preload`, jemalloc: LibreOffice
spends a fifth of a conversion in glibc's malloc/free), its temporary files in
`--tmpdir` (docg passes one on tmpfs), and a profile seeded with LEAN_SETTINGS:
nothing a person at a keyboard would use (word completion collecting the words of
each document on idle, online spelling, autosave/recovery records, lock files).

A `fatal` answer means the soffice is gone or unusable; the script exits right
after it. EOF on stdin (docg's process ended, however it ended) or
{"op": "quit"} terminates soffice and the script, so no soffice outlives docg;
after EOF the script also removes the profile, which nobody else will.
The script uses only the standard library and `uno`.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

# Services a loaded document supports → the PDF export filter for it.
FILTERS = (
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.text.TextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
)


def _props(**values):
    props = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        props.append(prop)
    return tuple(props)


# The import filter for the packages docg renders, by the main part they hold. Anything else goes
# through LibreOffice's type detection. Not by suffix alone: a deck named .docx loads through the
# Word filter without an error, as an empty document.
IMPORT_FILTERS = (("word/document.xml", "MS Word 2007 XML"), ("ppt/presentation.xml", "Impress MS PowerPoint 2007 XML"))


def _import_filter(source: str) -> str | None:
    try:
        with zipfile.ZipFile(source) as package:
            names = set(package.namelist())
    except (OSError, zipfile.BadZipFile):
        return None
    return next((name for part, name in IMPORT_FILTERS if part in names), None)


# Documents come from untrusted templates: never run macros, never fetch linked content.
LOAD_PROPS = _props(Hidden=True, ReadOnly=True, MacroExecutionMode=0, UpdateDocMode=0, RepairPackage=False)


# (configuration path, property, value) written into a new profile: work a person at a keyboard
# needs and a converter does not. None of it changes how a document is laid out or exported.
LEAN_SETTINGS = (
    # Word completion collects every word of each loaded document in Writer's idle loop.
    ("/org.openoffice.Office.Writer/AutoFunction/Completion", "Enable", "false"),
    ("/org.openoffice.Office.Writer/AutoFunction/Completion", "CollectWords", "false"),
    ("/org.openoffice.Office.Linguistic/SpellChecking", "IsSpellAuto", "false"),
    # Documents are opened read-only from a private folder and never saved back: no recovery
    # records, no autosave timer, no lock files.
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
)


def seed_profile(profile: str) -> None:
    """Write LEAN_SETTINGS as the profile's user settings, unless soffice already made that file."""
    path = os.path.join(profile, "user", "registrymodifications.xcu")
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    items = "".join(
        f'<item oor:path="{node}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
        for node, name, value in LEAN_SETTINGS
    )
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
            ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{items}</oor:items>\n"
        )


def soffice_environment(preload: str, tmpdir: str) -> dict:
    env = dict(os.environ)
    if preload and os.path.exists(preload):
        env["LD_PRELOAD"] = " ".join(filter(None, (preload, env.get("LD_PRELOAD"))))
    if tmpdir:
        os.makedirs(tmpdir, exist_ok=True)
        env["TMPDIR"] = tmpdir
    return env


class Office:
    def __init__(self, soffice: str, profile: str, pipe: str, *, preload: str = "", tmpdir: str = ""):
        self.pipe = pipe
        seed_profile(profile)
        self.process = subprocess.Popen(  # noqa: S603 (fixed command line)
            [
                soffice,
                "--headless",
                "--invisible",
                "--nologo",
                "--nodefault",
                "--norestore",
                "--nolockcheck",
                "--nofirststartwizard",
                f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=soffice_environment(preload, tmpdir),
            start_new_session=True,  # its own group: soffice forks soffice.bin, and we kill both together
        )
        self.desktop = None

    def connect(self, timeout: float) -> None:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"soffice exited with status {self.process.returncode} while starting")
            try:
                ctx = resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"soffice did not accept UNO connections within {timeout:.0f} s") from None
                time.sleep(0.1)
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def alive(self) -> bool:
        return self.process.poll() is None

    def convert(self, source: str, target: str) -> dict:
        """Convert `source` to the PDF `target`; returns the milliseconds each phase took."""
        started = time.monotonic()
        url = uno.systemPathToFileUrl(source)
        doc = None
        known = _import_filter(source)
        if known:
            # Naming the import filter skips type detection (about 5 % of a contract's CPU).
            with contextlib.suppress(Exception):
                doc = self.desktop.loadComponentFromURL(url, "_blank", 0, LOAD_PROPS + _props(FilterName=known))
        if doc is None:
            doc = self.desktop.loadComponentFromURL(url, "_blank", 0, LOAD_PROPS)
        if doc is None:
            raise ValueError("LibreOffice could not open the document")
        loaded = exported = time.monotonic()
        try:
            if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                # Calc keeps the results cached in the file unless told otherwise (its "recalculation on
                # file load" defaults to never for Excel files), and a rendered sheet's inputs changed:
                # compute every formula again before the PDF is drawn.
                doc.calculateAll()
            export = next((f for service, f in FILTERS if doc.supportsService(service)), "writer_pdf_Export")
            doc.storeToURL(uno.systemPathToFileUrl(target), _props(FilterName=export))
            exported = time.monotonic()
        finally:
            try:
                doc.close(True)
            except Exception:  # CloseVetoException and friends: dispose is the hard close.
                doc.dispose()
        closed = time.monotonic()
        return {
            "load": round((loaded - started) * 1000, 1),
            "export": round((exported - loaded) * 1000, 1),
            "close": round((closed - exported) * 1000, 1),
        }

    def warm_up(self, scratch: str) -> None:
        # The first export of each kind loads its libraries: pay that here, not on a user's document.
        for factory, export in (("swriter", "writer_pdf_Export"), ("simpress", "impress_pdf_Export")):
            doc = self.desktop.loadComponentFromURL(f"private:factory/{factory}", "_blank", 0, _props(Hidden=True))
            target = os.path.join(scratch, f"warm-{factory}.pdf")
            doc.storeToURL(uno.systemPathToFileUrl(target), _props(FilterName=export))
            doc.close(True)
            os.unlink(target)

    def stop(self) -> None:
        if self.alive() and self.desktop is not None:
            # The bridge may already be gone (a UNO exception): the kill below settles it either way.
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _fatal(exc: BaseException, office: Office) -> bool:
    # DisposedException, a dead bridge or a dead process: this soffice is finished.
    return not office.alive() or type(exc).__name__.rsplit(".", 1)[-1] in ("DisposedException", "RuntimeException")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--soffice", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--pipe", required=True)
    parser.add_argument("--startup-timeout", type=float, default=60)
    parser.add_argument("--preload", default="", help="a malloc library for soffice's LD_PRELOAD")
    parser.add_argument("--tmpdir", default="", help="soffice's TMPDIR")
    args = parser.parse_args()

    # Answers go to the original stdout; anything else written to fd 1 (UNO warnings) goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def answer(payload: dict) -> None:
        answers.write(json.dumps(payload) + "\n")
        answers.flush()

    office = Office(args.soffice, args.profile, args.pipe, preload=args.preload, tmpdir=args.tmpdir)
    # Told at once, so docg can kill this soffice even if the start never completes.
    answer({"spawned": office.process.pid})
    signal.signal(signal.SIGTERM, lambda *_: (office.stop(), sys.exit(0)))
    try:
        office.connect(args.startup_timeout)
        office.warm_up(args.profile)
    except Exception as exc:
        answer({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        office.stop()
        return 1
    answer({"ready": True, "soffice_pid": office.process.pid})

    orphaned = True  # stdin ended without a "quit": docg is gone, and nobody else will clean up
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "quit":
            orphaned = False
            break
        started = time.monotonic()
        try:
            if not office.alive():
                raise RuntimeError(f"soffice exited with status {office.process.returncode}")
            phases = office.convert(request["input"], request["output"])
        except Exception as exc:
            fatal = _fatal(exc, office)
            answer({"ok": False, "error": f"{type(exc).__name__}: {exc}", "fatal": fatal})
            if fatal:
                orphaned = False  # docg restarts this slot with the same profile
                break
            continue
        answer({"ok": True, "ms": round((time.monotonic() - started) * 1000), "phases": phases})
    office.stop()
    if orphaned:
        shutil.rmtree(args.profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
