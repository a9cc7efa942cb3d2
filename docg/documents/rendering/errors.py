"""Rendering failures as DocgErrors with a message a business user can act on (gettext, the organization's language).

The engine's own table (docg.executions.errors.HUMAN) belongs to the engine; the
document codes live here and travel in DocgError.human.
"""

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext_lazy as _
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from docg.common.errors import DocgError, translated
from docg.documents.paragraphs import cell_address
from docg.documents.rendering.limits import RenderTimeout
from docg.workflows.expressions import ExpressionError

MESSAGES = {
    "template.not_found": _("The template of step '%(node)s' does not exist in this organization: choose another one."),
    "template.wrong_kind": _("Step '%(node)s' needs a %(detail)s template."),
    "template.unreadable": _("The template file of step '%(node)s' could not be read: %(detail)s"),
    "template.forbidden": _(
        "The template of step '%(node)s' tries to reach something templates may not use (%(detail)s)."
    ),
    "template.syntax_error": _("The template of step '%(node)s' has a malformed tag: %(detail)s"),
    "template.render_failed": _("The document of step '%(node)s' could not be generated: %(detail)s"),
    "template.render_timeout": _(
        "The document of step '%(node)s' took too long to generate (%(detail)s): does the template loop over too much?"
    ),
    "template.image_unavailable": _("An image used by the template of step '%(node)s' could not be loaded: %(detail)s"),
    "data.unresolved_variables": _(
        "Some fields the template of step '%(node)s' needs are missing from the data: %(detail)s"
    ),
    "storage.unavailable": _("The generated document of step '%(node)s' could not be stored; docg will try again."),
}


def human(code: str, *, language: str, node: str = "", detail: str = "") -> str:
    template = MESSAGES.get(code)
    if template is None:
        return detail or code
    return translated(template, language, node=node, detail=detail)


def render_error(
    code: str, detail: str, *, location: dict | None = None, transient: bool = False, **tech: Any
) -> DocgError:
    """A template that could not be rendered; `location` (part, paragraph, text) says where."""
    return DocgError(code, detail, {**tech, **({"location": location} if location else {})}, transient=transient)


def step_error(error: DocgError, *, language: str, node: str = "") -> DocgError:
    """The rendering error as the step records it: its location in the detail, worded for the organization.

    Errors with codes this module does not word (a provider's, the engine's) pass through unchanged.
    """
    if error.code not in MESSAGES:
        return error
    detail = error.message
    where = describe_location(error.details.get("location"))
    if where:
        detail = f"{detail} ({where})"
    return DocgError(
        error.code,
        detail,
        error.details,
        transient=error.transient,
        human=human(error.code, language=language, node=node, detail=detail),
    )


def describe_location(location: dict | None) -> str:
    if not location:
        return ""
    parts = [str(location["part"])] if location.get("part") else []
    if location.get("sheet") and location.get("cell"):
        parts = [cell_address(location["sheet"], location["cell"])]  # Prices!B4
    if location.get("paragraph"):
        parts.append(f"paragraph {location['paragraph']}")
    if location.get("text"):
        parts.append(f"“{location['text'][:80]}”")
    return ", ".join(parts)


def _missing(exc: UndefinedError) -> list[str]:
    import re

    found = re.findall(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(exc))
    return [a or b for a, b in found]


def template_line(exc: BaseException) -> int | None:
    """The template line an exception was raised at (Jinja rewrites tracebacks to show it)."""
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<template>":
            line = lineno
    return line


def classify(exc: BaseException, *, location: dict | None = None) -> DocgError:
    """Map what Jinja (or a filter, or the XML layer) raised to a DocgError."""
    location = location or {}
    if isinstance(exc, RenderTimeout):
        return render_error("template.render_timeout", "time budget spent", location=location)
    if isinstance(exc, DocgError):
        if location and not exc.details.get("location"):
            exc.details = {**exc.details, "location": location}
        return exc
    if isinstance(exc, SecurityError):
        return render_error("template.forbidden", str(exc), location=location, exception="SecurityError")
    if isinstance(exc, UndefinedError):
        if "unsafe" in str(exc) or "__" in str(exc):
            return render_error("template.forbidden", str(exc), location=location, exception="UndefinedError")
        missing = _missing(exc)
        return render_error(
            "data.unresolved_variables",
            ", ".join(missing) or str(exc),
            location=location,
            missing=missing,
            exception="UndefinedError",
        )
    if isinstance(exc, TemplateSyntaxError):
        return render_error("template.syntax_error", exc.message or str(exc), location=location)
    if isinstance(exc, ExpressionError):
        return render_error("template.render_failed", str(exc), location=location, exception="ExpressionError")
    detail = f"{type(exc).__name__}: {exc}"
    return render_error(
        "template.render_failed",
        detail[:500],
        location=location,
        exception=type(exc).__name__,
        traceback="".join(traceback.format_exception(exc))[-4000:],
    )


@contextmanager
def failures_classified() -> Iterator[None]:
    """Whatever a renderer raises inside leaves as a DocgError: a failed render, never a crash."""
    try:
        yield
    except DocgError:
        raise
    except RecursionError as exc:
        raise render_error("template.render_failed", "the template nests too deeply") from exc
    except Exception as exc:  # classified: security, missing data, syntax, filters
        raise classify(exc) from exc
