"""Which data a template reads, and where: for preflight's `data.unresolved_variables`.

Tags are parsed with the same sandboxed environment that renders them (for DOCX
after docxtpl's own clean-up, so tags split across Word runs are whole). Names
bound inside the template (loop variables, `set`, macro arguments, the repeated
slide's item) and helpers (`image`, `link`, `loop`, Jinja globals) are not data.
A name guarded by `|default(…)` or `is defined` is optional.
"""

import re
from dataclasses import asdict, dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from docg.documents.rendering.docx import docx_parts, paragraph_text, patched_lines
from docg.documents.rendering.errors import render_error
from docg.documents.rendering.pptx import ROW_END, ROW_LOOP, pptx_paragraphs
from docg.documents.rendering.xlsx import xlsx_cells
from docg.workflows.expressions import environment

NOT_DATA = frozenset(
    {"loop", "image", "link", "include", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "super"}
)
_PICTURE_ALT = re.compile(r'\sdescr="\s*image:\s*([A-Za-z_]\w*(?:\.\w+)*)\s*"')
_OPTIONAL_FILTERS = frozenset({"default", "d"})
_OPTIONAL_TESTS = frozenset({"defined", "undefined", "none"})


@dataclass(frozen=True)
class Placeholder:
    name: str
    part: str
    paragraph: int
    text: str
    sheet: str = ""  # XLSX: the cell's sheet and reference (`part` is then their address, Prices!B4)
    cell: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def location(self) -> dict[str, Any]:
        """Where it sits, in the shape the upload analysis stores (docg.documents.paragraphs)."""
        if self.sheet:
            return {"part": "sheet", "sheet": self.sheet, "cell": self.cell, "text": self.text}
        return {"part": self.part, "paragraph": self.paragraph, "text": self.text}


def _chain(node: nodes.Node) -> tuple[list[str] | None, list[nodes.Node]]:
    """(['customer', 'address', 'city'], dynamic subscripts) for customer.address['city']; None if not a name."""
    parts: list[str] = []
    dynamic: list[nodes.Node] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
            parts.append(str(node.arg.value))
        else:
            dynamic.append(node.arg)
            parts = []  # customer[key].name: only `customer` is known
        node = node.node
    if not isinstance(node, nodes.Name):
        return None, dynamic
    parts.append(node.name)
    return list(reversed(parts)), dynamic


def _guarded(path: str, guard: frozenset[str]) -> bool:
    return "*" in guard or any(path == g or path.startswith(g + ".") for g in guard)


def references(source: str) -> tuple[list[tuple[str, int, bool]], set[str]]:
    """(dotted path, line, optional) of each data read in a template source, and the names it binds."""
    tree = environment().parse(source)
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    found: list[tuple[str, int, bool]] = []

    def visit(node: nodes.Node, guard: frozenset[str], method: bool = False) -> None:
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name) and getattr(node, "ctx", "load") == "load":
            parts, dynamic = _chain(node)
            if parts is not None:
                if method and len(parts) > 1:
                    parts = parts[:-1]  # customer.name.upper(): the data is customer.name
                path = ".".join(parts)
                found.append((path, node.lineno, _guarded(path, guard)))
            else:
                for child in node.iter_child_nodes():
                    visit(child, guard)
            for child in dynamic:
                visit(child, guard)
            return
        if isinstance(node, nodes.Call):
            visit(node.node, guard, method=isinstance(node.node, nodes.Getattr))
            for child in [*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs]:
                if child is not None:
                    visit(child, guard)
            return
        if isinstance(node, nodes.Filter | nodes.Test) and node.name in (_OPTIONAL_FILTERS | _OPTIONAL_TESTS):
            if node.node is not None:
                visit(node.node, guard | {"*"})
            for child in [*node.args, *node.kwargs]:
                visit(child, guard)
            return
        if isinstance(node, nodes.If):
            # {% if x is defined %} … {{ x.y }} … {% endif %}: inside, x is known to exist.
            tested = {
                ".".join(p)
                for t in [node.test, *node.test.find_all(nodes.Test)]
                if isinstance(t, nodes.Test) and t.name == "defined" and t.node is not None
                for p in [_chain(t.node)[0]]
                if p
            }
            visit(node.test, guard)
            for child in node.body:
                visit(child, guard | tested)
            for child in [*node.elif_, *node.else_]:
                visit(child, guard)
            return
        for child in node.iter_child_nodes():
            visit(child, guard)

    visit(tree, frozenset())
    return found, bound


def resolves(data: Any, path: str) -> bool:
    """True when the dotted `path` exists in `data` (dict keys, list indexes)."""
    parts = path.split(".")
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def docx_placeholders(template: bytes) -> list[Placeholder]:
    found = []
    for part, xml in docx_parts(template):
        lines = patched_lines(xml)
        try:
            refs, bound = references("\n".join(lines))
        except TemplateSyntaxError as exc:
            # Never skipped: a part nobody can read is a part whose data nobody checks.
            line = exc.lineno or 0
            text = paragraph_text(lines[line - 1]) if 0 < line <= len(lines) else ""
            location = {"part": part, "paragraph": max(line - 1, 1), "text": text}
            raise render_error("template.syntax_error", exc.message or str(exc), location=location) from exc
        for path, line, optional in refs:
            root = path.split(".")[0]
            if optional or root in bound or root in NOT_DATA:
                continue
            text = paragraph_text(lines[line - 1]) if 0 < line <= len(lines) else ""
            found.append(Placeholder(path, part, max(line - 1, 1), text))
        # A placeholder picture (rendering/media.py) reads the data path its alt text names.
        for number, line in enumerate(lines, start=1):
            for match in _PICTURE_ALT.finditer(line):
                found.append(Placeholder(match.group(1), part, max(number - 1, 1), f"image:{match.group(1)}"))
    return found


def pptx_placeholders(template: bytes) -> list[Placeholder]:
    return _placeholders_of(pptx_paragraphs(template))


def xlsx_placeholders(template: bytes) -> list[Placeholder]:
    # A cell is its own template; `part` is its address (Prices!B4), as describe_location writes it.
    return _placeholders_of([{**cell, "paragraph": 0, "loop": None} for cell in xlsx_cells(template)])


def _placeholders_of(entries: list[dict[str, Any]]) -> list[Placeholder]:
    """The data read by PPTX paragraphs or XLSX cells, each rendered on its own (row loops bind sheet-/slide-wide)."""
    found = []
    for entry in entries:
        loop_var = entry["loop"][0] if entry["loop"] else None
        sources = [entry["text"]]
        if entry["loop"] and f"in {entry['loop'][1]}" in entry["text"]:
            sources = ["{{ " + entry["loop"][1] + " }}"]  # the marker: its list is data
        if ROW_END.search(entry["text"]):
            sources = [ROW_END.sub("", entry["text"])]
        row_loop = ROW_LOOP.search(entry["text"])
        if row_loop:
            sources = ["{{ " + row_loop.group("expr") + " }}", ROW_LOOP.sub("", entry["text"])]
        for source in sources:
            try:
                refs, bound = references(source)
            except TemplateSyntaxError:
                continue
            for path, _line, optional in refs:
                root = path.split(".")[0]
                if optional or root in bound or root in NOT_DATA or root == loop_var or root in entry["bound"]:
                    continue
                where = {"sheet": entry["sheet"], "cell": entry["cell"]} if "sheet" in entry else {}
                found.append(Placeholder(path, entry["part"], entry["paragraph"], entry["text"][:120], **where))
    return found


def template_placeholders(kind: str, template: bytes) -> list[Placeholder]:
    readers = {"docx": docx_placeholders, "pptx": pptx_placeholders, "xlsx": xlsx_placeholders}
    return readers[kind](template)
