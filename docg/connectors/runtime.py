"""What an action handler receives and returns.

Handlers are plain functions `handler(ctx, params) -> ActionResult`. They get
rendered, schema-checked parameters and a context; they never touch the run
state: what must change on the run (its status, its delivery record) is in the
result, and the engine writes it, so a handler is easy to test on its own.

The SDK knows no workflow, document or run: `expression_context` is the data
the engine evaluated the parameters with, and document helpers for actions are
in docg/providers/documents_io.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.connectors.choices import ConnectionStatus


@dataclass
class ActionContext:
    execution: Any
    step: Any
    node: dict[str, Any]
    organization: Any
    dry_run: bool
    idempotency_key: str
    correlation_id: str
    language: str
    connection: Any = None
    expression_context: dict[str, Any] = field(default_factory=dict)
    # Set by the engine: tells the run about a document this step stored (its log line and live event).
    on_document: Callable[[Any], None] | None = None
    # Set by the engine: the step's durable memory, shared by its retries and takeovers (recall / remember).
    memory_load: Callable[[], dict[str, Any]] | None = None
    memory_save: Callable[[dict[str, Any]], None] | None = None
    memory: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def say(self, message: Any, **params: Any) -> str:
        """A gettext_lazy message in the organization's language, its %(name)s placeholders filled from `params`."""
        return translated(message, self.language, **params)

    def active_connection(self, provider: str, label: str):
        """The step's connection, which must be active and for `provider`; else a permanent error."""
        connection = self.connection
        if connection is None or connection.status != ConnectionStatus.ACTIVE or connection.provider != provider:
            state = "missing" if connection is None else f"{connection.provider}/{connection.status}"
            raise DocgError(
                "connection.inactive",
                self.say(_("This step needs an active %(label)s connection (%(state)s)."), label=label, state=state),
                {"connection": str(getattr(connection, "pk", "")), "state": state},
            )
        return connection

    def document_stored(self, document: Any) -> Any:
        """Tell the run about a document this step stored (storage itself does not); returns the document."""
        if self.on_document is not None:
            self.on_document(document)
        return document

    def recall(self) -> dict[str, Any]:
        """What earlier attempts of this step (and this one) remembered."""
        if self.memory is None:
            self.memory = dict(self.memory_load() if self.memory_load is not None else {})
        return dict(self.memory)

    def remember(self, **values: Any) -> None:
        """Write `values` into the step's memory now, before the action's next outside call."""
        self.memory = {**self.recall(), **values}
        if self.memory_save is not None:
            self.memory_save(dict(self.memory))

    @property
    def outgoing_headers(self) -> dict[str, str]:
        return {"X-Correlation-ID": self.correlation_id, "Idempotency-Key": self.idempotency_key}


@dataclass
class ActionResult:
    output: dict[str, Any] = field(default_factory=dict)
    # A branch's choice of the next node; None follows the node's own `next`.
    next: str | None = None
    # End the run quietly (a filter that did not match).
    stop: bool = False
    # Wait for a person ("approval": the engine pauses the run) or for signers
    # ("signature": the run stays `signing` until signature_continue is called).
    wait: str | None = None
    # Start the next step only after this many seconds (a scheduled message, no sleeping worker).
    delay_seconds: int = 0
    # The execution status once this step succeeded (e.g. "ready" when a document exists, "sent").
    status: str | None = None
    # What an e-mail action reports of its delivery; the engine keeps it as the run's `delivery_state`.
    # (A failed send reports it in its error's technical details, under the same name.)
    delivery_state: dict[str, Any] | None = None
