"""Template lint: what would make rendering fail, found at upload with its location.

Codes: `template.malformed_tag` (an opener never closed), `template.unbalanced_block`
(`{% for %}`/`{% if %}` without its end, or an end without its start),
`template.unknown_filter` (a filter or test the sandboxed environment does not
have), `template.syntax_error` (anything else Jinja refuses). Each error is
`{"code", "message", "location", "tag"}`; the location is a placeholder's.
"""

from typing import Any

from django.utils.translation import pgettext, pgettext_lazy
from jinja2 import TemplateSyntaxError, nodes

from docg.common.errors import in_language
from docg.documents.placeholders import BLOCKS, CLOSER, ScopeTags, Tag, in_scope
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
    env = environment()
    errors = []
    for node in tag.tree.find_all((nodes.Filter, nodes.Test)) if tag.tree is not None else ():
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
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
        if not found and any(in_scope(t) for t in scope.tags):
            found = _whole_scope(scope)
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
    """`header 1, table 1, row 2, cell 1, paragraph 3`: numbers from 1, as a person counts."""
    with in_language(language):
        part = location.get("part", "body")
        label = str(_PARTS.get(part, part))
        number = location.get("slide") or location.get(part)
        pieces = [f"{label} {number}" if number else label]
        for key, word in _WORDS.items():
            if key in location:
                pieces.append(f"{word} {location[key] + 1}")
        if "paragraph" in location:
            pieces.append(f"{pgettext('template part', 'paragraph')} {location['paragraph'] + 1}")
    return ", ".join(pieces)
