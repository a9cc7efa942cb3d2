"""The run's log line and live event for a document one of its steps stored.

docg.documents.storage (a lower layer) stores and audits the file only; the
engine hands this function to each step's ActionContext as `on_document`.
"""

from typing import Any

from docg.executions.choices import LogDomain
from docg.executions.events import publish_event
from docg.executions.logger import log_ok


def document_announce(*, execution: Any, document: Any) -> None:
    """Log `Document '<name>' generated` on the run and publish it on the run's live stream."""
    message = f"Document '{document.name}' generated ({document.size_bytes} bytes)."
    details = {"document_id": str(document.pk), "node_key": document.node_key, "content_type": document.content_type}
    log_ok(execution=execution, domain=LogDomain.RENDER, message=message, details=details)
    publish_event(execution, "log.appended", {"level": "ok", "domain": "render", "message": message, **details})
