"""`WorkflowExecution.signature_state`: what the run's signers did, kept current from its SignatureRequests.

The SignatureRequest rows are the truth; `signature_state` is their summary on the
run (one read for the run page and the API): per envelope its provider, id,
overall status, the signed file's document id, a withdrawal the provider refused,
and per signer the status with its timestamps. Every service that changes a
request calls `signature_state_refresh` in the same transaction, so the summary
never lags the rows it is built from. `.update()` writes only this column: the
run's status is not touched (state.py owns it) and a concurrent status change
is never overwritten with a stale copy.
"""

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from docg.documents.choices import SignatureStatus
from docg.documents.models import SignatureRequest
from docg.executions.models import WorkflowExecution

# What an envelope is, from its signers' statuses, most decisive first.
_ENVELOPE_ORDER = (
    SignatureStatus.CANCELED,
    SignatureStatus.DECLINED,
    SignatureStatus.EXPIRED,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def signer_state(request: SignatureRequest) -> dict[str, Any]:
    """One signer as the run, the API and the dashboard show it."""
    data = request.provider_data or {}
    status = request.status
    # "viewed" is a pending signer the provider told us opened the document.
    if status == SignatureStatus.PENDING and data.get("viewed_at"):
        status = "viewed"
    return {
        "signature_request_id": str(request.pk),
        "name": request.signer_name,
        "email": request.signer_email,
        "status": status,
        "sign_url": request.sign_url,
        "signed_at": _iso(request.signed_at),
        "viewed_at": data.get("viewed_at"),
        "declined_at": data.get("declined_at"),
        "expired_at": data.get("expired_at"),
        "canceled_at": data.get("canceled_at"),
        "reminded_at": data.get("reminded_at"),
    }


def envelope_status(statuses: Iterable[str]) -> str:
    """An envelope's status from its signers': signed once all signed, else the most decisive, else pending."""
    statuses = list(statuses)
    if statuses and all(s == SignatureStatus.SIGNED for s in statuses):
        return SignatureStatus.SIGNED
    for decisive in _ENVELOPE_ORDER:
        if decisive in statuses:
            return decisive
    return SignatureStatus.PENDING


def signature_state_of(requests: list[SignatureRequest]) -> dict[str, Any]:
    """The `signature_state` document for these rows (a run's, oldest first)."""
    envelopes: dict[tuple[str, str], dict[str, Any]] = {}
    for request in requests:
        data = request.provider_data or {}
        key = (request.provider, request.envelope_id or str(data.get("node_key") or ""))
        envelope = envelopes.setdefault(
            key,
            {
                "provider": request.provider,
                "envelope_id": request.envelope_id,
                "node_key": str(data.get("node_key") or ""),
                "connection_id": str(data.get("connection_id") or ""),
                "document_id": str(request.document_id or ""),
                "signed_document_id": "",
                "withdrawal": None,
                "signers": [],
            },
        )
        envelope["signed_document_id"] = envelope["signed_document_id"] or str(data.get("signed_document_id") or "")
        if data.get("withdrawal"):
            envelope["withdrawal"] = data["withdrawal"]
        envelope["signers"].append(signer_state(request))
    out = []
    for envelope in envelopes.values():
        envelope["status"] = envelope_status(
            "pending" if s["status"] == "viewed" else s["status"] for s in envelope["signers"]
        )
        out.append(envelope)
    return {"envelopes": out, "updated_at": timezone.now().isoformat()}


def signature_state_refresh(*, execution_id: Any) -> dict[str, Any]:
    """Rebuild the run's `signature_state` from its SignatureRequests, in the caller's transaction."""
    requests = list(SignatureRequest.objects.filter(execution_id=execution_id).order_by("created_at", "id"))
    state = signature_state_of(requests)
    WorkflowExecution.objects.filter(pk=execution_id).update(signature_state=state)
    return state
