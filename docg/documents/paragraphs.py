"""The text of a DOCX/PPTX, paragraph by paragraph (of an XLSX, cell by cell), each with where it sits.

A Word paragraph's text is split over runs (`<w:r>`) wherever formatting, spell
check or an edit history changed: `{{ cus` + `tomer.name }}` is one tag. Joining
the paragraph's `<w:t>` nodes gives the text docxtpl (which strips the run
boundaries inside tags) will see.

Paragraphs are grouped into scopes, one per unit rendered as a single Jinja
template, as the renderers (docg.documents.rendering) do it: each DOCX part
(body, each header, each footer, the footnotes) is one template for docxtpl;
each line of each PPTX paragraph is one template. A `{% for %}` must end in the
scope it starts in; a loop variable is visible only inside its scope.

Indexes are 0-based (paragraph, table, row, cell) except slide, header and
footer numbers, which count from 1 as PowerPoint and Word show them.
Only call these on a package `ooxml.inspect` accepted (no DTD, bounded sizes).
"""

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from docg.documents.choices import TemplateKind

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_REL_TYPES = ("header", "footer", "footnotes", "endnotes")
# Word's AutoCorrect turns quotes typographic; docxtpl turns them back before Jinja sees them
# (and the PPTX renderer does the same inside tags: rendering/pptx.py).
TYPOGRAPHIC = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00a0": " ", "\v": " ", "\t": " "}
)


@dataclass
class Paragraph:
    text: str
    location: dict[str, Any]


@dataclass
class Scope:
    name: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    # Scopes of one slide (its paragraphs and its notes) share a group: a slide loop binds its item in all.
    group: str = ""
    # The package entry a DOCX scope comes from ("word/header1.xml"), to match what the renderer reads.
    partname: str = ""


def _parser() -> etree.XMLParser:
    # The package passed ooxml.inspect (no DTD); these flags keep lxml safe regardless.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _normal(text: str) -> str:
    return text.translate(TYPOGRAPHIC)


# --- DOCX ---------------------------------------------------------------------------------------


def _own(element: Any, owner: Any) -> bool:
    """Is `owner` the nearest paragraph around `element` (not a text box paragraph nested in it)?"""
    return next(element.iterancestors(f"{W}p"), None) is owner


def _paragraph_text(p: Any) -> str:
    return _normal("".join(t.text or "" for t in p.iter(f"{W}t") if _own(t, p)))


def _blocks(element: Any) -> Iterator[Any]:
    """Paragraphs and tables in document order, through content controls and other wrappers."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in (f"{W}p", f"{W}tbl"):
            yield child
        elif child.tag != f"{W}sectPr":
            yield from _blocks(child)


def _find(element: Any, tag: str) -> Iterator[Any]:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == tag:
            yield child
        else:
            yield from _find(child, tag)


def _walk(container: Any, where: dict[str, Any], out: list[Paragraph]) -> None:
    paragraph_no = table_no = 0
    for block in _blocks(container):
        if block.tag == f"{W}p":
            out.append(Paragraph(_paragraph_text(block), {**where, "paragraph": paragraph_no}))
            paragraph_no += 1
            # Text boxes hold paragraphs of their own; Word writes each twice (choice + fallback).
            boxes = [b for b in block.iter(f"{W}txbxContent") if _own(b, block)]
            for box_no, box in enumerate(b for b in boxes if next(b.iterancestors(_MC_FALLBACK), None) is None):
                _walk(box, {**where, "textbox": box_no}, out)
            continue
        for row_no, row in enumerate(_find(block, f"{W}tr")):
            for cell_no, cell in enumerate(_find(row, f"{W}tc")):
                coordinates = {"table": table_no, "row": row_no, "cell": cell_no}
                if "table" in where:  # a table inside a table cell
                    inner = {**where, "nested": [*where.get("nested", []), coordinates]}
                else:
                    inner = {**where, **coordinates}
                _walk(cell, inner, out)
        table_no += 1


def _natural(name: str) -> list:
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name)]


def _docx_parts(package: zipfile.ZipFile) -> dict[str, list[str]]:
    parts: dict[str, list[str]] = {kind: [] for kind in _REL_TYPES}
    rels = "word/_rels/document.xml.rels"
    if rels in package.namelist():
        root = etree.fromstring(package.read(rels), _parser())
        for rel in root.iter(_REL):
            kind = rel.get("Type", "").rsplit("/", 1)[-1]
            if kind in parts and rel.get("TargetMode") != "External":
                target = rel.get("Target", "")
                name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"word/{target}")
                if name in package.namelist() and name not in parts[kind]:
                    parts[kind].append(name)
    return {kind: sorted(names, key=_natural) for kind, names in parts.items()}


def docx_scopes(stream: IO[bytes]) -> list[Scope]:
    scopes = []
    with zipfile.ZipFile(stream) as package:
        body = etree.fromstring(package.read("word/document.xml"), _parser()).find(f"{W}body")
        scope = Scope("body", partname="word/document.xml")
        if body is not None:
            _walk(body, {"part": "body"}, scope.paragraphs)
        scopes.append(scope)
        parts = _docx_parts(package)
        for kind in ("header", "footer"):
            for number, name in enumerate(parts[kind], start=1):
                scope = Scope(f"{kind} {number}", partname=name)
                _walk(etree.fromstring(package.read(name), _parser()), {"part": kind, kind: number}, scope.paragraphs)
                scopes.append(scope)
        for kind, note in (("footnotes", "footnote"), ("endnotes", "endnote")):
            for name in parts[kind]:
                scope = Scope(kind, partname=name)
                for element in etree.fromstring(package.read(name), _parser()).iter(f"{W}{note}"):
                    if element.get(f"{W}type") in (None, "normal"):
                        _walk(element, {"part": note, note: element.get(f"{W}id")}, scope.paragraphs)
                scopes.append(scope)
    return scopes


# --- PPTX ---------------------------------------------------------------------------------------


def _shapes(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _text_frame(frame: Any, where: dict[str, Any], group: str, out: list[Scope]) -> None:
    # The PPTX renderer renders each paragraph on its own, and each line of it (split at line
    # breaks) on its own: a tag or a block must open and close within one line.
    for paragraph_no, paragraph in enumerate(frame.paragraphs):
        for line in paragraph.text.split("\v"):
            location = {**where, "paragraph": paragraph_no}
            out.append(Scope(f"{group}, paragraph {paragraph_no}", [Paragraph(_normal(line), location)], group))


def pptx_scopes(stream: IO[bytes]) -> list[Scope]:
    from pptx import Presentation

    scopes: list[Scope] = []
    for slide_no, slide in enumerate(Presentation(stream).slides, start=1):
        group = f"slide {slide_no}"
        table_no = 0
        for shape in _shapes(slide.shapes):
            where = {"part": "slide", "slide": slide_no, "shape": shape.name}
            if shape.has_text_frame:
                _text_frame(shape.text_frame, where, group, scopes)
            if getattr(shape, "has_table", False):
                for row_no, row in enumerate(shape.table.rows):
                    for cell_no, cell in enumerate(row.cells):
                        cell_where = {**where, "table": table_no, "row": row_no, "cell": cell_no}
                        _text_frame(cell.text_frame, cell_where, group, scopes)
                table_no += 1
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if notes is not None:
            _text_frame(notes, {"part": "notes", "slide": slide_no}, group, scopes)
    return scopes


# --- XLSX ---------------------------------------------------------------------------------------


_SML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# A sheet's page header and footer texts, by the name a location gives them (in place of a cell reference).
SHEET_MARGINS = {
    "oddHeader": "header",
    "oddFooter": "footer",
    "evenHeader": "even page header",
    "evenFooter": "even page footer",
    "firstHeader": "first page header",
    "firstFooter": "first page footer",
}


def cell_address(sheet: str, cell: str) -> str:
    """`Prices!B4`; a sheet name Excel would quote (spaces, punctuation) is quoted as Excel writes it.

    A page header or footer is `Prices header`."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet)
    quoted = sheet if plain else "'" + sheet.replace("'", "''") + "'"
    return f"{quoted}!{cell}" if re.fullmatch(r"[A-Z]{1,3}[0-9]+", cell) else f"{quoted} {cell}"


def _margins(workbook: Any, sheet: Any) -> list[tuple[int, str, str]]:
    """The sheet's header and footer texts as (0, name, text) (the read-only reader does not load them)."""
    found = []
    tags = [f"{_SML}{name}" for name in SHEET_MARGINS]
    with workbook._archive.open(sheet._worksheet_path) as part:
        for _event, element in etree.iterparse(part, tag=tags, resolve_entities=False, no_network=True):
            if element.text and "{" in element.text:
                found.append((0, SHEET_MARGINS[element.tag.removeprefix(_SML)], element.text))
            element.clear()
    return found


def sheet_cells(stream: IO[bytes]) -> list[tuple[str, list[tuple[int, str, str]]]]:
    """Each worksheet's title and its text cells as (row, coordinate, text); rich text joined, formulas left out.

    Its page header and footer come first, as (0, "header", text) and the like."""
    from openpyxl import load_workbook

    workbook = load_workbook(stream, read_only=True, rich_text=False, keep_links=False)
    try:
        sheets = []
        for sheet in workbook.worksheets:
            cells = [
                (cell.row, cell.coordinate, cell.value)
                for row in sheet.iter_rows()
                for cell in row
                if isinstance(cell.value, str) and cell.data_type != "f"
            ]
            sheets.append((sheet.title, _margins(workbook, sheet) + cells))
        return sheets
    finally:
        workbook.close()


def xlsx_scopes(stream: IO[bytes]) -> list[Scope]:
    # The XLSX renderer renders each cell on its own: a block opens and closes within one cell.
    # A sheet's cells share a group: a row loop binds its item in the rows it repeats.
    scopes = []
    for sheet, cells in sheet_cells(stream):
        for _row, coordinate, text in cells:
            location = {"part": "sheet", "sheet": sheet, "cell": coordinate}
            paragraph = Paragraph(_normal(text), location)
            scopes.append(Scope(cell_address(sheet, coordinate), [paragraph], f"sheet {sheet}"))
    return scopes


def read_scopes(stream: IO[bytes], kind: str) -> list[Scope]:
    """Every paragraph (every cell of a spreadsheet) of the package, grouped by rendering scope."""
    readers = {TemplateKind.DOCX: docx_scopes, TemplateKind.PPTX: pptx_scopes, TemplateKind.XLSX: xlsx_scopes}
    stream.seek(0)
    try:
        return readers[kind](stream)
    finally:
        stream.seek(0)
