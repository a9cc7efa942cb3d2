"""ClickSign webhooks: verify, then let executions.signatures move the signers and the run on.

Each ClickSign connection has its own URL, /hooks/clicksign/{connection_id}, and
its own HMAC key (`credentials["webhook_secret"]`, the secret ClickSign shows when
the webhook is registered). ClickSign sends `Content-Hmac: sha256=<hex>`, the
HMAC-SHA256 of the raw body; it is checked in constant time before the body is
parsed or anything is read for it.

Answers (ClickSign retries anything but 2xx, so 2xx means "do not send again"):
- unknown connection, or one without a webhook secret: 404;
- missing or wrong `Content-Hmac`: 401 `webhook.bad_signature`;
- not JSON / not an object: 400 `webhook.bad_body`; larger than API_MAX_BODY_BYTES: 413;
- `event.occurred_at` older than SIGNATURE_WEBHOOK_MAX_AGE_SECONDS (default 72 h)
  or more than 5 minutes ahead: 400 `webhook.stale` (refused, nothing read or written);
  a delivery without `occurred_at` (ClickSign's `close` has none) is judged by replay rules alone;
- an event docg does not act on, or for a document docg did not send: 200 `{"ignored": true}`;
- a delivery seen before: 200 `{"duplicate": true, "changed": []}`.

ClickSign puts no delivery id on its webhooks, so a delivery's id is the SHA-256 of
its raw body (a retry resends the same bytes, with the same `occurred_at`). It is
recorded as a workflows.WebhookDelivery ("clicksign:<sha256>") in the same
transaction as the changes it causes, so each delivery takes effect once; on top
of that a signer leaves `pending` only once.

Events: `signature_started` (a signer opened the document and began the signing
flow, ClickSign's nearest to "viewed": the signer stays pending and shows as
"viewed"), `sign` (the signer in `event.data.signer`: key, else e-mail), `refusal`
/ `decline` (that signer declines), `deadline` / `cancel` (every pending signer
expires), `auto_close` / `close` / `document_closed` (nothing to move; the signed
file is fetched once every signer has signed, whichever delivery comes last).
"""

import hashlib
import hmac
from typing import Any

from django.db.models import Q

from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.documents.models import SignatureRequest
from docg.providers.clicksign.signed_file import fetch_signed_file
from docg.providers.esign_flow import envelope_delivery_apply, parse, refuse_stale, text_value

__all__ = ["HMAC_HEADER", "authenticate", "handle_delivery", "parse"]

HMAC_HEADER = "Content-Hmac"
PROVIDER = "clicksign"
VIEWED_EVENTS = frozenset({"signature_started"})
SIGNED_EVENTS = frozenset({"sign"})
DECLINED_EVENTS = frozenset({"refusal", "decline"})
EXPIRED_EVENTS = frozenset({"deadline", "cancel"})
CLOSED_EVENTS = frozenset({"auto_close", "close", "document_closed"})


def _signature_ok(secret: str, raw: bytes, given: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    given = (given or "").strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def authenticate(*, connection_id: Any, raw: bytes, signature: str) -> DataSourceConnection:
    """The connection a delivery is for, or DocgError 404 (unknown) / 401 (missing or wrong HMAC)."""
    connection = DataSourceConnection.objects.filter(
        pk=connection_id, provider=Provider.CLICKSIGN, status=ConnectionStatus.ACTIVE
    ).first()
    secret = str((connection.credentials or {}).get("webhook_secret") or "") if connection else ""
    if connection is None or not secret:
        raise DocgError("not_found", "Not found.", status_code=404)
    if not _signature_ok(secret, raw, signature):
        raise DocgError(
            "webhook.bad_signature", f"The {HMAC_HEADER} header is missing or does not match the body.", status_code=401
        )
    return connection


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def interpret(data: dict) -> tuple[str, str, set[str], dict]:
    """(kind, raw event name, document/envelope keys, the named signer {key, email})."""
    event = _dict(data.get("event"))
    name = text_value(event.get("name")).lower()
    document = _dict(data.get("document"))
    envelope = _dict(data.get("envelope"))
    keys = {
        text_value(document.get("key")),
        text_value(document.get("id")),
        text_value(document.get("envelope_key")),
        text_value(envelope.get("key")),
        text_value(envelope.get("id")),
    } - {""}
    signer = _dict(_dict(event.get("data")).get("signer"))
    named = {
        "key": text_value(signer.get("key")) or text_value(signer.get("id")),
        "email": text_value(signer.get("email")).lower(),
    }
    if name in VIEWED_EVENTS:
        return "viewed", name, keys, named
    if name in SIGNED_EVENTS:
        return "signed", name, keys, named
    if name in DECLINED_EVENTS:
        return "declined", name, keys, named
    if name in EXPIRED_EVENTS:
        return "expired", name, keys, named
    if name in CLOSED_EVENTS:
        return "closed", name, keys, named
    return "", name, keys, named


def _targets(kind: str, requests: list[SignatureRequest], named: dict) -> list[SignatureRequest]:
    if kind == "expired":
        return requests
    if kind == "closed":
        return []
    if named["key"]:
        by_key = [r for r in requests if r.external_id == named["key"]]
        if by_key:
            return by_key
    if named["email"]:
        return [r for r in requests if r.signer_email.lower() == named["email"]]
    return []


def handle_delivery(*, connection: DataSourceConnection, raw: bytes, data: dict) -> dict[str, Any]:
    """Apply one verified delivery once; returns what changed."""
    kind, name, keys, named = interpret(data)
    if not kind or not keys:
        return {"event": name, "ignored": True, "changed": []}
    refuse_stale(_dict(data.get("event")).get("occurred_at"))
    envelope = (
        SignatureRequest.objects.filter(organization_id=connection.organization_id, provider=PROVIDER)
        .filter(provider_data__connection_id=str(connection.pk))
        .filter(Q(envelope_id__in=keys) | Q(provider_data__document_key__in=sorted(keys)))
        .exclude(envelope_id="")
    )
    return envelope_delivery_apply(
        connection=connection,
        envelope=envelope,
        kind=kind,
        event=name,
        targets=lambda requests: [(r, {}) for r in _targets(kind, requests, named)],
        fetch_actor=fetch_signed_file,
        delivery_key=f"clicksign:{hashlib.sha256(raw).hexdigest()}",
    )
