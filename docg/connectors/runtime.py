"""What an action handler receives and returns.

Handlers are plain functions `handler(ctx, params) -> ActionResult`. They get
rendered, schema-checked parameters and a context; they never touch the run
state (the engine does), so a handler is easy to test on its own.
"""

from dataclasses import dataclass, field
from typing import Any


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
