"""The expression language of workflow parameters: Jinja2 in a sandbox, with StrictUndefined.

The sandbox refuses access to Python internals (``__class__``, ``mro``, function
globals); StrictUndefined turns a missing name into an error instead of an empty
string, so a typo never silently sends an empty contract. A string that is one
``{{ expression }}`` and nothing else keeps its native type (a number stays a
number); any other string is rendered as text.
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from docg.workflows import sandbox_bounds

_SINGLE = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_LOCALES = {"pt-br": "pt_BR", "pt_br": "pt_BR", "pt": "pt_BR", "en": "en_US", "en-us": "en_US", "en_us": "en_US"}


class ExpressionError(Exception):
    """An expression could not be evaluated; `missing` names the unresolved variables."""

    def __init__(self, message: str, *, expression: str = "", missing: list[str] | None = None):
        super().__init__(message)
        self.expression = expression
        self.missing = missing or []


def _locale(name: str | None) -> str:
    return _LOCALES.get((name or "en").lower(), name or "en_US")


def _as_date(value: Any) -> date | datetime:
    if isinstance(value, date | datetime):
        return value
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ExpressionError(f"{value!r} is not a date (use YYYY-MM-DD).") from exc


def _as_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ExpressionError(f"{value!r} is not a number.") from exc


def filter_date(value: Any, fmt: str = "medium", locale: str = "en") -> str:
    parsed = _as_date(value)
    if isinstance(parsed, datetime):
        return format_datetime(parsed, format=fmt, locale=_locale(locale))
    return format_date(parsed, format=fmt, locale=_locale(locale))


def filter_currency(value: Any, currency: str = "BRL", locale: str | None = None) -> str:
    locale = locale or ("pt-br" if currency.upper() == "BRL" else "en")
    return format_currency(_as_decimal(value), currency.upper(), locale=_locale(locale))


def filter_number(value: Any, locale: str = "en", decimals: int | None = None) -> str:
    number = _as_decimal(value)
    fmt = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(number, format=fmt, locale=_locale(locale))


MAX_SEQUENCE_PRODUCT = 100_000
MAX_EXPONENT = 100
MAX_POWER_BITS = 10_000


class _Environment(ImmutableSandboxedEnvironment):
    # `*` and `**` can hang a worker in one C call ("x" * 10**10, 10**10**10): bound them. `%` and `+`
    # can build strings of any size; every other amplifier is bounded in docg.workflows.sandbox_bounds.
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = sandbox_bounds.BoundedCodeGenerator
    template_class = sandbox_bounds.BoundedTemplate
    checked_value = staticmethod(sandbox_bounds.checked)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Double underscores as in the sandbox's own `call`: a template may pass any keyword argument.
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox's str.format wrapper keeps the method
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            sandbox_bounds.before_str_method(owner, getattr(target, "__name__", ""), args, kwargs)
        return sandbox_bounds.checked(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data first: `trigger.items` is the trigger's "items" field, not the dict.items method.
        if isinstance(obj, dict) and isinstance(attribute, str) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and isinstance(left, int | float):
            bits = abs(int(left)).bit_length() if isinstance(left, int) else 1
            if abs(right) > MAX_EXPONENT or bits * abs(right) > MAX_POWER_BITS:
                raise SecurityError("This power is too large to compute.")
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
            if sizes and counts and sizes[0] * counts[0] > MAX_SEQUENCE_PRODUCT:
                raise SecurityError(f"Results longer than {MAX_SEQUENCE_PRODUCT} items are not allowed.")
        sandbox_bounds.before_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = _Environment(undefined=StrictUndefined, autoescape=False)
    env.filters.update({"date": filter_date, "currency": filter_currency, "number": filter_number})
    env.filters = {name: sandbox_bounds.bounded_filter(name, f) for name, f in env.filters.items()}
    return env


def _missing_from(exc: UndefinedError) -> list[str]:
    found = re.findall(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(exc))
    return [a or b for a, b in found]


@lru_cache(maxsize=4096)
def _compiled_expression(source: str):
    # Workflow versions are frozen, so the same sources come back on every run: compile once.
    return environment().compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _compiled_template(source: str):
    return environment().from_string(source)


def evaluate(source: str, context: dict[str, Any]) -> Any:
    """Evaluate a bare expression (a branch condition) to a Python value."""
    try:
        result = _compiled_expression(source)(**context)
        if isinstance(result, Undefined):
            str(result)  # StrictUndefined raises here, naming what is missing (or unsafe).
        return result
    except UndefinedError as exc:
        raise ExpressionError(str(exc), expression=source, missing=_missing_from(exc)) from exc
    except SecurityError as exc:
        raise ExpressionError(f"Not allowed in an expression: {exc}", expression=source) from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}", expression=source) from exc


def render_string(source: str, context: dict[str, Any]) -> Any:
    if "{{" not in source and "{%" not in source:
        return source
    single = _SINGLE.match(source)
    if single and "}}" not in single.group("expr") and "{{" not in single.group("expr"):
        return evaluate(single.group("expr"), context)
    try:
        return _compiled_template(source).render(**context)
    except UndefinedError as exc:
        raise ExpressionError(str(exc), expression=source, missing=_missing_from(exc)) from exc
    except SecurityError as exc:
        raise ExpressionError(f"Not allowed in an expression: {exc}", expression=source) from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}", expression=source) from exc


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside `value` (dicts and lists included)."""
    if isinstance(value, str):
        return render_string(value, context)
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value


def syntax_error(source: str, *, bare: bool = False) -> str | None:
    """Why Jinja cannot compile `source` (unclosed tags, an unknown filter), or None when it can.

    Compiled exactly as a run will (a template, or with `bare` a branch condition's expression), so a
    definition that passes this check never fails later for its syntax.
    """
    try:
        if bare:
            _compiled_expression(source)
        else:
            _compiled_template(source)
    except TemplateSyntaxError as exc:
        return exc.message or str(exc)
    return None


def referenced_paths(source: str) -> list[str]:
    """Dotted names an expression reads (``trigger.customer.email``), for preflight."""
    try:
        tree = environment().parse(source if ("{{" in source or "{%" in source) else "{{ " + source + " }}")
    except TemplateError:
        return []
    paths = []
    for node in tree.find_all((nodes.Getattr, nodes.Name, nodes.Getitem)):
        parts = []
        current = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            if isinstance(current, nodes.Getattr):
                parts.append(current.attr)
            elif isinstance(current.arg, nodes.Const):
                parts.append(str(current.arg.value))
            else:
                break
            current = current.node
        if isinstance(current, nodes.Name):
            parts.append(current.name)
            paths.append(".".join(reversed(parts)))
    # Keep the longest paths only: trigger.a.b implies trigger.a and trigger.
    return sorted({p for p in paths if not any(o != p and o.startswith(p + ".") for o in paths)})
