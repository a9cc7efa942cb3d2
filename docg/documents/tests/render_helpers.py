"""Helpers for the rendering tests: stored templates, the XML of outputs, LibreOffice round trips."""

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from docg.documents.models import Template

TAG = re.compile(r"\{\{|\{%|%\}|\}\}")


def stored_template(organization, kind: str, data: bytes, name: str = "Contrato") -> Template:
    """A template row with its file in the default storage (no upload analysis: variables are empty)."""
    template = Template(organization=organization, name=name, kind=kind, size_bytes=len(data))
    template.file.save(f"{name}.{kind}", ContentFile(data), save=False)
    template.save()
    return template


def xml_parts(package: bytes, pattern: str) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if re.fullmatch(pattern, n)}


def text_of(xml: str) -> str:
    """Visible text of a part: tags removed, entities decoded, non-breaking spaces as spaces."""
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", xml)).replace("\xa0", " ")


def libreoffice_text(package: bytes, suffix: str, tmp_path: Path) -> str:
    """Open the file in LibreOffice (headless, own profile) and read its text back through a PDF, spaces collapsed."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.skip("LibreOffice (soffice) and pdftotext are needed for the round trip")
    source = tmp_path / f"out{suffix}"
    source.write_bytes(package)
    with tempfile.TemporaryDirectory(prefix="docg-lo-test-") as profile:
        result = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp_path),
                str(source),
            ],
            capture_output=True,
            timeout=120,
        )
    pdf = tmp_path / "out.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr.decode(errors="replace")[-2000:]
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, timeout=60, check=True)
    # Line wrapping differs between layouts: compare words, not lines.
    return re.sub(r"\s+", " ", text.stdout.decode().replace("\xa0", " "))
