"""What an action handler receives and returns.

Handlers are plain functions `handler(ctx, params) -> ActionResult`. They get
rendered, schema-checked parameters and a context; they never touch the run
state (the engine does), so a handler is easy to test on its own.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated


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

    def evaluate(self, source: str) -> Any:
        from docg.workflows.expressions import evaluate, render_string

        if "{{" in source or "{%" in source:
            return render_string(source, self.expression_context)
        return evaluate(source, self.expression_context)

    def say(self, message: Any, **params: Any) -> str:
        """A gettext_lazy message in the organization's language, its %(name)s placeholders filled from `params`."""
        return translated(message, self.language, **params)

    def active_connection(self, provider: str, label: str):
        """The step's connection, which must be active and for `provider`; else a permanent error."""
        from docg.connectors.choices import ConnectionStatus

        connection = self.connection
        if connection is None or connection.status != ConnectionStatus.ACTIVE or connection.provider != provider:
            state = "missing" if connection is None else f"{connection.provider}/{connection.status}"
            raise DocgError(
                "connection.inactive",
                self.say(_("This step needs an active %(label)s connection (%(state)s)."), label=label, state=state),
                {"connection": str(getattr(connection, "pk", "")), "state": state},
            )
        return connection

    def organization_document(self, document_id: Any, *, purpose: Any):
        """A generated document of the run's organization (another organization's id is "not found").

        `purpose` (gettext_lazy, a verb: "sign") says what the step wanted to do with it.
        """
        import uuid

        from docg.documents.models import GeneratedDocument

        try:
            key = uuid.UUID(str(document_id))
        except ValueError:
            key = None
        document = GeneratedDocument.objects.filter(organization=self.organization, pk=key).first() if key else None
        if document is None:
            raise DocgError(
                "document.not_found",
                self.say(
                    _("The document to %(purpose)s (%(document_id)s) does not exist."),
                    purpose=self.say(purpose),
                    document_id=document_id,
                ),
                {"document_id": str(document_id)},
            )
        return document

    def store_pdf(self, **fields: Any):
        """Store a PDF as the run's GeneratedDocument; a failing storage backend is a transient error."""
        from django.db import DatabaseError

        from docg.documents.storage import document_store

        try:
            return document_store(organization=self.organization, execution=self.execution, **fields)
        except DatabaseError:
            raise
        except Exception as exc:  # the storage backend (disk full, S3 unreachable): try again later
            raise DocgError(
                "storage.unavailable",
                self.say(_("The PDF could not be stored; docg will try again.")),
                {"exception": type(exc).__name__, "message": str(exc)},
                transient=True,
            ) from exc

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
