"""Plans, their limits and this month's usage: the quota every new run takes from.

The organization row holds the subscription state (plan, Stripe customer and
subscription, status, period end); Stripe's side of it (Checkout, the portal
and its webhook events) is docg/providers/stripe/billing.py.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from docg.common.errors import DocgError
from docg.orgs.choices import Plan
from docg.orgs.models import Organization, PlanUsage

# Subscription statuses that keep the paid plan; the others fall back to free.
PAID_STATUSES = frozenset({"active", "trialing", "past_due"})
ENDED_STATUSES = frozenset({"canceled", "unpaid", "incomplete_expired"})


# --- selectors ----------------------------------------------------------------------


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the current calendar month, in UTC."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def runs_this_month(*, organization: Organization | Any) -> int:
    """Runs started this calendar month (UTC), dry runs and retries included: the plan's usage counter."""
    org_id = getattr(organization, "pk", organization)
    runs = PlanUsage.objects.filter(organization_id=org_id, month=month_start().date()).values_list("runs", flat=True)
    return runs.first() or 0


def plan_limit(plan: str, name: str = "monthly_executions") -> int | None:
    """The plan's limit (None: unlimited); an unknown plan gets the free plan's limits."""
    limits = settings.BILLING_PLAN_LIMITS.get(plan) or settings.BILLING_PLAN_LIMITS[Plan.FREE]
    return limits.get(name)


def billing_url() -> str:
    return f"{settings.FRONTEND_URL.rstrip('/')}{settings.BILLING_PORTAL_RETURN_PATH}"


def billing_summary(*, organization: Organization) -> dict[str, Any]:
    """Plan, subscription state and this month's usage against the plan's limit."""
    used = runs_this_month(organization=organization)
    limit = plan_limit(organization.plan)
    return {
        "plan": organization.plan,
        "plan_label": Plan(organization.plan).label if organization.plan in Plan.values else organization.plan,
        "subscription_status": organization.subscription_status,
        "current_period_end": organization.current_period_end,
        "has_customer": bool(organization.stripe_customer_id),
        "usage": {
            "monthly_executions": used,
            "limit": limit,
            "remaining": None if limit is None else max(limit - used, 0),
            "period_start": month_start(),
            "resets_at": next_month_start(),
        },
        "plans": [
            {"plan": p.value, "label": p.label, "monthly_executions": plan_limit(p.value), "purchasable": _buyable(p)}
            for p in Plan
        ],
    }


def _buyable(plan: str) -> bool:
    return bool(settings.STRIPE_PRICE_IDS.get(plan))


# --- plan limits --------------------------------------------------------------------

# One statement takes a run: a new month's row starts at 1; an existing row counts up
# only while under the plan's limit, which the statement reads from the organization
# row itself (`_LIMIT`, from settings). No row returned means the limit was reached.
# The row lock lasts as long as the statement (run it outside a long transaction).
_RESERVE = """
INSERT INTO orgs_planusage (organization_id, month, runs)
SELECT id, %s, 1 FROM orgs_organization WHERE id = %s AND COALESCE({limit} > 0, TRUE)
ON CONFLICT (organization_id, month) DO UPDATE SET runs = orgs_planusage.runs + 1
WHERE COALESCE(orgs_planusage.runs < (SELECT {limit} FROM orgs_organization WHERE id = %s), TRUE)
RETURNING runs
"""


def _limit_sql() -> tuple[str, list[Any]]:
    """The plan's monthly run limit as SQL over the organization's `plan` column (NULL: unlimited)."""
    whens = " ".join("WHEN %s THEN CAST(%s AS integer)" for _ in settings.BILLING_PLAN_LIMITS)
    params = [value for plan in settings.BILLING_PLAN_LIMITS for value in (plan, plan_limit(plan))]
    return f"CASE plan {whens} ELSE CAST(%s AS integer) END", [*params, plan_limit(Plan.FREE)]


def plan_run_reserve(*, organization_id: Any) -> date:
    """Take one run from this month's quota, or refuse with 402 `plan_limit_reached`; returns the month taken from.

    Call it before the transaction that creates the run, and give the run back
    with `plan_run_release` if that transaction fails (`plan_run_reservation` does both).
    """
    month = month_start().date()
    org = Organization._meta.pk.get_db_prep_value(organization_id, connection)
    limit, limit_params = _limit_sql()
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE.format(limit=limit), [month, org, *limit_params, *limit_params, org])
        taken = cursor.fetchone()
    if taken is None:
        plan = Organization.objects.filter(pk=organization_id).values_list("plan", flat=True).get()
        _refuse(plan, plan_limit(plan), used=runs_this_month(organization=organization_id))
    return month


def plan_run_release(*, organization_id: Any, month: date) -> None:
    """Give back a run taken by `plan_run_reserve` whose creation failed."""
    PlanUsage.objects.filter(organization_id=organization_id, month=month, runs__gt=0).update(runs=F("runs") - 1)


@contextmanager
def plan_run_reservation(*, organization_id: Any) -> Iterator[date]:
    """Take a run from the quota for the block; an exception leaving the block gives it back."""
    month = plan_run_reserve(organization_id=organization_id)
    try:
        yield month
    except BaseException:
        plan_run_release(organization_id=organization_id, month=month)
        raise


def _refuse(plan: str, limit: int | None, *, used: int) -> None:
    label = Plan(plan).label if plan in Plan.values else plan
    resets = next_month_start()
    raise DocgError(
        "plan_limit_reached",
        (
            f"This organization has used all {limit} workflow runs included in the {label} plan this month. "
            f"Upgrade on the Billing page ({billing_url()}) to keep running workflows, "
            f"or wait until {resets:%Y-%m-%d} (UTC) when the count starts again."
        ),
        status_code=402,
        details={
            "limit": "monthly_executions",
            "plan": plan,
            "allowed": limit,
            "used": used,
            "resets_at": resets.isoformat(),
            "upgrade_url": billing_url(),
        },
    )
