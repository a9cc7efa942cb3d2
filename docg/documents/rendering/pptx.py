"""PPTX rendering with python-pptx and the same sandboxed expression language as DOCX.

Every paragraph (in shapes, groups, tables and speaker notes) is rendered as
one string: the text of its runs joined, so a tag PowerPoint split across runs
still works. The result goes into the paragraph's first run (keeping its
formatting) and the other runs are removed. Runs separated by a line break are
rendered separately. Control tags (`{% if %}`, `{% for %}`) must open and close
within one paragraph.

Repeating table rows: as `{%tr %}` in Word, put `{%tr for item in items %}` in a
cell of a row and `{%tr endfor %}` in a cell of a later row: the rows between
them are repeated once per item (with `item` and `loop`), and the two marker
rows are removed. Loops may nest; each must end in the same table.

Repeating a slide: put `{% slide for item in items %}` in the slide's speaker
notes (or in any text on the slide). The slide is copied once per item, in
place; in each copy `item` and `loop` (index, index0, first, last, length) are
visible, and the marker paragraph is removed. An empty list removes the slide.
"""

import copy
import io
import re
from typing import Any

from lxml import etree

from docg.documents.paragraphs import TYPOGRAPHIC
from docg.documents.rendering.errors import classify, failures_classified, render_error
from docg.workflows.expressions import environment

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAX_SLIDES = 500
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MARKER = re.compile(r"\{%-?\s*slide\s+for\s+(?P<var>[A-Za-z_]\w*)\s+in\s+(?P<expr>.+?)\s*-?%\}")
_SKIP_RELS = ("/slideLayout", "/notesSlide")
_TAG = re.compile(r"\{[{%#].*?[}%#]\}", re.DOTALL)
ROW_LOOP = re.compile(r"\{%-?\s*tr\s+for\s+(?P<var>[A-Za-z_]\w*)\s+in\s+(?P<expr>.+?)\s*-?%\}", re.DOTALL)
ROW_END = re.compile(r"\{%-?\s*tr\s+endfor\s*-?%\}")
MAX_TABLE_ROWS = 5000


def plain_tags(source: str) -> str:
    """AutoCorrect writes `date(“dd/MM/yyyy”)`: inside tags, quotes are plain again (as lint reads them)."""
    return _TAG.sub(lambda m: m.group(0).translate(TYPOGRAPHIC), source)


def _segments(paragraph) -> list[list[Any]]:
    """Groups of consecutive runs (a:r) in a paragraph, split at line breaks and fields."""
    groups: list[list[Any]] = [[]]
    for child in paragraph:
        if child.tag == f"{{{_A}}}r":
            groups[-1].append(child)
        elif child.tag in (f"{{{_A}}}br", f"{{{_A}}}fld"):
            groups.append([])
    return [g for g in groups if g]


def _run_text(run) -> str:
    t = run.find(f"{{{_A}}}t")
    return (t.text or "") if t is not None else ""


def _paragraphs(root) -> list[Any]:
    return list(root.iter(f"{{{_A}}}p"))


def paragraph_text(paragraph) -> str:
    return "".join(_run_text(r) for r in paragraph.iter(f"{{{_A}}}r"))


def _render_paragraph(paragraph, context: dict[str, Any], where: dict[str, Any]) -> None:
    for runs in _segments(paragraph):
        source = "".join(_run_text(r) for r in runs)
        if "{{" not in source and "{%" not in source and "{#" not in source:
            continue
        source = plain_tags(source)
        try:
            rendered = environment().from_string(source).render(context)
        except Exception as exc:  # classified: security, missing data, syntax, filters
            raise classify(exc, location={**where, "text": source[:120]}) from exc
        first = runs[0]
        t = first.find(f"{{{_A}}}t")
        if t is None:
            t = etree.SubElement(first, f"{{{_A}}}t")
        # XML 1.0 refuses most control characters; a value carrying one would corrupt the file.
        t.text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", rendered)
        for run in runs[1:]:
            paragraph.remove(run)


def _row_text(row) -> str:
    return plain_tags(" ".join(paragraph_text(p) for p in row.iter(f"{{{_A}}}p")))


def _loop_rows(rows: list[Any], start: int, where: dict[str, Any]) -> int:
    """The index of the `{%tr endfor %}` row closing the loop opened at rows[start]."""
    depth = 0
    for index in range(start, len(rows)):
        text = _row_text(rows[index])
        depth += len(ROW_LOOP.findall(text)) - len(ROW_END.findall(text))
        if depth <= 0:
            return index
    raise render_error(
        "template.syntax_error", "a {%tr for %} row has no {%tr endfor %} row after it in its table", location=where
    )


def _expand_rows(rows: list[Any], context: dict[str, Any], where: dict[str, Any], done: dict[int, Any]) -> None:
    """Repeat the rows between each `{%tr for %}` row and its `{%tr endfor %}` row, rendering each copy.

    `rows` (rows of one table, in order) loses the loops' rows; `done` gains every paragraph
    rendered here, so the slide's pass does not render them again (a value holding `{{ }}`
    must stay text).
    """
    index = 0
    while index < len(rows):
        row = rows[index]
        match = ROW_LOOP.search(_row_text(row))
        if match is None:
            index += 1
            continue
        marker = {**where, "text": match.group(0)}
        end = _loop_rows(rows, index, marker)
        body, anchor = rows[index + 1 : end], rows[end]
        try:
            expression = match.group("expr").translate(TYPOGRAPHIC)
            items = list(environment().compile_expression(expression, undefined_to_none=False)(**context))
        except Exception as exc:  # classified below, with the marker as location
            raise classify(exc, location=marker) from exc
        if len(items) * max(len(body), 1) > MAX_TABLE_ROWS:
            raise render_error("template.render_failed", f"more than {MAX_TABLE_ROWS} table rows", location=marker)
        for i, item in enumerate(items):
            item_context = {**context, match.group("var"): item, "loop": loop_vars(i, len(items))}
            copies = [copy.deepcopy(r) for r in body]
            for copy_ in copies:
                anchor.addprevious(copy_)
            _expand_rows(copies, item_context, where, done)  # loops nested in this item's rows first
            for copy_ in copies:
                for paragraph in _paragraphs(copy_):
                    if id(paragraph) not in done:
                        _render_paragraph(paragraph, item_context, where)
                        done[id(paragraph)] = paragraph
        table = row.getparent()
        for template_row in [row, *body, anchor]:
            table.remove(template_row)
        del rows[index : end + 1]


def _render_tree(root, context: dict[str, Any], where: dict[str, Any]) -> None:
    done: dict[int, Any] = {}  # paragraphs rendered inside repeated rows (kept alive, so ids stay theirs)
    for table in list(root.iter(f"{{{_A}}}tbl")):
        rows = table.findall(f"{{{_A}}}tr")
        if any(ROW_LOOP.search(_row_text(r)) for r in rows):
            _expand_rows(rows, context, where, done)
    for index, paragraph in enumerate(_paragraphs(root), start=1):
        if id(paragraph) not in done:
            _render_paragraph(paragraph, context, {**where, "paragraph": index})


def _find_marker(slide) -> tuple[Any, re.Match] | None:
    roots = [slide.notes_slide.element] if slide.has_notes_slide else []
    roots.append(slide.element)
    for root in roots:
        for paragraph in _paragraphs(root):
            match = _MARKER.search(paragraph_text(paragraph))
            if match:
                return paragraph, match
    return None


def _remove_marker(paragraph, match: re.Match) -> None:
    text = paragraph_text(paragraph).replace(match.group(0), "", 1)
    runs = list(paragraph.iter(f"{{{_A}}}r"))
    if not text.strip() and paragraph.getparent() is not None and len(paragraph.getparent().findall(f"{{{_A}}}p")) > 1:
        paragraph.getparent().remove(paragraph)
        return
    for i, run in enumerate(runs):
        t = run.find(f"{{{_A}}}t")
        if t is not None:
            t.text = text if i == 0 else ""


def _duplicate(prs, slide, position: int):
    """A copy of `slide` (shapes, relationships, notes) inserted at `position` in the deck."""
    new = prs.slides.add_slide(slide.slide_layout)
    element = new.part._element
    for child in list(element):
        element.remove(child)
    for child in slide.part._element:
        element.append(copy.deepcopy(child))
    mapping = {}
    for rid, rel in slide.part.rels.items():
        if rel.reltype.endswith(_SKIP_RELS):
            continue
        if rel.is_external:
            mapping[rid] = new.part.rels.get_or_add_ext_rel(rel.reltype, rel.target_ref)
        else:
            mapping[rid] = new.part.rels.get_or_add(rel.reltype, rel.target_part)
    for node in element.iter():
        for name, value in node.attrib.items():
            if name.startswith(f"{{{_R}}}") and value in mapping:
                node.set(name, mapping[value])
    if slide.has_notes_slide:
        source = slide.notes_slide.notes_placeholder
        target = new.notes_slide.notes_placeholder
        if source is not None and target is not None:
            target._element.replace(target._element.txBody, copy.deepcopy(source._element.txBody))
    ids = prs.slides._sldIdLst
    entry = ids[-1]
    ids.remove(entry)
    ids.insert(position, entry)
    return new


def _delete(prs, slide) -> None:
    ids = prs.slides._sldIdLst
    for entry in list(ids):
        if prs.part.related_slide(entry.rId) is slide:
            ids.remove(entry)
            prs.part.drop_rel(entry.rId)
            return


def loop_vars(index: int, length: int) -> dict[str, Any]:
    return {"index": index + 1, "index0": index, "first": index == 0, "last": index == length - 1, "length": length}


def _expand(prs, context: dict[str, Any]) -> list[tuple[Any, dict[str, Any], int]]:
    """Each slide of the output with its context and its template slide number."""
    plan = []
    template_slides = list(prs.slides)
    for number, slide in enumerate(template_slides, start=1):
        found = _find_marker(slide)
        if found is None:
            plan.append((slide, context, number))
            continue
        paragraph, match = found
        where = {"part": f"slide {number}", "text": match.group(0)}
        try:
            expression = match.group("expr").translate(TYPOGRAPHIC)
            items = environment().compile_expression(expression, undefined_to_none=False)(**context)
            items = list(items)
        except Exception as exc:  # classified below, with the marker as location
            raise classify(exc, location=where) from exc
        if len(prs.slides) + len(items) > MAX_SLIDES:
            raise render_error("template.render_failed", f"more than {MAX_SLIDES} slides", location=where)
        _remove_marker(paragraph, match)
        if not items:
            _delete(prs, slide)
            continue
        position = list(prs.slides).index(slide)
        copies = [slide] + [_duplicate(prs, slide, position + i) for i in range(1, len(items))]
        for i, (copy_, item) in enumerate(zip(copies, items, strict=True)):
            plan.append((copy_, {**context, match.group("var"): item, "loop": loop_vars(i, len(items))}, number))
    return plan


def render_pptx(template: bytes, context: dict[str, Any]) -> bytes:
    """Render a .pptx template with `context`; DocgError (with the slide and text) when it cannot."""
    from pptx import Presentation

    try:
        prs = Presentation(io.BytesIO(template))
    except Exception as exc:  # python-pptx raises several types for a broken package
        raise render_error("template.unreadable", f"not a readable PowerPoint file ({type(exc).__name__})") from exc
    with failures_classified():
        for slide, slide_context, number in _expand(prs, context):
            _render_tree(slide.element, slide_context, {"part": f"slide {number}"})
            if slide.has_notes_slide:
                _render_tree(slide.notes_slide.element, slide_context, {"part": f"slide {number} notes"})
        out = io.BytesIO()
        prs.save(out)
    return out.getvalue()


def pptx_paragraphs(template: bytes) -> list[dict[str, Any]]:
    """Every paragraph holding a tag: {part, paragraph, text, loop: (var, expr) | None, bound}, for detection.

    `bound`: the item names of the slide's table-row loops.
    """
    from pptx import Presentation

    prs = Presentation(io.BytesIO(template))
    found = []
    for number, slide in enumerate(prs.slides, start=1):
        marker = _find_marker(slide)
        loop = (marker[1].group("var"), marker[1].group("expr")) if marker else None
        row_loops = {
            m.group("var") for p in _paragraphs(slide.element) for m in ROW_LOOP.finditer(plain_tags(paragraph_text(p)))
        }
        roots = [(f"slide {number}", slide.element)]
        if slide.has_notes_slide:
            roots.append((f"slide {number} notes", slide.notes_slide.element))
        for part, root in roots:
            for index, paragraph in enumerate(_paragraphs(root), start=1):
                for runs in _segments(paragraph):
                    text = plain_tags("".join(_run_text(r) for r in runs))
                    if "{{" in text or "{%" in text:
                        found.append({"part": part, "paragraph": index, "text": text, "loop": loop, "bound": row_loops})
    return found
