"""The generic inbound webhook: POST /hooks/{workflow_id}/{secret} starts a run.

Authenticated before anything is stored: the secret in the URL (compared in
constant time; a wrong one answers 404, like an unknown workflow) and, when the
trigger names an HMAC header, an HMAC-SHA256 of the raw body keyed with the
same secret. An idempotency key (the `Idempotency-Key` header, or the body
field the trigger names) makes a repeated delivery return the first run
instead of starting a second one.

A signed delivery may also carry `X-Docg-Timestamp` (unix seconds); the trigger's
`require_timestamp` makes it mandatory. The signature then covers
"{timestamp}.{raw body}", a delivery more than TIMESTAMP_TOLERANCE_SECONDS away
from our clock is refused, and a replay of the same timestamp and signature in
that window answers with the first run: a captured delivery is useless later.
"""

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl

from django.db import IntegrityError, transaction

from docg.audit.choices import ActorType
from docg.common.errors import DocgError
from docg.common.untrusted import UntrustedValueError, check_json, loads_untrusted
from docg.executions.engine import execution_start
from docg.workflows.models import WebhookDelivery, Workflow

TIMESTAMP_HEADER = "x-docg-timestamp"
TIMESTAMP_TOLERANCE_SECONDS = 300


def _not_found() -> DocgError:
    return DocgError("not_found", "Not found.", status_code=404)


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A JSON object or a form body as a dict; anything else is a 400."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            return check_json(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        except UnicodeDecodeError as exc:
            raise DocgError("webhook.bad_body", "The form body is not UTF-8.") from exc
        except UntrustedValueError as exc:
            raise DocgError("webhook.bad_body", f"The form body cannot be stored: {exc}") from exc
    if not raw.strip():
        return {}
    try:
        data = loads_untrusted(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DocgError("webhook.bad_body", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DocgError("webhook.bad_body", "The body must be a JSON object.")
    return data


def _signature_ok(secret: str, raw: bytes, given: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    given = given.strip()
    if given.startswith("sha256="):
        given = given[len("sha256=") :]
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def _bad_signature() -> DocgError:
    return DocgError("webhook.bad_signature", "The request's signature does not match its body.", status_code=401)


def _verify_signature(*, secret: str, raw: bytes, headers: dict[str, str], header_name: str, required: bool) -> str:
    """Check the delivery's HMAC; returns a replay key for a timestamped delivery, else ""."""
    given = headers.get(header_name, "")
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not stamp:
        if required:
            raise DocgError(
                "webhook.timestamp_required",
                "This webhook needs the X-Docg-Timestamp header (unix seconds) and a signature over it.",
                status_code=401,
            )
        if not _signature_ok(secret, raw, given):  # the original body-only signature
            raise _bad_signature()
        return ""
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise DocgError("webhook.bad_timestamp", "X-Docg-Timestamp must be a time in unix seconds.")
    signed = stamp.encode() + b"." + raw
    if not _signature_ok(secret, signed, given):
        raise _bad_signature()
    # Checked after the signature, so only the holder of the secret learns about our clock.
    if abs(time.time() - int(stamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        raise DocgError(
            "webhook.stale_timestamp",
            f"The delivery's timestamp is more than {TIMESTAMP_TOLERANCE_SECONDS} seconds from now: "
            "sign it again with the current time.",
            status_code=401,
        )
    # The same signature within the window can only be a replay (the timestamp is part of it).
    return "hmac-sha256:" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _start(workflow: Workflow, data: dict):
    # The workflow and its active version were read above, to check this very delivery.
    return execution_start(workflow=workflow, trigger_data=data, actor_type=ActorType.WEBHOOK, workflow_read=True)


def webhook_receive(
    *, workflow_id: Any, secret: str, raw: bytes, content_type: str, headers: dict[str, str]
) -> tuple[Any, bool]:
    """Authenticate a delivery and start (or find) its run; returns (execution, created)."""
    workflow = Workflow.objects.select_related("active_version", "organization").filter(pk=workflow_id).first()
    if workflow is None or not hmac.compare_digest(workflow.webhook_secret.encode(), secret.encode()):
        raise _not_found()
    version = workflow.active_version
    trigger = version.definition["nodes"][0] if version else {}
    if trigger.get("app") != "webhook":
        raise DocgError(
            "webhook.not_a_webhook_trigger", "This workflow does not start from a webhook.", status_code=409
        )
    parameters = trigger.get("parameters") or {}
    header_name = (parameters.get("hmac_header") or "").lower()
    replay_key = ""
    if header_name:
        replay_key = _verify_signature(
            secret=workflow.webhook_secret,
            raw=raw,
            headers=headers,
            header_name=header_name,
            required=parameters.get("require_timestamp") is True,
        )
    data = parse_body(raw, content_type)
    key = headers.get("idempotency-key", "")
    if not key and parameters.get("idempotency_field"):
        key = str(data.get(parameters["idempotency_field"], "") or "")
    # Both keys are recorded: the sender's key dedupes its retries, and the signature's key stops a
    # captured delivery replayed with a new (unsigned) Idempotency-Key header.
    keys = [k for k in dict.fromkeys((key[:200], replay_key)) if k]
    if not keys:
        return _start(workflow, data), True
    try:
        with transaction.atomic():
            deliveries = [
                WebhookDelivery.objects.create(
                    organization_id=workflow.organization_id, workflow=workflow, idempotency_key=k
                )
                for k in keys
            ]
            execution = _start(workflow, data)
            for delivery in deliveries:
                delivery.execution = execution
                delivery.save(update_fields=["execution", "updated_at"])
            return execution, True
    except IntegrityError:
        # Delivered before: answer with the run the first delivery started.
        first = (
            WebhookDelivery.objects.select_related("execution")
            .filter(workflow=workflow, idempotency_key__in=keys, execution__isnull=False)
            .first()
        )
        if first is None or first.execution is None:
            raise DocgError("webhook.conflict", "This delivery collided with another; send it again.", status_code=409)
        return first.execution, False
