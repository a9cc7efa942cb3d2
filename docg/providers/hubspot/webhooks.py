"""HubSpot app webhooks: verify signature v3, then queue each deal event once per matching workflow.

Authenticated before anything is read or stored (HubSpot's "Validating
requests", v3): `X-HubSpot-Signature-v3` must equal
base64(HMAC-SHA256(app client secret, method + URI + body + timestamp)), where
the URI is the full public URL HubSpot called with the percent-encodings of
: / ? @ ! $ ' ( ) * , ; decoded, and `X-HubSpot-Request-Timestamp` (ms) must
be within 5 minutes of now. The older v1/v2 signatures are not accepted.

A delivery is a JSON array of events {eventId, portalId, objectId,
subscriptionType, occurredAt, propertyName, propertyValue, ...}. portalId finds
the HubSpot connections recorded for that portal at connect time
(config.portal_id); their organizations' active workflows whose trigger is
hubspot.deal_event and matches the event get a WebhookDelivery keyed
"hubspot:{portalId}:{eventId}" — unique per workflow, so a replayed event
changes nothing — and a worker message that fetches the deal and starts the run.
"""

import base64
import hashlib
import hmac
import logging
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from docg.common.errors import DocgError
from docg.common.untrusted import loads_untrusted
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.providers.hubspot.actors import process_deal_event
from docg.providers.hubspot.deals import OPERATIONS, event_matches, event_object, workflow_trigger
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import WebhookDelivery, Workflow

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_EVENTS = 1000
# HubSpot's table of percent-encodings to decode in the URI before signing.
_URI_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def _unauthorized(code: str, message: str) -> DocgError:
    return DocgError(code, message, status_code=401)


def signing_uri(uri: str) -> str:
    for encoded, plain in _URI_DECODE.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def signature_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source = method.upper().encode() + signing_uri(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def verify(*, method: str, uri: str, body: bytes, headers: dict[str, str], now: float | None = None) -> None:
    """Raise DocgError 401 unless the delivery carries a valid, fresh v3 signature."""
    secret = settings.HUBSPOT_WEBHOOK_SECRET
    if not secret:
        raise _unauthorized("webhook.not_configured", "HubSpot webhooks are not configured on this server.")
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    # ASCII digits of a sane length: "²".isdigit() is True and a 5000-digit int is refused by int().
    if not signature or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 16):
        raise _unauthorized("webhook.bad_signature", f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required.")
    age = (now if now is not None else time.time()) - int(timestamp) / 1000
    if abs(age) > settings.HUBSPOT_WEBHOOK_TOLERANCE_SECONDS:
        raise _unauthorized("webhook.stale", "The request's timestamp is more than 5 minutes from now.")
    expected = signature_v3(secret=secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise _unauthorized("webhook.bad_signature", "The request's signature does not match.")


def parse_events(raw: bytes) -> list[dict[str, Any]]:
    try:
        data = loads_untrusted(raw or b"[]")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DocgError("webhook.bad_body", f"The body is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or len(data) > MAX_EVENTS or not all(isinstance(e, dict) for e in data):
        raise DocgError("webhook.bad_body", f"The body must be a JSON array of at most {MAX_EVENTS} event objects.")
    for event in data:
        for key in ("eventId", "portalId", "objectId", "subscriptionType"):
            value = event.get(key)
            if value in (None, "") or isinstance(value, dict | list | bool):
                raise DocgError("webhook.bad_body", f"Every event needs {key}.", details={"event": event})
    return data


def matching_workflows(connection: DataSourceConnection, event: dict[str, Any]) -> list[Workflow]:
    found = []
    workflows = Workflow.objects.select_related("active_version").filter(
        organization_id=connection.organization_id, status=WorkflowStatus.ACTIVE
    )
    for workflow in workflows:
        trigger = workflow_trigger(workflow)
        if (trigger.get("app"), trigger.get("operation")) != ("hubspot", OPERATIONS.get(event_object(event))):
            continue
        if trigger.get("connection") and str(trigger["connection"]) != str(connection.pk):
            continue
        if event_matches(trigger.get("parameters") or {}, event):
            found.append(workflow)
    return found


def enqueue(delivery_id: str, connection_id: str, event: dict[str, Any]) -> None:
    process_deal_event.send(delivery_id, connection_id, event)


def receive(events: list[dict[str, Any]]) -> dict[str, int]:
    """Queue every authenticated event once per matching workflow; returns what happened to them."""
    summary = {"queued": 0, "duplicates": 0, "ignored": 0}
    for event in events:
        if not event_object(event):
            summary["ignored"] += 1
            continue
        # Expired connections too: their events start runs that stop in needs_review with "Reconnect",
        # rather than vanishing while nobody notices the connection died.
        connections = DataSourceConnection.objects.filter(
            provider="hubspot",
            status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.EXPIRED],
            config__portal_id=str(event["portalId"]),
        ).defer("credentials")
        workflows = [(c, w) for c in connections for w in matching_workflows(c, event)]
        if not workflows:
            summary["ignored"] += 1
            continue
        key = f"hubspot:{event['portalId']}:{event['eventId']}"[:200]
        for connection, workflow in workflows:
            try:
                with transaction.atomic():
                    delivery = WebhookDelivery.objects.create(
                        organization_id=workflow.organization_id, workflow=workflow, idempotency_key=key
                    )
                    args = (str(delivery.pk), str(connection.pk), event)
                    transaction.on_commit(lambda args=args: enqueue(*args))
            except IntegrityError:
                summary["duplicates"] += 1  # delivered before (HubSpot retries, or a replay)
                continue
            summary["queued"] += 1
    return summary
