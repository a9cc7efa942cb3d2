"""Stripe's side of billing: Checkout and portal sessions, and applying Stripe's events to the organization.

Stripe calls happen outside transactions; the rows they produce are saved after.
Only this module writes an organization's subscription state (plans and limits
are docg/orgs/billing.py).
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from docg.audit.choices import ActorType
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.orgs.billing import ENDED_STATUSES, PAID_STATUSES, billing_url
from docg.orgs.choices import Plan
from docg.orgs.models import BillingEvent, Organization, User
from docg.providers.stripe.client import StripeApi

ACTION_PLAN_CHANGED = "billing.plan_changed"
ACTION_SUBSCRIPTION_UPDATED = "billing.subscription_updated"
ACTION_PAYMENT_FAILED = "billing.payment_failed"
ACTION_CHECKOUT_STARTED = "billing.checkout_started"

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.payment_failed",
    }
)


# --- checkout and portal ------------------------------------------------------------


def _platform_api(correlation_id: str) -> StripeApi:
    if not settings.STRIPE_SECRET_KEY:
        raise DocgError("billing.not_configured", "Billing is not configured on this server.", status_code=503)
    return StripeApi(settings.STRIPE_SECRET_KEY, headers={"X-Correlation-ID": correlation_id})


def _provider_error(exc: DocgError) -> DocgError:
    return DocgError(
        "billing.provider_error",
        f"Stripe could not handle the request: {exc.human}",
        status_code=502,
        details={"provider_code": exc.code, "transient": exc.transient},
    )


def _ensure_customer(api: StripeApi, organization: Organization, by: User) -> str:
    if organization.stripe_customer_id:
        return organization.stripe_customer_id
    # One key per organization: two clicks at once still make one Stripe customer.
    customer = api.create_customer(
        name=organization.name,
        email=getattr(by, "email", "") or "",
        metadata={"organization_id": str(organization.pk)},
        idempotency_key=f"docg-customer-{organization.pk}",
    )
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if not org.stripe_customer_id:
            org.stripe_customer_id = customer["id"]
            org.save(update_fields=["stripe_customer_id", "updated_at"])
    organization.stripe_customer_id = org.stripe_customer_id
    return org.stripe_customer_id


def billing_checkout_start(*, organization: Organization, by: User, plan: str) -> str:
    """Open a Stripe Checkout session subscribing the organization to `plan`; return its URL."""
    price = settings.STRIPE_PRICE_IDS.get(plan) if plan != Plan.FREE else None
    if not price:
        raise DocgError("billing.plan_unavailable", f"The plan {plan!r} cannot be bought here.", details={"plan": plan})
    if organization.stripe_subscription_id and organization.subscription_status in PAID_STATUSES:
        raise DocgError(
            "billing.already_subscribed",
            "This organization already has a subscription: change the plan in the billing portal.",
            status_code=409,
        )
    correlation_id = str(uuid.uuid4())
    api = _platform_api(correlation_id)
    base = settings.FRONTEND_URL.rstrip("/")
    metadata = {"organization_id": str(organization.pk), "plan": plan}
    try:
        customer = _ensure_customer(api, organization, by)
        session = api.create_checkout_session(
            {
                "mode": "subscription",
                "customer": customer,
                "client_reference_id": str(organization.pk),
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": f"{base}{settings.BILLING_CHECKOUT_SUCCESS_PATH}",
                "cancel_url": f"{base}{settings.BILLING_CHECKOUT_CANCEL_PATH}",
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
        )
    except DocgError as exc:
        raise _provider_error(exc) from exc
    audit_log(
        organization=organization,
        action=ACTION_CHECKOUT_STARTED,
        target_type="organization",
        target_id=organization.pk,
        metadata={"plan": plan, "checkout_session": session.get("id", "")},
        correlation_id=correlation_id,
        **user_actor(by),
    )
    return str(session["url"])


def billing_portal_link(*, organization: Organization, by: User) -> str:
    """A Stripe customer portal session for the organization (manage card, plan, invoices); its URL."""
    if not organization.stripe_customer_id:
        raise DocgError(
            "billing.no_customer", "This organization has no subscription yet: choose a plan first.", status_code=409
        )
    api = _platform_api(str(uuid.uuid4()))
    try:
        session = api.create_portal_session(customer=organization.stripe_customer_id, return_url=billing_url())
    except DocgError as exc:
        raise _provider_error(exc) from exc
    return str(session["url"])


# --- webhook events -----------------------------------------------------------------


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _locked_organization(obj: dict) -> Organization | None:
    """The organization an event's object belongs to: our metadata first, then the Stripe customer."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    parent = obj.get("parent") if isinstance(obj.get("parent"), dict) else {}
    details = parent.get("subscription_details") or obj.get("subscription_details") or {}
    candidates = [
        metadata.get("organization_id"),
        obj.get("client_reference_id"),
        (details.get("metadata") or {}).get("organization_id") if isinstance(details, dict) else None,
    ]
    qs = Organization.objects.select_for_update()
    for candidate in candidates:
        key = _as_uuid(candidate)
        if key is not None and (org := qs.filter(pk=key).first()) is not None:
            return org
    customer = obj.get("customer")
    if isinstance(customer, str) and customer:
        return qs.filter(stripe_customer_id=customer).first()
    return None


def _plan_of_subscription(obj: dict) -> str | None:
    by_price = {price: plan for plan, price in settings.STRIPE_PRICE_IDS.items() if price}
    items = (obj.get("items") or {}).get("data") or []
    for item in items:
        price = (item.get("price") or {}).get("id") if isinstance(item, dict) else None
        if price in by_price:
            return by_price[price]
    plan = (obj.get("metadata") or {}).get("plan")
    return plan if plan in Plan.values and plan != Plan.FREE else None


def _period_end(obj: dict) -> datetime | None:
    # Newer API versions moved the period to each subscription item.
    raw = obj.get("current_period_end")
    if raw is None:
        items = (obj.get("items") or {}).get("data") or []
        raw = next((i.get("current_period_end") for i in items if isinstance(i, dict)), None)
    return datetime.fromtimestamp(int(raw), tz=UTC) if isinstance(raw, int | float) else None


def _changes_for(event_type: str, obj: dict, org: Organization) -> dict[str, Any]:
    if event_type == "checkout.session.completed":
        if obj.get("mode") != "subscription":
            return {}
        changes: dict[str, Any] = {}
        if isinstance(obj.get("customer"), str):
            changes["stripe_customer_id"] = obj["customer"]
        if isinstance(obj.get("subscription"), str):
            changes["stripe_subscription_id"] = obj["subscription"]
        plan = (obj.get("metadata") or {}).get("plan")
        if obj.get("payment_status") in ("paid", "no_payment_required") and plan in Plan.values:
            changes.update(plan=plan, subscription_status="active")
        return changes
    if event_type == "invoice.payment_failed":
        return {"subscription_status": "past_due"}
    subscription_id = obj.get("id")
    status = "canceled" if event_type == "customer.subscription.deleted" else str(obj.get("status") or "")
    # An event about an older subscription must not undo the current one.
    if org.stripe_subscription_id and subscription_id != org.stripe_subscription_id and status not in PAID_STATUSES:
        return {}
    changes = {"stripe_subscription_id": subscription_id, "subscription_status": status}
    if isinstance(obj.get("customer"), str):
        changes["stripe_customer_id"] = obj["customer"]
    if status in ENDED_STATUSES:
        changes.update(plan=Plan.FREE, current_period_end=None)
    else:
        changes["current_period_end"] = _period_end(obj)
        plan = _plan_of_subscription(obj)
        if status in PAID_STATUSES and plan:
            changes["plan"] = plan
    return changes


def billing_apply_event(*, event: dict) -> tuple[bool, str]:
    """Apply one verified Stripe event to its organization, once per event id; returns (applied, outcome)."""
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    obj = ((event.get("data") or {}).get("object")) if isinstance(event.get("data"), dict) else None
    if not event_id or not isinstance(obj, dict):
        raise DocgError("stripe.bad_event", "The event has no id or no data.object.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                created = event.get("created") if isinstance(event.get("created"), int) else None
                record = BillingEvent.objects.create(
                    stripe_event_id=event_id[:255], event_type=event_type[:100], stripe_created=created
                )
        except IntegrityError:
            return False, "duplicate"
        if event_type not in HANDLED_EVENTS:
            record.outcome = "ignored"
            record.save(update_fields=["outcome"])
            return True, record.outcome
        org = _locked_organization(obj)
        if org is None:
            record.outcome = "no matching organization"
            record.save(update_fields=["outcome"])
            return True, record.outcome
        if _superseded(org, record, event_type):
            record.organization = org
            record.outcome = "older than a subscription event already applied"
            record.save(update_fields=["organization", "outcome"])
            return True, record.outcome
        changes = {k: v for k, v in _changes_for(event_type, obj, org).items() if getattr(org, k) != v}
        before_plan = org.plan
        for key, value in changes.items():
            setattr(org, key, value)
        if changes:
            org.save(update_fields=[*changes, "updated_at"])
        record.organization = org
        record.outcome = ", ".join(sorted(changes)) or "no change"
        record.save(update_fields=["organization", "outcome"])
        _audit_event(org, event_id, event_type, changes, before_plan)
    return True, record.outcome


def _superseded(org: Organization, record: BillingEvent, event_type: str) -> bool:
    """A subscription event created before one already applied to `org` (a late retry, say)."""
    if not event_type.startswith("customer.subscription.") or record.stripe_created is None:
        return False
    return (
        BillingEvent.objects.filter(
            organization=org, event_type__startswith="customer.subscription.", stripe_created__gt=record.stripe_created
        )
        .exclude(pk=record.pk)
        .exists()
    )


def _audit_event(org: Organization, event_id: str, event_type: str, changes: dict, before_plan: str) -> None:
    if "plan" in changes:
        action = ACTION_PLAN_CHANGED
    elif event_type == "invoice.payment_failed":
        action = ACTION_PAYMENT_FAILED
    elif changes:
        action = ACTION_SUBSCRIPTION_UPDATED
    else:
        return
    audit_log(
        organization=org,
        action=action,
        actor_type=ActorType.WEBHOOK,
        actor_id="stripe",
        target_type="organization",
        target_id=org.pk,
        metadata={
            "stripe_event_id": event_id,
            "event_type": event_type,
            "plan_from": before_plan,
            "plan_to": org.plan,
            "subscription_status": org.subscription_status,
            "changed": sorted(changes),
        },
    )
