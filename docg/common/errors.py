"""docg's one error type, and the organization's language for the messages people read.

Every failure docg reports (a step, a provider call, a template, an API request) is a `DocgError`:
a stable `code` (what the recorded step, preflight issue, API body and recommended action key on), a
`message` in English for developers and API clients, technical `details`, whether it is `transient`
(the engine retries those), and the HTTP `status_code` the API answers with.

`human` is what a business user reads, already in the organization's language. It defaults to the
message (a provider's sentence built with gettext where the organization is known); an error raised
with `human=""` asks whoever records it (the engine knows the step's label and the organization) to
word it from its code.
"""

from contextlib import contextmanager
from typing import Any

from django.utils import translation


class DocgError(Exception):
    """A failure with a code, an English message, technical details, a transient flag and an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str = "",
        details: dict[str, Any] | None = None,
        *,
        transient: bool = False,
        status_code: int = 400,
        human: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.details: dict[str, Any] = details if details is not None else {}
        self.transient = transient
        self.status_code = status_code
        self.human = self.message if human is None else str(human)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"DocgError({self.code!r}, {self.message!r}, transient={self.transient})"


def language_code(language: str | None) -> str:
    """The Django language an organization's setting stands for: Brazilian Portuguese or English."""
    return "pt-br" if (language or "").lower().startswith("pt") else "en"


@contextmanager
def in_language(language: str | None):
    """gettext answers in the organization's language inside this block (workers have no request)."""
    with translation.override(language_code(language)):
        yield


def translated(message: Any, language: str | None, **params: Any) -> str:
    """A gettext_lazy message in `language`, its %(name)s placeholders filled from `params`."""
    with in_language(language):
        text = str(message)
    return text % params if params else text
