"""XLSX rendering with openpyxl and the same sandboxed expression language as DOCX and PPTX.

Every text cell holding a tag is rendered as one template (a cell's rich-text
runs are joined first, so a tag split by formatting still works; PowerPoint-style
typographic quotes inside tags are plain again). A cell whose whole text is one
`{{ expression }}` keeps the value's type: a number, Decimal, date or datetime
becomes a typed cell with the template cell's number format (so `R$ #,##0.00` or
`dd/mm/yyyy` still apply and formulas can use it); so does text that reads as a
number (or an ISO date) when the template cell has a number (or date) format.
Anything else is text, never a formula: a value starting with `=` stays text.
Control characters XML cannot hold are removed from values.

Formulas stay formulas (LibreOffice recalculates them on PDF export:
docg/documents/lo_worker.py). Control tags (`{% if %}`, `{% for %}`) open and
close within one cell.

Repeating rows: as `{%tr %}` in Word and PowerPoint tables, put
`{%tr for item in items %}` in a cell of a row and `{%tr endfor %}` in a cell of a
later row: the rows between them are repeated once per item (with `item` and
`loop`), the two marker rows are removed, and the rows below move down. Loops may
nest. Formulas, merged cells, row heights, conditional formats, data validations,
tables and filters, named ranges, the print area, pictures and charts follow their
rows (rendering/xlsx_rows.py, rendering/xlsx_layout.py). Page headers and footers
are rendered too (a value's `&` doubled, as Excel's codes need). openpyxl drops
drawn shapes and text boxes (pictures and charts it keeps).
"""

import io
import math
import re
from copy import copy
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import Undefined
from openpyxl.cell.cell import MergedCell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.styles.numbers import is_date_format

from docg.common.errors import DocgError
from docg.documents.paragraphs import SHEET_MARGINS, TYPOGRAPHIC, cell_address
from docg.documents.rendering.errors import classify, failures_classified, render_error
from docg.documents.rendering.pptx import ROW_END, ROW_LOOP, loop_vars, plain_tags
from docg.documents.rendering.text import clean_text
from docg.documents.rendering.xlsx_layout import move_defined_names, move_layout
from docg.documents.rendering.xlsx_rows import Chain, SheetMap, moved_formula
from docg.workflows.expressions import environment

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LOOP_ROWS = 20_000  # rows the loops of one sheet may produce
MAX_CELL_CHARS = 32_767  # Excel's limit: a longer cell makes Excel "repair" the file
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.DOTALL)
_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_TEXT_FORMATS = {"General", "@"}


def has_tag(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _where(sheet: str, cell: str, text: str = "") -> dict[str, Any]:
    return {"part": "sheet", "sheet": sheet, "cell": cell, "text": text[:120]}


@lru_cache(maxsize=1024)
def _expression(source: str):
    # A repeated row renders the same cells once per item: compile each source once.
    return environment().compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=1024)
def _template(source: str):
    return environment().from_string(source)


def _iso(text: str) -> date | datetime | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _typed(value: Any, number_format: str) -> Any:
    """The value as a typed cell, or None when it is text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal | float):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        # Excel keeps 15 digits: a longer whole number (an id, a card number) would come back altered.
        return value if finite and not (isinstance(value, int) and abs(value) >= 10**15) else None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: the wall-clock time the data gave
    if isinstance(value, date | time):
        return value
    if isinstance(value, str) and number_format not in _TEXT_FORMATS:
        if is_date_format(number_format):
            parsed = _iso(value.strip())
            return parsed.replace(tzinfo=None) if isinstance(parsed, datetime) else parsed
        if _NUMBER.match(value) and len(value.strip().lstrip("-").replace(".", "").lstrip("0")) <= 15:
            return Decimal(value.strip())
    return None


def _rendered(text: str, context: dict[str, Any], number_format: str, where: dict[str, Any]) -> Any:
    source = plain_tags(text)
    try:
        single = _SINGLE.match(source)
        if single and "{{" not in single.group("expr") and "}}" not in single.group("expr"):
            value = _expression(single.group("expr"))(**context)
            if isinstance(value, Undefined):
                str(value)  # StrictUndefined raises here, naming what is missing
            if value is None:
                return None
            typed = _typed(value, number_format)
            if typed is not None:
                return typed
            result = str(value)
        else:
            result = _template(source).render(context)
    except Exception as exc:  # classified: security, missing data, syntax, filters
        raise classify(exc, location={**where, "text": source[:120]}) from exc
    result = clean_text(result)
    if len(result) > MAX_CELL_CHARS:
        raise render_error("template.render_failed", f"more than {MAX_CELL_CHARS} characters in a cell", location=where)
    return result


def _cell_value(cell, context: dict[str, Any], chain: Chain, sheet: str, maps: dict[str, SheetMap]) -> Any:
    """(value, forced text) of a template cell rendered in `context`."""
    value = cell.value
    if cell.data_type == "f" and isinstance(value, str):
        return moved_formula(value, sheet=sheet, maps=maps, chain=chain), False
    text = value if isinstance(value, str) else str(value) if isinstance(value, CellRichText) else None
    if text is None or not has_tag(text):
        return value, isinstance(value, str)
    rendered = _rendered(text, context, cell.number_format, _where(sheet, cell.coordinate, text))
    return rendered, isinstance(rendered, str)


def _set(target, value: Any, text: bool) -> None:
    target.value = value
    if text and target.data_type == "f":
        target.data_type = "s"  # "=…" from data or typed as text in the template: text, never a formula


# --- row loops ----------------------------------------------------------------------------------


def row_markers(cells) -> dict[int, tuple[str, str]]:
    """Rows holding a `{%tr %}` marker, from (row, coordinate, text) cells: row → (their text, the first cell)."""
    rows: dict[int, tuple[str, str]] = {}
    for row, coordinate, text in cells:
        text = plain_tags(text)
        if ROW_LOOP.search(text) or ROW_END.search(text):
            before, first = rows.get(row, ("", coordinate))
            rows[row] = (f"{before} {text}".strip(), first)
    return rows


def _text_cells(ws) -> list[tuple[int, str, str]]:
    return [
        (row, cell.coordinate, str(cell.value))
        for (row, _col), cell in sorted(ws._cells.items())
        if isinstance(cell.value, str | CellRichText) and cell.data_type != "f"
    ]


def loop_end(markers: dict[int, tuple[str, str]], start: int, sheet: str) -> int:
    """The row of the `{%tr endfor %}` closing the loop opened at row `start`."""
    depth = 0
    for row in sorted(r for r in markers if r >= start):
        text, cell = markers[row]
        depth += len(ROW_LOOP.findall(text)) - len(ROW_END.findall(text))
        if row == start and depth <= 0:
            raise render_error(
                "template.syntax_error",
                "a {%tr for %} and its {%tr endfor %} must be in different rows",
                location=_where(sheet, cell, text),
            )
        if depth <= 0:
            return row
    text, cell = markers[start]
    raise render_error(
        "template.syntax_error",
        "a {%tr for %} row has no {%tr endfor %} row below it",
        location=_where(sheet, cell, text),
    )


def loop_errors(markers: dict[int, tuple[str, str]], sheet: str) -> list[DocgError]:
    """What the renderer would refuse in a sheet's row loops, found without any data."""
    errors, depth = [], 0
    for row in sorted(markers):
        text, cell = markers[row]
        if ROW_LOOP.search(text):
            try:
                loop_end(markers, row, sheet)
            except DocgError as exc:
                errors.append(exc)
        depth += len(ROW_LOOP.findall(text)) - len(ROW_END.findall(text))
        if depth < 0:
            message = "a {%tr endfor %} row has no {%tr for %} row above it"
            errors.append(render_error("template.syntax_error", message, location=_where(sheet, cell, text)))
            depth = 0
    return errors


def _plan(ws, markers, first: int, last: int, context: dict, chain: Chain, rows: SheetMap, out: list) -> None:
    """Append (template row, context, chain) for each output row of template rows first…last."""
    row = first
    while row <= last:
        text, cell = markers.get(row, ("", ""))
        match = ROW_LOOP.search(text)
        if match is None:
            if ROW_END.search(text):
                raise render_error(
                    "template.syntax_error",
                    "a {%tr endfor %} row has no {%tr for %} row above it",
                    location=_where(ws.title, cell, text),
                )
            out.append((row, context, chain))
            rows.emit(row, chain, len(out))
            row += 1
            continue
        end = loop_end(markers, row, ws.title)
        marker = _where(ws.title, cell, match.group(0))
        try:
            items = list(_expression(match.group("expr").translate(TYPOGRAPHIC))(**context))
        except Exception as exc:  # classified below, with the marker as location
            raise classify(exc, location=marker) from exc
        if len(out) + len(items) * max(end - row - 1, 1) > MAX_LOOP_ROWS:
            raise render_error("template.render_failed", f"more than {MAX_LOOP_ROWS} rows", location=marker)
        for i, item in enumerate(items):
            item_context = {**context, match.group("var"): item, "loop": loop_vars(i, len(items))}
            _plan(ws, markers, row + 1, end - 1, item_context, (*chain, (row, i)), rows, out)
        row = end + 1


def _sheet_plan(ws, context: dict[str, Any]) -> tuple[SheetMap, list]:
    markers = row_markers(_text_cells(ws))
    rows, out = SheetMap(), []
    if not markers:
        return rows, out
    last = max(markers)
    _plan(ws, markers, 1, last, context, (), rows, out)
    rows.first, rows.last, rows.delta = min(markers), last, len(out) - last
    return rows, out


def _rewrite(ws, rows: SheetMap, out: list, context: dict, maps: dict[str, SheetMap]) -> None:
    """Lay the sheet's rows out again from its first loop down, each rendered in its own context."""
    first = rows.first  # rows above the first marker row keep their place
    _render_in_place(ws, context, maps, below=first)
    template: dict[int, list] = {}
    for key in [k for k in ws._cells if k[0] >= first]:
        cell = ws._cells.pop(key)
        if not isinstance(cell, MergedCell):
            template.setdefault(key[0], []).append(cell)
    heights = {r: ws.row_dimensions.pop(r) for r in [r for r in ws.row_dimensions if r >= first]}
    placed = [(r, t, c, chain) for r, (t, c, chain) in enumerate(out, start=1) if r >= first]
    placed += [(t + rows.delta, t, context, ()) for t in sorted(template.keys() | heights.keys()) if t > rows.last]
    for row, source, row_context, chain in placed:
        if source in heights:
            dimension = copy(heights[source])
            dimension.index = row
            ws.row_dimensions[row] = dimension
        for cell in template.get(source, ()):
            target = ws.cell(row=row, column=cell.column)
            target._style = copy(cell._style)
            _set(target, *_cell_value(cell, row_context, chain, ws.title, maps))
            if cell.hyperlink is not None:
                link = copy(cell.hyperlink)
                link.ref = target.coordinate
                target._hyperlink = link
            if cell.comment is not None:
                target.comment = copy(cell.comment)
    move_layout(ws, rows)


def _render_in_place(ws, context: dict[str, Any], maps: dict[str, SheetMap], below: int = 0) -> None:
    """Render the cells that keep their place: all of a sheet without loops, else those above row `below`."""
    for cell in list(ws._cells.values()):
        if not isinstance(cell, MergedCell) and (not below or cell.row < below):
            value, text = _cell_value(cell, context, (), ws.title, maps)
            if value is not cell.value:
                _set(cell, value, text)


def _margin_value(value: Any) -> Any:
    # In a header or footer `&` starts a code (&P: the page number): a value's own `&` is written `&&`.
    return clean_text(value).replace("&", "&&") if isinstance(value, str) else value


@lru_cache(maxsize=1)
def _margin_environment():
    return environment().overlay(finalize=_margin_value)


def _render_margins(ws, context: dict[str, Any]) -> None:
    """The page header and footer texts (left, center and right) with tags, rendered as cells are."""
    for attribute, name in SHEET_MARGINS.items():
        item = getattr(ws, attribute)
        for part in (item.left, item.center, item.right):
            if part.text and has_tag(part.text):
                source = plain_tags(part.text)
                try:
                    part.text = _margin_environment().from_string(source).render(context)
                except Exception as exc:  # classified: security, missing data, syntax, filters
                    raise classify(exc, location=_where(ws.title, name, source)) from exc


def render_xlsx(template: bytes, context: dict[str, Any]) -> bytes:
    """Render a .xlsx template with `context`; DocgError (with the sheet and cell) when it cannot."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(template), rich_text=True)
    except Exception as exc:  # openpyxl raises several types for a broken package
        raise render_error("template.unreadable", f"not a readable Excel file ({type(exc).__name__})") from exc
    with failures_classified():
        plans = {ws.title: _sheet_plan(ws, context) for ws in workbook.worksheets}
        maps = {title: rows for title, (rows, _out) in plans.items()}
        for ws in workbook.worksheets:
            rows, out = plans[ws.title]
            if out:
                _rewrite(ws, rows, out, context, maps)
            else:
                _render_in_place(ws, context, maps)
            _render_margins(ws, context)
        move_defined_names(workbook, maps)
        stream = io.BytesIO()
        workbook.save(stream)
    return stream.getvalue()


def xlsx_cells(template: bytes) -> list[dict[str, Any]]:
    """Every text cell holding a tag: {part, sheet, cell, text, bound}, for detection and preflight.

    `bound`: the item names of the sheet's row loops (visible in the rows they repeat).
    """
    from docg.documents.paragraphs import sheet_cells

    found = []
    for sheet, cells in sheet_cells(io.BytesIO(template)):
        tagged = [(coordinate, plain_tags(text)) for _row, coordinate, text in cells if has_tag(text)]
        bound = {m.group("var") for _c, text in tagged for m in ROW_LOOP.finditer(text)}
        for coordinate, text in tagged:
            found.append({"part": cell_address(sheet, coordinate), "sheet": sheet, "cell": coordinate, "text": text,
                          "bound": bound})  # fmt: skip
    return found
