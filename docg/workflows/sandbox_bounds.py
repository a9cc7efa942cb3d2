"""Size bounds for everything a template or expression builds, so one cannot take a worker's memory.

The sandbox stops access to Python internals, not allocation: `'a'.ljust(10**8)`,
`'a'|center(10**8)`, `'{:>100000000}'.format(1)`, `'%100000000s' % 1`, or a
string doubled in a loop (`ns.s ~ ns.s`) each build hundreds of megabytes in
one step. Three layers bound them:

- before a call that can amplify (str width and padding methods, `replace`,
  `join`, `format`, `%`, `+`, and the filters built on them), its result size
  is computed from its arguments and refused past the limit, so nothing is
  allocated;
- after every method call, filter and `~`, the result's size is checked, so a
  value can at most double (from two values each under the limit) before the
  next step refuses it;
- a whole render stops once its output passes MAX_RENDER_CHARS.

A refusal is a SecurityError, which the expression layer reports as "Not
allowed in an expression: …" and the documents layer as a template error: the
step fails with that message.
"""

import re
import string
from collections.abc import Callable, Iterable, Sized
from functools import wraps
from typing import Any

from jinja2 import Template
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import SecurityError

MAX_TEXT_CHARS = 1_000_000  # one string an expression builds
MAX_ITEMS = 100_000  # one list, tuple or dict an expression builds
MAX_RENDER_CHARS = 20_000_000  # one whole render (a document part's XML included)

# Methods of str whose result is at least as long as one of their integer arguments.
_WIDTH_METHODS = {"ljust", "rjust", "center", "zfill"}
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_FORMAT_NUMBERS = re.compile(r"\d+")


def _too_long(what: str, size: int, limit: int = MAX_TEXT_CHARS) -> SecurityError:
    return SecurityError(f"{what} would be {size:,} characters long; the limit is {limit:,}.")


def _require(size: int, what: str, limit: int = MAX_TEXT_CHARS) -> None:
    if size > limit:
        raise _too_long(what, size, limit)


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def checked(value: Any) -> Any:
    """`value` unchanged if it is within the bounds; else SecurityError."""
    if isinstance(value, str | bytes):
        _require(len(value), "The text")
    elif isinstance(value, list | tuple | dict | set | frozenset) and len(value) > MAX_ITEMS:
        raise SecurityError(f"A list of {len(value):,} items is not allowed; the limit is {MAX_ITEMS:,}.")
    return value


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value)) if value is not None else 0


def _joined_len(items: Any, separator: Any) -> int:
    if not isinstance(items, Iterable) or not isinstance(items, Sized):
        return 0  # a generator: its result is checked afterwards
    checked(items)
    total = _text_len(separator) * max(len(items) - 1, 0)
    for item in items:
        total += _text_len(item)
        _require(total, "The joined text")
    return total


def _format_width(spec_source: str, args: tuple, kwargs: dict) -> int:
    """The widest field a str.format template asks for (nested `{}` widths come from the arguments)."""
    widest = 0
    for _, _, spec, _ in string.Formatter().parse(spec_source):
        if not spec:
            continue
        if "{" in spec:
            widest = max([widest, *map(_as_int, args), *map(_as_int, kwargs.values())])
        widest = max([widest, *(int(n) for n in _FORMAT_NUMBERS.findall(spec))])
    return widest


def _percent_width(template: str, right: Any) -> int:
    values = right if isinstance(right, tuple) else (right,)
    widest = 0
    for width, precision in _PERCENT_SPEC.findall(template):
        for number in (width, precision):
            if number == "*":
                widest = max([widest, *map(_as_int, values)])
            elif number:
                widest = max(widest, int(number))
    return widest


def before_str_method(obj: str, name: str, args: tuple, kwargs: dict) -> None:
    """Refuse a str method call whose result would pass the limit, before it allocates."""
    if name in _WIDTH_METHODS:
        _require(max([len(obj), *map(_as_int, args), *map(_as_int, kwargs.values())]), f"str.{name}()")
    elif name == "expandtabs":
        size = _as_int(args[0] if args else kwargs.get("tabsize", 8))
        _require(len(obj) + obj.count("\t") * size, "str.expandtabs()")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        count = obj.count(old) if old else len(obj) + 1
        if len(args) > 2 and _as_int(args[2]) >= 0 and isinstance(args[2], int):
            count = min(count, args[2])
        _require(len(obj) + count * max(len(new) - len(old), 0), "str.replace()")
    elif name == "join" and args:
        _joined_len(args[0], obj)
    elif name in ("format", "format_map"):
        _require(len(obj) + _format_width(obj, args, kwargs), f"str.{name}()")


def before_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "%" and isinstance(left, str):
        _require(len(left) + _percent_width(left, right), "The %-formatted text")
    elif operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        _require(len(left) + len(right), "The joined value", MAX_TEXT_CHARS if isinstance(left, str) else MAX_ITEMS)


# Filters that amplify, with the size their result will have (computed before running them).
def _filter_size(name: str, value: Any, args: tuple, kwargs: dict) -> int:
    text = value if isinstance(value, str) else None
    if name == "center":
        return max(_text_len(value), _as_int(args[0] if args else kwargs.get("width", 80)))
    if name == "indent" and text is not None:
        width = args[0] if args else kwargs.get("width", 4)
        width = len(width) if isinstance(width, str) else _as_int(width)
        return len(text) + width * (text.count("\n") + 1)
    if name == "wordwrap" and text is not None:
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        width = max(_as_int(args[0] if args else kwargs.get("width", 79)), 1)
        return len(text) + _text_len(wrap) * (len(text) // width + 1)
    if name == "replace" and text is not None and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(len(new) - len(old), 0)
    if name == "join":
        separator = args[0] if args else kwargs.get("d", "")
        return _joined_len(value, separator)
    if name == "format" and text is not None:
        return len(text) + _percent_width(text, args if len(args) != 1 else args[0])
    return 0


def bounded_filter(name: str, function: Callable) -> Callable:
    """`function` (a Jinja filter) with its result size checked before and after it runs."""
    offset = 1 if getattr(function, "jinja_pass_arg", None) else 0

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) > offset:
            _require(_filter_size(name, args[offset], args[offset + 1 :], kwargs), f"The {name} filter's result")
        return checked(function(*args, **kwargs))

    return wrapper


class BoundedCodeGenerator(CodeGenerator):
    """`a ~ b` is compiled to a plain join Jinja does not intercept: check its result too."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.checked_value(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedTemplate(Template):
    """A render stops once its output passes MAX_RENDER_CHARS (a loop can repeat any value)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        pieces: list[str] = []
        size = 0
        for piece in self.generate(*args, **kwargs):
            size += len(piece)
            if size > MAX_RENDER_CHARS:
                raise _too_long("The rendered text", size, MAX_RENDER_CHARS)
            pieces.append(piece)
        return "".join(pieces)
