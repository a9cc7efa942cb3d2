"""ZapSign webhooks: authenticate, then let executions.signatures move the signers and the run on.

ZapSign signs nothing (no HMAC), so a delivery is authenticated twice before
anything is read or stored: the URL carries an unguessable token and the
`X-Docg-Webhook-Secret` header the same per-connection secret
(`connection.credentials["webhook_secret"]`), both compared in constant time.
An unknown connection or a wrong URL token answers 404, a wrong header 401.

Events (ZapSign's `event_type`): `doc_viewed` (the signer opened the signing
link) and `doc_read_confirmation` (they confirmed reading it) name the signer in
`signer` when given, else every signer ZapSign reports as having opened the
link (status `link-opened`, `times_viewed` > 0 or a `last_view_at`); they stay
pending and show as "viewed". `doc_signed` / `signer_signed` name the signer
in `signer_who_signed` (else every signer whose status is "signed"),
`doc_refused` the refusing signer (else the "refused" ones, else all pending),
`doc_expired` every pending one. Each (envelope, signer, event) is processed
once: the key is kept on the SignatureRequest, under a row lock, and a signer
only leaves `pending` once, so a replayed delivery changes nothing.

Stale deliveries: ZapSign puts the document's `last_update_at` on every event;
a delivery whose timestamp is older than `SIGNATURE_WEBHOOK_MAX_AGE_SECONDS`
(default 72 h, longer than providers keep retrying) or more than 5 minutes in
the future is refused with 400 `webhook.stale` before anything is read from the
database. A delivery without a timestamp is judged by the replay rules alone, and
so is `doc_expired` (expiry need not touch the document, so its `last_update_at`
may rightly be old).

When the last signer signs, the signed PDF is fetched after commit (signed_file.py).
"""

import hmac
from typing import Any

from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.documents.models import SignatureRequest
from docg.providers.esign_flow import envelope_delivery_apply, parse, refuse_stale, text_value
from docg.providers.zapsign.signed_file import fetch_signed_file

__all__ = ["SECRET_HEADER", "authenticate", "handle_delivery", "parse", "refuse_stale"]

SECRET_HEADER = "X-Docg-Webhook-Secret"
PROVIDER = "zapsign"
VIEWED_EVENTS = frozenset({"doc_viewed", "doc_read_confirmation"})
SIGNED_EVENTS = frozenset({"doc_signed", "signer_signed"})
REFUSED_EVENTS = frozenset({"doc_refused", "signer_refused"})
EXPIRED_EVENTS = frozenset({"doc_expired"})


def _not_found() -> DocgError:
    return DocgError("not_found", "Not found.", status_code=404)


def _same(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))


def authenticate(*, connection_id: Any, token: str, header_secret: str) -> DataSourceConnection:
    """The connection a delivery is for, or DocgError 404 (unknown/wrong URL) / 401 (wrong header)."""
    connection = DataSourceConnection.objects.filter(
        pk=connection_id, provider=Provider.ZAPSIGN, status=ConnectionStatus.ACTIVE
    ).first()
    secret = str((connection.credentials or {}).get("webhook_secret") or "") if connection else ""
    if connection is None or not _same(secret, token):
        raise _not_found()
    if not _same(secret, header_secret):
        raise DocgError("webhook.bad_secret", f"The {SECRET_HEADER} header is missing or wrong.", status_code=401)
    return connection


def _doc_token(data: dict) -> str:
    doc = data.get("doc") if isinstance(data.get("doc"), dict) else {}
    return text_value(data.get("token")) or text_value(doc.get("token")) or text_value(data.get("doc_token"))


def _signer_list(data: dict) -> list[dict]:
    signers = data.get("signers")
    return [s for s in signers if isinstance(s, dict)] if isinstance(signers, list) else []


def _tokens_with_status(data: dict, *statuses: str) -> list[str]:
    return [
        text_value(s.get("token"))
        for s in _signer_list(data)
        if text_value(s.get("status")) in statuses and text_value(s.get("token"))
    ]


def _viewer_tokens(data: dict) -> list[str]:
    return [
        text_value(s.get("token"))
        for s in _signer_list(data)
        if text_value(s.get("token"))
        and (
            text_value(s.get("status")) == "link-opened"
            or s.get("last_view_at")
            or (isinstance(s.get("times_viewed"), int) and s["times_viewed"] > 0)
        )
    ]


def _named_signer(data: dict, *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, dict) and text_value(value.get("token")):
            return text_value(value.get("token"))
    return ""


def interpret(data: dict) -> tuple[str, str, list[str] | None]:
    """(event, doc token, signer tokens) — None tokens means "every pending signer of the document"."""
    event = text_value(data.get("event_type")).lower()
    envelope = _doc_token(data)
    if event in VIEWED_EVENTS:
        named = _named_signer(data, "signer_who_viewed", "signer")
        return "viewed", envelope, [named] if named else _viewer_tokens(data)
    if event in SIGNED_EVENTS:
        named = _named_signer(data, "signer_who_signed", "signer")
        return "signed", envelope, [named] if named else _tokens_with_status(data, "signed")
    if event in REFUSED_EVENTS:
        named = _named_signer(data, "signer_who_refused", "signer_who_signed", "signer")
        tokens = [named] if named else _tokens_with_status(data, "refused", "rejected")
        return "declined", envelope, tokens or None
    if event in EXPIRED_EVENTS:
        return "expired", envelope, None
    return "", envelope, []


def _pick(kind: str, envelope: str, tokens: list[str] | None, requests: list[SignatureRequest]):
    """The signers a delivery names, each with its processed key: one (envelope, signer, event) counts once."""
    picked = []
    for request in requests:
        if tokens is not None and request.external_id not in tokens:
            continue
        key = f"{envelope}:{request.external_id}:{kind}"
        processed = list((request.provider_data or {}).get("processed") or [])
        if key in processed:
            continue  # a replayed delivery: the first one counted
        picked.append((request, {"processed": [*processed, key]}))
    return picked


def handle_delivery(*, connection: DataSourceConnection, data: dict) -> dict[str, Any]:
    """Apply one authenticated delivery; returns what changed (empty lists for a replay)."""
    kind, envelope, tokens = interpret(data)
    if kind != "expired":
        refuse_stale(data.get("last_update_at"))
    raw_event = text_value(data.get("event_type")).lower()
    if not kind or not envelope:
        return {"event": raw_event, "ignored": True, "changed": []}
    requests = SignatureRequest.objects.filter(
        organization_id=connection.organization_id,
        provider=PROVIDER,
        envelope_id=envelope,
        provider_data__connection_id=str(connection.pk),
    )
    return envelope_delivery_apply(
        connection=connection,
        envelope=requests,
        kind=kind,
        event=raw_event,
        targets=lambda rows: _pick(kind, envelope, tokens, rows),
        fetch_actor=fetch_signed_file,
    )
