"""Rendering failures as StepErrors with a message a business user can act on (en / pt-BR).

The engine's own table (docg.executions.errors.HUMAN) belongs to the engine; the
document codes live here and travel in StepError.human.
"""

import traceback

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from docg.executions.errors import StepError
from docg.workflows.expressions import ExpressionError

MESSAGES = {
    "template.not_found": (
        "The template of step '{node}' does not exist in this organization: choose another one.",
        "O modelo da etapa '{node}' não existe nesta organização: escolha outro.",
    ),
    "template.wrong_kind": (
        "Step '{node}' needs a {detail} template.",
        "A etapa '{node}' precisa de um modelo {detail}.",
    ),
    "template.unreadable": (
        "The template file of step '{node}' could not be read: {detail}",
        "O arquivo do modelo da etapa '{node}' não pôde ser lido: {detail}",
    ),
    "template.forbidden": (
        "The template of step '{node}' tries to reach something templates may not use ({detail}).",
        "O modelo da etapa '{node}' tenta acessar algo que modelos não podem usar ({detail}).",
    ),
    "template.syntax_error": (
        "The template of step '{node}' has a malformed tag: {detail}",
        "O modelo da etapa '{node}' tem uma marcação malformada: {detail}",
    ),
    "template.render_failed": (
        "The document of step '{node}' could not be generated: {detail}",
        "O documento da etapa '{node}' não pôde ser gerado: {detail}",
    ),
    "template.render_timeout": (
        "The document of step '{node}' took too long to generate ({detail}): does the template loop over too much?",
        "O documento da etapa '{node}' demorou demais para ser gerado ({detail}): o modelo repete dados demais?",
    ),
    "template.image_unavailable": (
        "An image used by the template of step '{node}' could not be loaded: {detail}",
        "Uma imagem usada pelo modelo da etapa '{node}' não pôde ser carregada: {detail}",
    ),
    "data.unresolved_variables": (
        "Some fields the template of step '{node}' needs are missing from the data: {detail}",
        "Alguns campos de que o modelo da etapa '{node}' precisa não vieram nos dados: {detail}",
    ),
    "storage.unavailable": (
        "The generated document of step '{node}' could not be stored; docg will try again.",
        "O documento gerado pela etapa '{node}' não pôde ser guardado; o docg tentará de novo.",
    ),
}


def human(code: str, *, language: str, node: str = "", detail: str = "") -> str:
    pair = MESSAGES.get(code)
    if pair is None:
        return detail or code
    text = pair[1] if (language or "").lower().startswith("pt") else pair[0]
    return text.format(node=node, detail=detail)


class RenderError(Exception):
    """A template could not be rendered; turned into a StepError by `as_step_error`."""

    def __init__(self, code: str, detail: str, *, location: dict | None = None, transient: bool = False, **tech):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.location, self.transient = code, detail, location or {}, transient
        self.tech = tech

    def as_step_error(self, *, language: str, node: str = "") -> StepError:
        tech = {**self.tech, **({"location": self.location} if self.location else {})}
        detail = self.detail
        where = describe_location(self.location)
        if where:
            detail = f"{detail} ({where})"
        return StepError(
            self.code,
            detail,
            tech,
            transient=self.transient,
            human=human(self.code, language=language, node=node, detail=detail),
        )


def describe_location(location: dict | None) -> str:
    if not location:
        return ""
    parts = [str(location["part"])] if location.get("part") else []
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


def classify(exc: BaseException, *, location: dict | None = None) -> RenderError:
    """Map what Jinja (or a filter, or the XML layer) raised to a RenderError."""
    location = location or {}
    from docg.documents.rendering.limits import RenderTimeout

    if isinstance(exc, RenderTimeout):
        return RenderError("template.render_timeout", "time budget spent", location=location)
    if isinstance(exc, RenderError):
        if location and not exc.location:
            exc.location = location
        return exc
    if isinstance(exc, SecurityError):
        return RenderError("template.forbidden", str(exc), location=location, exception="SecurityError")
    if isinstance(exc, UndefinedError):
        if "unsafe" in str(exc) or "__" in str(exc):
            return RenderError("template.forbidden", str(exc), location=location, exception="UndefinedError")
        missing = _missing(exc)
        return RenderError(
            "data.unresolved_variables",
            ", ".join(missing) or str(exc),
            location=location,
            missing=missing,
            exception="UndefinedError",
        )
    if isinstance(exc, TemplateSyntaxError):
        return RenderError("template.syntax_error", exc.message or str(exc), location=location)
    if isinstance(exc, ExpressionError):
        return RenderError("template.render_failed", str(exc), location=location, exception="ExpressionError")
    detail = f"{type(exc).__name__}: {exc}"
    return RenderError(
        "template.render_failed",
        detail[:500],
        location=location,
        exception=type(exc).__name__,
        traceback="".join(traceback.format_exception(exc))[-4000:],
    )
