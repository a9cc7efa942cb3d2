"""Template lint: what would make rendering fail, found at upload with its location.

Codes: `template.malformed_tag` (an opener never closed), `template.unbalanced_block`
(`{% for %}`/`{% if %}` without its end, or an end without its start),
`template.unknown_filter` (a filter or test the sandboxed environment does not
have), `template.syntax_error` (anything else Jinja refuses). Each error is
`{"code", "message", "location", "tag"}`; the location is a placeholder's.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from jinja2 import TemplateSyntaxError, nodes

from docg.common.errors import in_language
from docg.documents.paragraphs import cell_address
from docg.documents.placeholders import BLOCKS, CLOSER, RENDERER_HELPERS, ScopeTags, Tag, in_scope, marker_of
from docg.workflows.expressions import environment

# An `{% else %}` may sit in these blocks, an `{% elif %}` only in an if.
_ELSE_IN = {"else": ("if", "for"), "elif": ("if",)}


def _error(code: str, message: str, location: dict[str, Any], tag: str) -> dict[str, Any]:
    return {"code": code, "message": message, "location": location, "tag": tag}


def _balance(tags: list[Tag]) -> list[dict[str, Any]]:
    errors = []
    stack: list[Tag] = []
    for tag in tags:
        keyword = tag.keyword
        if tag.kind != "block":
            continue
        if keyword in BLOCKS or (keyword == "set" and "=" not in tag.source):
            stack.append(tag)
        elif keyword.startswith("end") and keyword[3:] in (*BLOCKS, "set"):
            opener = keyword[3:]
            if not any(open_tag.keyword == opener for open_tag in stack):
                errors.append(
                    _error(
                        "template.unbalanced_block",
                        f"'{tag.raw}' closes a {{% {opener} %}} that was never opened.",
                        tag.location,
                        tag.raw,
                    )
                )
                continue
            while stack[-1].keyword != opener:
                inner = stack.pop()
                errors.append(_unclosed(inner, before=tag))
            stack.pop()
        elif keyword in _ELSE_IN and (not stack or stack[-1].keyword not in _ELSE_IN[keyword]):
            errors.append(
                _error(
                    "template.unbalanced_block",
                    f"'{tag.raw}' is outside any {' or '.join('{% ' + k + ' %}' for k in _ELSE_IN[keyword])}.",
                    tag.location,
                    tag.raw,
                )
            )
    errors += [_unclosed(tag) for tag in stack]
    return errors


def _unclosed(tag: Tag, before: Tag | None = None) -> dict[str, Any]:
    end = BLOCKS.get(tag.keyword, f"end{tag.keyword}")
    where = f" before '{before.raw}'" if before is not None else ""
    return _error(
        "template.unbalanced_block",
        f"'{tag.raw}' is never closed{where}: add {{% {end} %}} where the block ends.",
        tag.location,
        tag.raw,
    )


def _unknown_names(tag: Tag) -> list[dict[str, Any]]:
    from docg.documents.rendering.docx import DOCX_FILTERS

    env = environment()
    filters = {*env.filters, *DOCX_FILTERS} if tag.dialect == "docx" else set(env.filters)
    errors = []
    for node in tag.tree.find_all((nodes.Filter, nodes.Test)) if tag.tree is not None else ():
        known = filters if isinstance(node, nodes.Filter) else env.tests
        if node.name not in known:
            what = "filter" if isinstance(node, nodes.Filter) else "test"
            errors.append(
                _error(
                    "template.unknown_filter",
                    f"'{tag.raw}' uses the unknown {what} '{node.name}'.",
                    tag.location,
                    tag.raw,
                )
            )
    return errors


def _whole_scope(scope: ScopeTags) -> list[dict[str, Any]]:
    """Parse the scope's tags together, one per line, for what only shows in context (two `{% else %}`)."""
    tags = [t for t in scope.tags if in_scope(t)]
    try:
        environment().parse("\n".join(in_scope(t).replace("\n", " ").replace("\r", " ") for t in tags))
    except TemplateSyntaxError as exc:
        tag = tags[min(max(exc.lineno - 1, 0), len(tags) - 1)]
        return [_error("template.syntax_error", f"'{tag.raw}': {exc.message}", tag.location, tag.raw)]
    return []


# What docxtpl replaces with a marker's tag alone: the whole row, cell or paragraph that holds it.
_MARKER_REACH = {"tr": "row", "tc": "cell", "p": "paragraph"}


def _path(location: dict[str, Any]) -> list[tuple[str, Any]]:
    """The location as containers from the part inwards, to compare where two tags sit."""
    part = location.get("part")
    path: list[tuple[str, Any]] = [("part", (part, location.get(part)))]
    for table in [location, *location.get("nested", [])]:
        if "table" in table:
            path += [("table", table["table"]), ("row", table.get("row")), ("cell", table.get("cell"))]
    if "textbox" in location:
        path.append(("textbox", location["textbox"]))
    path.append(("paragraph", location.get("paragraph")))
    return path


def _lost_to_markers(tags: list[Tag]) -> list[dict[str, Any]]:
    """Tags in the row/cell/paragraph of a `{%tr %}`/`{%tc %}`/`{%p %}` marker: docxtpl drops them with it."""
    places = {"row": _("table row"), "cell": _("table cell"), "paragraph": _("paragraph")}
    errors, reported = [], set()
    for marker in tags:
        reach = _MARKER_REACH.get(marker_of(marker))
        if reach is None:
            continue
        path = _path(marker.paragraph.location)
        ends = [i for i, (name, _value) in enumerate(path) if name == reach]
        if not ends:
            continue
        prefix = path[: ends[-1] + 1]
        for other in tags:
            if other is marker or id(other) in reported or _path(other.paragraph.location)[: len(prefix)] != prefix:
                continue
            reported.add(id(marker))  # each lost tag once, and not again as the marker of its mate
            reported.add(id(other))
            message = _(
                "'%(tag)s' is in the same %(place)s as '%(marker)s': docxtpl keeps only the marker of a "
                "%(place)s, so this tag would be lost. Give the marker a %(place)s of its own."
            ) % {"tag": other.raw, "marker": marker.raw, "place": places[reach]}
            errors.append(_error("template.syntax_error", message, other.location, other.raw))
    return errors


def _include_outside_body(scope: ScopeTags) -> list[dict[str, Any]]:
    """include() in a header, footer or note: its clause's images and styles can only join the body."""
    if scope.scope.name == "body" or not scope.scope.partname:
        return []
    return [
        _error(
            "template.syntax_error",
            _("'%(tag)s': include() works in the body only, not in headers, footers or notes.") % {"tag": tag.raw},
            tag.location,
            tag.raw,
        )
        for tag in scope.tags
        if tag.tree is not None
        and any(isinstance(c.node, nodes.Name) and c.node.name == "include" for c in tag.tree.find_all(nodes.Call))
    ]


def _word_only_helpers(scope: ScopeTags) -> list[dict[str, Any]]:
    """image(), link() and include() write WordprocessingML: a spreadsheet cell has no use for them."""
    return [
        _error(
            "template.syntax_error",
            _("'%(tag)s': %(helper)s() works in Word templates only.") % {"tag": tag.raw, "helper": call.node.name},
            tag.location,
            tag.raw,
        )
        for tag in scope.tags
        if tag.dialect == "xlsx" and tag.tree is not None
        for call in tag.tree.find_all(nodes.Call)
        if isinstance(call.node, nodes.Name) and call.node.name in RENDERER_HELPERS
    ]


def _render_error(scope: ScopeTags) -> list[dict[str, Any]]:
    """What Jinja says of the part once the renderer's own preprocessing ran, at the tag it points to."""
    message, text = scope.render_error or ("", "")
    located = next((t for t in scope.tags if text and (t.source in text or t.raw in text)), None)
    located = located or next((t for t in scope.tags if text and text in t.paragraph.text), None)
    if located is None and scope.tags:
        located = scope.tags[-1] if "end of template" in message else scope.tags[0]
    if located is None:
        location = {"part": scope.scope.name.split(" ")[0], "text": text}
        return [_error("template.syntax_error", message, location, "")]
    return [_error("template.syntax_error", f"'{located.raw}': {message}", located.location, located.raw)]


def lint(analysis: list[ScopeTags]) -> list[dict[str, Any]]:
    """Every problem in an analysed template, scope by scope, in document order."""
    errors: list[dict[str, Any]] = []
    for scope in analysis:
        found = [
            _error(
                "template.malformed_tag",
                f"A tag starting with '{m.opener}' is never closed with '{CLOSER[m.opener]}'.",
                m.location,
                m.paragraph.text[m.start : m.start + 40],
            )
            for m in scope.malformed
        ]
        found += _balance(scope.tags)
        for tag in scope.tags:
            if tag.error:
                found.append(_error("template.syntax_error", f"'{tag.raw}': {tag.error}", tag.location, tag.raw))
            found += _unknown_names(tag)
        found += _lost_to_markers(scope.tags)
        found += _include_outside_body(scope)
        found += _word_only_helpers(scope)
        if not found and any(in_scope(t) for t in scope.tags):
            found = _whole_scope(scope)
        if not found and scope.render_error:
            found = _render_error(scope)
        errors += found
    return errors


_PARTS = {
    "body": pgettext_lazy("template part", "body"),
    "header": pgettext_lazy("template part", "header"),
    "footer": pgettext_lazy("template part", "footer"),
    "footnote": pgettext_lazy("template part", "footnote"),
    "endnote": pgettext_lazy("template part", "endnote"),
    "slide": pgettext_lazy("template part", "slide"),
    "notes": pgettext_lazy("template part", "notes of slide"),
}
_WORDS = {
    "table": pgettext_lazy("template part", "table"),
    "row": pgettext_lazy("template part", "row"),
    "cell": pgettext_lazy("template part", "cell"),
}


def describe_location(location: dict[str, Any], language: str = "en") -> str:
    """`header 1, table 1, row 2, cell 1, paragraph 3`: numbers from 1, as a person counts; `Prices!B4` in a sheet."""
    if location.get("part") == "sheet" and location.get("sheet"):
        return cell_address(location["sheet"], str(location.get("cell", "")))
    with in_language(language):
        part = location.get("part", "body")
        label = str(_PARTS.get(part, part))
        number = location.get("slide") or location.get(part)
        pieces = [f"{label} {number}" if number else label]
        for key, word in _WORDS.items():
            if key in location:
                pieces.append(f"{word} {location[key] + 1}")
        if "paragraph" in location:
            paragraph = pgettext("template part", "paragraph")  # outside the f-string, where xgettext finds it
            pieces.append(f"{paragraph} {location['paragraph'] + 1}")
        if location.get("clause"):
            pieces.insert(0, pgettext("template part", "clause “%(name)s”") % {"name": location["clause"]})
    return ", ".join(pieces)


_FROM_ZERO = ("table", "row", "cell", "textbox", "paragraph")


def location_for_clients(location: Any) -> Any:
    """A stored template location with its numbers counted from 1, as `describe_location` (and so the dashboard)
    shows them. Stored locations count tables, rows, cells and paragraphs from 0; slides and headers from 1."""
    if not isinstance(location, dict) or "part" not in location:
        return location
    out = {k: (v + 1 if k in _FROM_ZERO and isinstance(v, int) else v) for k, v in location.items()}
    if isinstance(out.get("nested"), list):
        out["nested"] = [
            {k: (v + 1 if k in _FROM_ZERO and isinstance(v, int) else v) for k, v in n.items()}
            if isinstance(n, dict)
            else n
            for n in out["nested"]
        ]
    return out


def locations_for_clients(items: Any, key: str = "location") -> Any:
    """`location_for_clients` on each item's `location` (or, with key="locations", each of its locations)."""
    if not isinstance(items, list):
        return items
    result = []
    for item in items:
        if isinstance(item, dict) and key in item:
            value = item[key]
            item = {**item, key: [location_for_clients(v) for v in value] if isinstance(value, list)
                    else location_for_clients(value)}  # fmt: skip
        result.append(item)
    return result
