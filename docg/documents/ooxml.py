"""Inspect an uploaded Office package before anything is kept (PRODUCT.md section 12: uploads are untrusted).

Everything here reads the zip's central directory first and refuses bombs from
the sizes it declares, before a single byte is decompressed. Decompression is
then bounded by those declared sizes (zipfile stops at `file_size` and checks
the CRC), so a directory that lies about sizes fails instead of flooding memory.
Every XML part is parsed with defusedxml: a DOCTYPE (the door to XXE and
billion-laughs) refuses the whole file.
"""

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.conf import settings

from docg.common.errors import DocgError
from docg.documents.choices import TemplateKind

MAX_ENTRIES = 2000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Word XML compresses 10-30x; a bomb compresses 1000x. 100x is Apache POI's bound
# (ZipSecureFile's minimum inflate ratio 0.01). Small entries may compress as they
# like: they cannot hurt.
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024

_MAIN_PART = {
    TemplateKind.DOCX: "word/document.xml",
    TemplateKind.PPTX: "ppt/presentation.xml",
    TemplateKind.XLSX: "xl/workbook.xml",
}
_MAIN_TYPE = {
    TemplateKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    TemplateKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    TemplateKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_KIND_BY_SUFFIX = {".docx": TemplateKind.DOCX, ".pptx": TemplateKind.PPTX, ".xlsx": TemplateKind.XLSX}
_MACRO_SUFFIXES = {".docm", ".dotm", ".pptm", ".potm", ".ppsm", ".xlsm", ".xltm"}
_MACRO_PARTS = {"vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin"}
_LABEL = {
    TemplateKind.DOCX: "Word document (.docx)",
    TemplateKind.PPTX: "PowerPoint presentation (.pptx)",
    TemplateKind.XLSX: "Excel spreadsheet (.xlsx)",
}
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
# What a file that is not a zip usually is, by its first bytes, for a message that says so.
_MAGIC = [
    (b"%PDF", "a PDF"),
    (b"\xd0\xcf\x11\xe0", "an old-format (.doc/.ppt/.xls) or password-protected Office file"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
]


@dataclass(frozen=True)
class Package:
    kind: str
    size: int
    sha256: str


def _refuse(code: str, message: str, status_code: int = 400, **details) -> DocgError:
    return DocgError(f"template.{code}", message, status_code=status_code, details=details)


def kind_for(filename: str) -> str:
    """The template kind of an uploaded file, from its name; only .docx, .pptx and .xlsx are accepted."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in _MACRO_SUFFIXES:
        raise _refuse("macros_refused", f"Files with macros ({suffix}) are refused: save it as .docx, .pptx or .xlsx.")
    kind = _KIND_BY_SUFFIX.get(suffix)
    if kind is None:
        raise _refuse("unsupported_type", "Upload a Word (.docx), PowerPoint (.pptx) or Excel (.xlsx) file.")
    return kind


def _digest_and_head(upload: IO[bytes]) -> tuple[str, bytes]:
    upload.seek(0)
    sha = hashlib.sha256()
    head = b""
    while chunk := upload.read(1024 * 1024):
        head = head or chunk[:16]
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest(), head


def _check_directory(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise _refuse("too_many_entries", f"The package holds {len(entries)} files; at most {MAX_ENTRIES} are allowed.")
    names = [e.filename for e in entries]
    if len(set(names)) != len(names):
        # Two entries with one name: readers disagree on which one counts, so what we check may not be what renders.
        raise _refuse("not_ooxml", "The package holds the same part twice; save it again from Office.")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(
            "zip_bomb",
            f"The package would expand to {total // (1024 * 1024)} MB; "
            f"at most {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB are allowed.",
            uncompressed_bytes=total,
        )
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise _refuse("encrypted", "The package is encrypted: remove the password and upload it again.")
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise _refuse(
                "zip_bomb",
                f"'{entry.filename}' expands {int(ratio)} times; this looks like a zip bomb.",
                entry=entry.filename,
                ratio=int(ratio),
            )
        if PurePath(entry.filename).name.lower() in _MACRO_PARTS:
            raise _refuse("macros_refused", "The document contains macros (a VBA project): macros are refused.")


def _content_types(package: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for _event, element in _parse(package, "[Content_Types].xml"):
        if element.tag == f"{_CT_NS}Default":
            defaults[element.get("Extension", "").lower()] = element.get("ContentType", "")
        elif element.tag == f"{_CT_NS}Override":
            overrides[element.get("PartName", "").lstrip("/")] = element.get("ContentType", "")
    return defaults, overrides


def _parse(package: zipfile.ZipFile, name: str):
    """Stream one XML part through defusedxml: events are yielded, elements cleared (memory stays flat)."""
    try:
        with package.open(name) as stream:
            for event, element in iterparse(stream, events=("end",), forbid_dtd=True):
                yield event, element
                element.clear()
    except DefusedXmlException as exc:
        raise _refuse(
            "external_entities",
            f"'{name}' declares a DTD or entities (a way to read server files): such files are refused.",
            part=name,
            reason=type(exc).__name__,
        )
    except zipfile.BadZipFile as exc:
        raise _refuse("not_ooxml", f"'{name}' is damaged inside the package: {exc}", part=name)
    except Exception as exc:  # expat's ParseError and the like: the part is not XML.
        raise _refuse("malformed_xml", f"'{name}' is not well-formed XML: {exc}", part=name)


def _check_parts(package: zipfile.ZipFile, kind: str) -> None:
    names = set(package.namelist())
    if "[Content_Types].xml" not in names:
        raise _refuse("not_ooxml", "The file is a zip but not an Office document (no [Content_Types].xml).")
    defaults, overrides = _content_types(package)
    for part, content_type in (*overrides.items(), *defaults.items()):
        lowered = content_type.lower()
        if "macroenabled" in lowered or "vbaproject" in lowered:
            raise _refuse("macros_refused", "The document is macro-enabled: macros are refused.", part=part)
    main = _MAIN_PART[kind]
    if main not in names:
        other = next((k for k, part in _MAIN_PART.items() if k != kind and part in names), None)
        if other is not None:
            raise _refuse("wrong_kind", f"The file is named like a {_LABEL[kind]} but is a {_LABEL[other]}.")
        raise _refuse("not_ooxml", f"The file is not a {_LABEL[kind]} (it has no {main}).")
    main_type = overrides.get(main) or defaults.get("xml", "")
    if main_type != _MAIN_TYPE[kind]:
        raise _refuse(
            "not_ooxml",
            f"The file is not a {_LABEL[kind]}: its main part is declared as '{main_type or 'nothing'}'.",
        )
    for name in sorted(names):
        if name.lower().endswith((".xml", ".rels")):
            for _ in _parse(package, name):
                pass


def inspect(upload: IO[bytes], filename: str) -> Package:
    """Validate an uploaded .docx/.pptx/.xlsx without keeping it; raises DocgError(`template.*`) on any refusal."""
    kind = kind_for(filename)
    upload.seek(0, 2)
    size = upload.tell()
    if size == 0:
        raise _refuse("empty", "The file is empty.")
    limit = settings.TEMPLATE_MAX_UPLOAD_BYTES
    if size > limit:
        raise _refuse("too_large", f"The file is larger than {limit // (1024 * 1024)} MB.", status_code=413)
    sha256, head = _digest_and_head(upload)
    if not zipfile.is_zipfile(upload):
        looks_like = next((label for magic, label in _MAGIC if head.startswith(magic)), None)
        suffix = PurePath(filename).suffix.lower()
        message = (
            f"The file is {looks_like} renamed to {suffix}, not a real {_LABEL[kind]}."
            if looks_like
            else f"The file is not a valid {_LABEL[kind]} (it is not a zip package)."
        )
        raise _refuse("not_ooxml", message)
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            _check_directory(package.infolist())
            _check_parts(package, kind)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise _refuse("not_ooxml", f"The package is damaged or uses an unsupported zip feature: {exc}")
    finally:
        upload.seek(0)
    return Package(kind=kind, size=size, sha256=sha256)
