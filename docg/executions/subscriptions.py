"""Outgoing event subscriptions (issue 15): an organization's URLs told when its runs move.

The organization's audit chain is the outbox. Every audit row commits with the
change it records, so `subscriptions_dispatch` (run by the workers on a schedule)
reads each subscription's new rows past its cursor and turns those of the types it
wants into deliveries, in one transaction with the cursor: at least once, never
in the run's path, and with the audit row's id as the stable event id receivers
deduplicate on. `deliveries_send` posts the due ones through the SSRF guard, signed
like the deliveries docg accepts (HMAC-SHA256 over "{timestamp}.{body}"), and
retries with backoff for SUBSCRIPTION_RETRY_HOURS. A subscription whose deliveries
all fail for SUBSCRIPTION_DISABLE_DAYS is disabled and its owners are emailed.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from datetime import timedelta
from typing import Any

import dramatiq
import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from docg.audit.models import AuditEvent
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request, url_problem
from docg.documents.models import SignatureRequest
from docg.executions.volume_models import DeliveryAttempt, DeliveryStatus, EventDelivery, EventSubscription
from docg.orgs.choices import Role
from docg.orgs.models import Membership

logger = logging.getLogger(__name__)

# Audit actions and the event type a subscriber sees for them (schema v1 names).
AUDIT_EVENTS = {
    "execution.started": "execution.created",
    "execution.retried": "execution.created",
    "execution.completed": "execution.completed",
    "execution.failed": "execution.failed",
    "execution.canceled": "execution.canceled",
    "document.generated": "document.generated",
    "signature.requested": "signature.requested",
    "signature.signed": "signature.signed",
    "signature.declined": "signature.declined",
}
EVENT_TYPES = sorted({*AUDIT_EVENTS.values(), "signature.completed"})
SIGNATURE_HEADER = "X-Docg-Signature"
TIMESTAMP_HEADER = "X-Docg-Timestamp"
EXCERPT = 500
DISPATCH_CLAIM_KEY = "docg:subscriptions:tick"
ACTION_CREATED = "subscription.created"
ACTION_UPDATED = "subscription.updated"
ACTION_DELETED = "subscription.deleted"
ACTION_DISABLED = "subscription.disabled"
ACTION_RESENT = "subscription.delivery_resent"


def retry_delays() -> list[float]:
    """Seconds before attempt 2, 3, …; the last repeats until SUBSCRIPTION_RETRY_HOURS have passed."""
    return [float(s) for s in getattr(settings, "SUBSCRIPTION_RETRY_SECONDS", [10, 60, 300, 1800, 3600, 7200])]


def give_up_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "SUBSCRIPTION_RETRY_HOURS", 24)))


def disable_after() -> timedelta:
    return timedelta(days=float(getattr(settings, "SUBSCRIPTION_DISABLE_DAYS", 3)))


def sign(secret: str, timestamp: str, body: str) -> str:
    """The signature header's value: "sha256=" + HMAC-SHA256 of "{timestamp}.{body}"."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


# --- subscriptions ------------------------------------------------------------------


def _check(url: str, event_types: list[str]) -> None:
    problem = url_problem(url)
    if problem:
        raise DocgError("subscription.bad_url", problem, details={"url": [problem]})
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise DocgError(
            "subscription.bad_event_types",
            _("Choose event types among: %(types)s.") % {"types": ", ".join(EVENT_TYPES)},
            details={"event_types": unknown},
        )


@transaction.atomic
def subscription_create(*, organization, by, url: str, event_types: list[str], description: str = ""):
    """A new subscription, told of events from now on; its secret is shown once, by the API's answer."""
    _check(url, event_types)
    org_id = getattr(organization, "pk", organization)
    tail = AuditEvent.objects.filter(organization_id=org_id).order_by("-sequence").values_list("sequence", flat=True)
    subscription = EventSubscription.objects.create(
        organization_id=org_id,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        secret="whsec_" + secrets.token_urlsafe(32),
        created_by=by if getattr(by, "is_authenticated", False) else None,
        last_sequence=tail.first() or 0,
    )
    _audit(subscription, ACTION_CREATED, by, url=url, event_types=subscription.event_types)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: EventSubscription, by, **changes) -> EventSubscription:
    """Change url, event_types, description or is_active; re-enabling clears the failure record."""
    subscription = EventSubscription.objects.select_for_update().get(pk=subscription.pk)
    _check(changes.get("url", subscription.url), changes.get("event_types", subscription.event_types))
    for field in ("url", "event_types", "description", "is_active"):
        if field in changes:
            setattr(subscription, field, sorted(set(changes[field])) if field == "event_types" else changes[field])
    if changes.get("is_active"):
        subscription.failing_since = subscription.disabled_at = None
        subscription.disabled_reason = ""
    subscription.save()
    _audit(subscription, ACTION_UPDATED, by, changed=sorted(changes))
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: EventSubscription, by) -> None:
    _audit(subscription, ACTION_DELETED, by, url=subscription.url)
    subscription.delete()


@transaction.atomic
def delivery_resend(*, delivery: EventDelivery, by) -> EventDelivery:
    """Send a delivery again now, with the same event id and body (the receiver may have lost it)."""
    delivery = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
    _audit(delivery.subscription, ACTION_RESENT, by, delivery_id=str(delivery.pk), event_id=str(delivery.event_id))
    return delivery


# --- from the audit chain to deliveries ---------------------------------------------------


def subscriptions_dispatch(*, limit: int = 500) -> int:
    """Turn each active subscription's new audit rows into deliveries; return how many were created."""
    created = 0
    ids = list(EventSubscription.objects.filter(is_active=True).values_list("pk", flat=True))
    for subscription_id in ids:
        with transaction.atomic():
            subscription = (
                EventSubscription.objects.select_for_update(skip_locked=True)
                .filter(pk=subscription_id, is_active=True)
                .first()
            )
            if subscription is None:
                continue
            rows = list(
                AuditEvent.objects.filter(
                    organization_id=subscription.organization_id, sequence__gt=subscription.last_sequence
                ).order_by("sequence")[:limit]
            )
            if not rows:
                continue
            deliveries = [
                EventDelivery(
                    organization_id=subscription.organization_id,
                    subscription=subscription,
                    event_id=event_id,
                    event_type=event_type,
                    body=body,
                    next_attempt_at=timezone.now(),
                )
                for event_id, event_type, body in _events(rows)
                if event_type in subscription.event_types
            ]
            EventDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            subscription.last_sequence = rows[-1].sequence
            subscription.save(update_fields=["last_sequence", "updated_at"])
            created += len(deliveries)
    return created


def _events(rows: list[AuditEvent]):
    """(event id, type, body) for the audit rows that subscribers hear of."""
    for row in rows:
        event_type = AUDIT_EVENTS.get(row.action)
        if event_type is None:
            continue
        yield row.pk, event_type, _body(row, row.pk, event_type)
        if row.action == "signature.signed" and _all_signed(row):
            completed_id = uuid.uuid5(row.pk, "signature.completed")
            yield completed_id, "signature.completed", _body(row, completed_id, "signature.completed")


def _all_signed(row: AuditEvent) -> bool:
    execution_id = row.event_metadata.get("execution_id")
    if not execution_id:
        return False
    requests = SignatureRequest.objects.filter(organization_id=row.organization_id, execution_id=execution_id)
    return requests.exists() and not requests.exclude(status="signed").exists()


def _body(row: AuditEvent, event_id, event_type: str) -> str:
    metadata = dict(row.event_metadata)
    data = {
        "execution_id": metadata.pop("execution_id", None)
        or (row.target_id if row.target_type == "execution" else None),
        "correlation_id": metadata.pop("correlation_id", None),
        "target": {"type": row.target_type, "id": row.target_id},
        **metadata,
    }
    event = {
        "id": str(event_id),
        "type": event_type,
        "schema_version": 1,
        "created_at": row.timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "organization_id": str(row.organization_id),
        "data": data,
    }
    return json.dumps(event, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True)


# --- sending ------------------------------------------------------------------------


def deliveries_send(*, limit: int = 100, timeout: float = 10.0) -> int:
    """Post the due deliveries (claimed so no other worker sends them meanwhile); return how many were tried."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            EventDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
            .order_by("next_attempt_at")[:limit]
        )
        # The claim: a worker that dies mid-post leaves it due again after a minute.
        EventDelivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=now + timedelta(seconds=60))
    for delivery in due:
        try:
            _attempt(delivery, timeout=timeout)
        except Exception:  # One receiver's oddity must not stop the others' deliveries.
            logger.exception("Delivery %s could not be attempted", delivery.pk)
    return len(due)


def _attempt(delivery: EventDelivery, *, timeout: float) -> None:
    subscription = EventSubscription.objects.get(pk=delivery.subscription_id)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "docg-webhooks/1",
        SIGNATURE_HEADER: sign(subscription.secret, stamp, delivery.body),
        TIMESTAMP_HEADER: stamp,
        "X-Docg-Event-Id": str(delivery.event_id),
        "X-Docg-Event-Type": delivery.event_type,
    }
    started = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        response = guarded_request("POST", subscription.url, timeout=timeout, content=delivery.body, headers=headers)
        status_code, excerpt = response.status_code, response.text[:EXCERPT]
    except BlockedAddress as exc:
        error = f"Refused by the address guard: {exc}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    with transaction.atomic():
        delivery = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            organization_id=delivery.organization_id,
            delivery=delivery,
            number=delivery.attempts,
            status_code=status_code,
            latency_ms=latency_ms,
            response_excerpt=excerpt,
            error=error[:500],
        )
        delivery.last_status_code = status_code
        if ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        else:
            delays = retry_delays()
            delay = delays[min(delivery.attempts - 1, len(delays) - 1)]
            if now + timedelta(seconds=delay) > delivery.created_at + give_up_after():
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save()
        _record_health(delivery.subscription_id, ok=ok, now=now)


def _record_health(subscription_id, *, ok: bool, now) -> None:
    subscription = EventSubscription.objects.select_for_update().get(pk=subscription_id)
    if ok:
        if subscription.failing_since is not None:
            subscription.failing_since = None
            subscription.save(update_fields=["failing_since", "updated_at"])
        return
    if subscription.failing_since is None:
        subscription.failing_since = now
        subscription.save(update_fields=["failing_since", "updated_at"])
        return
    if subscription.is_active and now - subscription.failing_since >= disable_after():
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = _("Every delivery failed for %(days)s days.") % {"days": disable_after().days}
        subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
        _audit(subscription, ACTION_DISABLED, None, reason=subscription.disabled_reason)
        transaction.on_commit(lambda: _email_owners(subscription))


def _email_owners(subscription: EventSubscription) -> None:
    owners = list(
        Membership.objects.filter(
            organization_id=subscription.organization_id, role=Role.OWNER, user__is_api_key=False
        ).values_list("user__email", flat=True)
    )
    if not owners:
        return
    try:
        send_mail(
            _("A docg event subscription was disabled"),
            _(
                "Every delivery to %(url)s failed for %(days)s days, so docg stopped sending to it. "
                "Fix the receiver, then turn the subscription back on: the events it missed can be re-sent."
            )
            % {"url": subscription.url, "days": disable_after().days},
            None,
            owners,
        )
    except Exception:
        logger.exception("Could not email the owners about subscription %s", subscription.pk)


# --- the schedule -------------------------------------------------------------------


def subscriptions_tick() -> bool:
    """Enqueue one dispatch-and-send unless another worker did within this interval (as the Forms poll)."""
    interval = float(getattr(settings, "SUBSCRIPTION_TICK_SECONDS", 5))
    if not cache.add(DISPATCH_CLAIM_KEY, "1", timeout=max(1, int(interval))):
        return False
    # By name: the actors module sits above the services it calls.
    dramatiq.get_broker().get_actor("docg.deliver_events").send()
    return True


def _audit(subscription: EventSubscription, action: str, by, **metadata: Any) -> None:
    audit_log(
        organization=subscription.organization_id,
        action=action,
        target_type="event_subscription",
        target_id=subscription.pk,
        metadata=metadata,
        **user_actor(by),
    )
