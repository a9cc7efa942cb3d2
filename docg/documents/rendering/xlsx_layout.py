"""Everything on a sheet that sits on rows, moved to where a render's row loops put those rows.

Merged cells repeat with the rows they sit in; conditional formats and data
validations cover every copy of their rows; tables, filters and the print area
stretch over what their rows became (a print area left as it was would cut the
PDF short); pictures and charts below a loop move down with it; named ranges
follow as formulas do (docg.documents.rendering.xlsx_rows).
"""

from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from docg.documents.rendering.xlsx_rows import SheetMap, moved_formula


def _moved_ranges(sqref: MultiCellRange, rows: SheetMap) -> MultiCellRange:
    moved = MultiCellRange()
    for cell_range in sqref.ranges:
        for low, high in rows.ranges(cell_range.min_row, cell_range.max_row):
            moved.add(CellRange(min_col=cell_range.min_col, min_row=low, max_col=cell_range.max_col, max_row=high))
    return moved


def _moved_block(cell_range: CellRange, rows: SheetMap) -> str | None:
    """A block that stays one range (a table, a filter): from its first row's new place to its last's."""
    span = rows.span(cell_range.min_row, cell_range.max_row)
    if span is None:
        return None
    moved = CellRange(min_col=cell_range.min_col, max_col=cell_range.max_col, min_row=span[0], max_row=span[1])
    return moved.coord


def _move_anchor(drawing, rows: SheetMap) -> None:
    """A picture or chart below a loop moves down with the rows around it (anchors count rows from 0)."""
    anchor = drawing.anchor
    if isinstance(anchor, str):  # a picture placed by cell ("E5")
        moved = _moved_block(CellRange(anchor), rows)
        drawing.anchor = moved.split(":")[0] if moved else anchor
        return
    for marker in (getattr(anchor, "_from", None), getattr(anchor, "to", None)):
        if marker is not None:
            span = rows.span(marker.row + 1, marker.row + 1)
            if span:
                marker.row = span[0] - 1


def move_layout(ws, rows: SheetMap) -> None:
    """Move the sheet's merged cells, formats, validations, tables, filters, drawings and print ranges."""
    merged = list(ws.merged_cells.ranges)
    ws.merged_cells = MultiCellRange()
    for cell_range in merged:
        for low, high in rows.ranges(cell_range.min_row, cell_range.max_row):
            ws.merge_cells(start_row=low, end_row=high, start_column=cell_range.min_col, end_column=cell_range.max_col)
    formats = ws.conditional_formatting
    ws.conditional_formatting = ConditionalFormattingList()
    for rule_range in formats:
        moved = _moved_ranges(rule_range.sqref, rows)
        for rule in rule_range.rules if moved.ranges else ():
            ws.conditional_formatting.add(str(moved), rule)
    for validation in ws.data_validations.dataValidation:
        validation.sqref = _moved_ranges(validation.sqref, rows)
    for table in ws.tables.values():
        table.ref = _moved_block(CellRange(table.ref), rows) or table.ref
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
    if ws.auto_filter.ref:
        ws.auto_filter.ref = _moved_block(CellRange(ws.auto_filter.ref), rows) or ws.auto_filter.ref
    for drawing in [*ws._images, *ws._charts]:
        _move_anchor(drawing, rows)
    if ws._print_area.ranges:  # else the PDF would stop where the template's rows ended
        ws.print_area = [range_.coord for range_ in _moved_ranges(ws._print_area, rows).ranges]
    if ws._print_rows is not None:
        span = rows.span(ws._print_rows.min_row, ws._print_rows.max_row)
        ws._print_rows = None
        if span:
            ws.print_title_rows = f"{span[0]}:{span[1]}"


def move_defined_names(workbook, maps: dict[str, SheetMap]) -> None:
    """Named ranges (`Items` = Prices!$D$5:$D$5) follow their rows, as formulas do."""
    names = [*workbook.defined_names.values(), *(n for ws in workbook.worksheets for n in ws.defined_names.values())]
    for name in names:
        if name.attr_text and not name.attr_text.startswith("="):
            name.attr_text = moved_formula("=" + name.attr_text, sheet="", maps=maps)[1:]
