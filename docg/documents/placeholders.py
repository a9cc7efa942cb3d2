"""Every `{{ … }}` / `{% … %}` in a template: what it reads and where it sits.

Tags are cut from each paragraph's joined text (see paragraphs.py), so a tag
split across Word runs is found whole. In DOCX, docxtpl's row/cell/paragraph/run
markers (`{%tr for … %}`, `{%p if … %}`, `{{r rich }}`) are read as the plain
Jinja they become, and its cell statements (`{% colspan n %}`, `{% vm %}`) as
what they read. In PPTX, `{% slide for item in items %}` repeats its slide and
binds `item` on the whole slide, notes included (docg.documents.rendering.pptx).
In XLSX each cell is its own scope, and a `{%tr for item in items %}` row binds
`item` in its sheet (docg.documents.rendering.xlsx).
A tag's `names` are the dotted inputs it reads; names rooted at a loop variable
(`item` in `{% for item in items %}`), at `{% set %}` names, at the renderers'
helpers (`image`, `link`) or at Jinja's globals (`loop`, `range`) are not inputs.
"""

import re
from dataclasses import dataclass, field
from typing import IO, Any

from jinja2 import TemplateSyntaxError, nodes

from docg.documents.choices import TemplateKind
from docg.documents.paragraphs import Paragraph, Scope, read_scopes
from docg.workflows.expressions import environment, referenced_paths

OPENER = re.compile(r"\{[{%#]")
CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}
# Block statements and the tag that closes each.
BLOCKS = {
    "for": "endfor",
    "if": "endif",
    "with": "endwith",
    "macro": "endmacro",
    "call": "endcall",
    "filter": "endfilter",
    "block": "endblock",
    "raw": "endraw",
    "autoescape": "endautoescape",
}
_DOCXTPL_MARKER = re.compile(r"^(\{[{%])(?:tr|tc|p|r)(?=\s)")
_KEYWORD = re.compile(r"^\{%[-+]?\s*(\w*)")
# docxtpl's own cell statements: `{% colspan n %}` / `{% cellbg color %}` read an expression; vm/hm read nothing.
_CELL_EXPRESSION = re.compile(r"^\{%[-+]?\s*(?:colspan|cellbg)\s+(.*?)\s*[-+]?%\}$", re.DOTALL)
_CELL_MARKS = {"vm", "hm"}
_SLIDE_LOOP = re.compile(r"^\{%-?\s*slide\s+for\s+(?P<var>[A-Za-z_]\w*)\s+in\s+(?P<expr>.+?)\s*-?%\}$", re.DOTALL)
# PPTX table-row loops (rendering/pptx.py) and XLSX row loops (rendering/xlsx.py):
# `{%tr for item in items %}` … `{%tr endfor %}` rows.
_ROW_LOOP = re.compile(r"^\{%-?\s*tr\s+for\s+(?P<var>[A-Za-z_]\w*)\s+in\s+(?P<expr>.+?)\s*-?%\}$", re.DOTALL)
_ROW_END = re.compile(r"^\{%-?\s*tr\s+endfor\s*-?%\}$")
# Dialects whose `{%tr %}` rows docg repeats itself (docxtpl does it for DOCX).
ROW_DIALECTS = ("pptx", "xlsx")
# Names the renderers put in every context (rendering/media.py: DocxHelpers.names()).
RENDERER_HELPERS = frozenset({"image", "link", "include"})
CONTEXT_CHARS = 120


@dataclass
class Tag:
    raw: str
    source: str  # what Jinja parses: docxtpl markers removed
    kind: str  # variable | block | comment
    keyword: str
    paragraph: Paragraph
    start: int
    dialect: str  # docx | pptx | xlsx
    tree: nodes.Template | None = None
    error: str = ""
    introduces: set[str] = field(default_factory=set)
    names: list[str] = field(default_factory=list)

    @property
    def location(self) -> dict[str, Any]:
        return location_of(self.paragraph, self.start, len(self.raw))


@dataclass
class Malformed:
    opener: str
    paragraph: Paragraph
    start: int

    @property
    def location(self) -> dict[str, Any]:
        return location_of(self.paragraph, self.start, len(self.paragraph.text) - self.start)


@dataclass
class ScopeTags:
    scope: Scope
    tags: list[Tag]
    malformed: list[Malformed]
    # (Jinja's message, paragraph text) when the renderer's own preprocessing leaves Jinja it cannot parse.
    render_error: tuple[str, str] | None = None


def location_of(paragraph: Paragraph, start: int, length: int) -> dict[str, Any]:
    """The paragraph's location plus at most CONTEXT_CHARS of text around the tag."""
    text = paragraph.text
    if len(text) > CONTEXT_CHARS:
        left = max(0, min(start - (CONTEXT_CHARS - min(length, CONTEXT_CHARS)) // 2, len(text) - CONTEXT_CHARS))
        text = text[left : left + CONTEXT_CHARS]
    return {**paragraph.location, "text": text.strip()}


def cut_tags(paragraph: Paragraph, dialect: str = "docx") -> tuple[list[Tag], list[Malformed]]:
    """The paragraph's tags, and the openers never closed before the next tag (or the paragraph's end)."""
    text = paragraph.text
    tags, malformed = [], []
    position = 0
    while match := OPENER.search(text, position):
        opener = match.group()
        end = text.find(CLOSER[opener], match.end())
        following = OPENER.search(text, match.end())
        if end < 0 or (following is not None and following.start() < end and opener != "{#"):
            malformed.append(Malformed(opener, paragraph, match.start()))
            position = match.end()
            continue
        raw = text[match.start() : end + 2]
        source = _DOCXTPL_MARKER.sub(r"\1", raw) if dialect == "docx" else raw
        kind = {"{{": "variable", "{%": "block", "{#": "comment"}[opener]
        keyword_match = _KEYWORD.match(source) if kind == "block" else None
        keyword = keyword_match.group(1) if keyword_match else ""
        tags.append(Tag(raw, source, kind, keyword, paragraph, match.start(), dialect))
        position = end + 2
    return tags, malformed


def in_scope(tag: Tag) -> str:
    """The tag as Jinja sees it inside its scope, once the renderer has handled its own statements."""
    if tag.kind == "comment":
        return ""
    if tag.kind == "variable":
        return tag.source
    if tag.dialect == "pptx" and tag.keyword == "slide" and _SLIDE_LOOP.match(tag.source):
        return ""  # taken out of the slide before rendering
    row_marker = _ROW_LOOP.match(tag.source) or _ROW_END.match(tag.source)
    if tag.dialect in ROW_DIALECTS and tag.keyword == "tr" and row_marker:
        return ""  # rows repeated (and the marker rows removed) before the cells render
    if tag.dialect == "docx" and tag.keyword in _CELL_MARKS:
        return ""
    cell = _CELL_EXPRESSION.match(tag.source) if tag.dialect == "docx" else None
    if cell:
        return "{{ " + cell.group(1) + " }}"
    return tag.source


def parseable(tag: Tag) -> str:
    """Jinja that parses on its own and reads what the tag reads ("" for tags that read nothing)."""
    keyword = tag.keyword
    slide_loop = _SLIDE_LOOP.match(tag.source) if tag.dialect == "pptx" else None
    slide_loop = slide_loop or (_ROW_LOOP.match(tag.source) if tag.dialect in ROW_DIALECTS else None)
    if slide_loop:
        return "{% for " + slide_loop.group("var") + " in " + slide_loop.group("expr") + " %}{% endfor %}"
    source = in_scope(tag)
    if tag.kind != "block" or source != tag.source:
        return source
    if keyword in BLOCKS:
        return source + "{% " + BLOCKS[keyword] + " %}"
    if keyword == "set" and "=" not in source:
        return source + "{% endset %}"
    if keyword in ("elif", "else"):
        return "{% if true %}" + source + "{% endif %}"
    if keyword.startswith("end"):
        return ""
    return source


def _parse(tag: Tag) -> None:
    source = parseable(tag)
    if not source:
        return
    try:
        tag.tree = environment().parse(source)
    except TemplateSyntaxError as exc:
        tag.error = exc.message or str(exc)
        return
    for name in tag.tree.find_all(nodes.Name):
        if name.ctx in ("store", "param"):
            tag.introduces.add(name.name)
    for macro in tag.tree.find_all(nodes.Macro):
        tag.introduces.add(macro.name)
    tag.names = referenced_paths(source)


def _resolve_names(tags: list[Tag], bound: set[str]) -> None:
    """Drop names rooted at a variable the template itself defines where the tag sits."""
    implicit = {"loop", "caller", "varargs", "kwargs", "self", "super", *RENDERER_HELPERS, *environment().globals}
    frames: list[tuple[str, set[str]]] = [("", set(bound))]
    for tag in tags:
        keyword = tag.keyword
        if keyword.startswith("end") and keyword[3:] in (*BLOCKS, "set"):
            if len(frames) > 1 and frames[-1][0] == keyword[3:]:
                frames.pop()
            continue
        hidden = implicit | tag.introduces | set().union(*(names for _, names in frames))
        tag.names = [n for n in tag.names if n.split(".", 1)[0] not in hidden]
        if keyword in BLOCKS:
            frames.append((keyword, set(tag.introduces) if keyword in ("for", "with", "macro") else set()))
        elif keyword == "set":
            frames[-1][1].update(tag.introduces)
            if "=" not in tag.source:
                frames.append(("set", set()))


def _docx_render_errors(stream: IO[bytes]) -> dict[str, tuple[str, str]]:
    from docg.documents.rendering.docx import docx_part_errors

    stream.seek(0)
    try:
        return docx_part_errors(stream)  # read from the upload's file, not copied into memory
    finally:
        stream.seek(0)


def marker_of(tag: Tag) -> str:
    """docxtpl's marker of a DOCX tag: "tr", "tc", "p", "r" or ""."""
    match = _DOCXTPL_MARKER.match(tag.raw) if tag.dialect == "docx" else None
    return tag.raw[2 : match.end()].lstrip("-+ ") if match else ""


def _xlsx_render_errors(stream: IO[bytes]) -> dict[str, tuple[str, str]]:
    """The row-loop structure the XLSX renderer refuses, by the scope (cell) of its marker."""
    from docg.documents.paragraphs import cell_address, sheet_cells
    from docg.documents.rendering.xlsx import loop_errors, row_markers

    stream.seek(0)
    try:
        sheets = sheet_cells(stream)
    finally:
        stream.seek(0)
    found = {}
    for sheet, cells in sheets:
        for error in loop_errors(row_markers(cells), sheet):
            location = error.details["location"]
            found.setdefault(cell_address(sheet, location["cell"]), (error.message, location["text"]))
    return found


def analyse(stream: IO[bytes], kind: str) -> list[ScopeTags]:
    """Read a .docx/.pptx/.xlsx and cut, parse and resolve every tag, scope by scope."""
    dialect = {TemplateKind.PPTX: "pptx", TemplateKind.XLSX: "xlsx"}.get(kind, "docx")
    analysis = []
    render_errors = {"docx": _docx_render_errors, "xlsx": _xlsx_render_errors}.get(dialect, lambda _s: {})(stream)
    for scope in read_scopes(stream, kind):
        tags, malformed = [], []
        for paragraph in scope.paragraphs:
            found, broken = cut_tags(paragraph, dialect)
            tags += [t for t in found if t.kind != "comment"]
            malformed += broken
        for tag in tags:
            _parse(tag)
        analysis.append(ScopeTags(scope, tags, malformed, render_errors.get(scope.partname or scope.name)))
    slide_bound: dict[str, set[str]] = {}
    for scope_tags in analysis:
        for tag in scope_tags.tags:
            # A slide's loop binds its item on the whole slide; a row loop's is bound slide-wide too
            # (cells are scopes of their own here; the renderer checks which rows it repeats).
            if (tag.dialect == "pptx" and _SLIDE_LOOP.match(tag.source)) or (
                tag.dialect in ROW_DIALECTS and _ROW_LOOP.match(tag.source)
            ):
                slide_bound.setdefault(scope_tags.scope.group, {"loop"}).update(tag.introduces)
    for scope_tags in analysis:
        _resolve_names(scope_tags.tags, slide_bound.get(scope_tags.scope.group, set()) if dialect != "docx" else set())
    return analysis


def placeholders(analysis: list[ScopeTags]) -> list[dict[str, Any]]:
    return [
        {"tag": tag.raw, "kind": tag.kind, "names": tag.names, "location": tag.location}
        for scope in analysis
        for tag in scope.tags
    ]


def variables(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unique input names, each with every location that reads it."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for placeholder in found:
        for name in placeholder["names"]:
            locations = by_name.setdefault(name, [])
            if placeholder["location"] not in locations:
                locations.append(placeholder["location"])
    return [{"name": name, "locations": by_name[name]} for name in sorted(by_name)]
