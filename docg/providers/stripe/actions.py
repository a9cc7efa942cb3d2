"""The `stripe` app: create a payment link with the organization's own Stripe account."""

import hashlib
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.choices import AuthKind, Provider
from docg.connectors.registry import App, Operation, register
from docg.connectors.runtime import ActionContext, ActionResult
from docg.providers.stripe.client import StripeApi

app = register(
    App(
        slug="stripe",
        name="Stripe",
        description=_("Payments with Stripe: payment links for a product and amount."),
        auth=AuthKind.API_KEY,
    )
)


def _idempotency_key(ctx: ActionContext, call: str) -> str:
    # The same for every attempt of the step (unlike ctx.idempotency_key, which counts attempts):
    # a retry after a timeout gets Stripe's first answer back instead of a second link.
    raw = f"{ctx.execution.pk}:{ctx.node.get('key', '')}:{call}"
    return f"docg-{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def _positive_int(ctx: ActionContext, params: dict, name: str, default: int | None = None) -> int:
    value: Any = params.get(name, default)
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < 1:
        raise DocgError(
            "stripe.invalid_parameter",
            ctx.say(_("%(name)s must be a whole number of at least 1 (got %(value)s)."), name=name, value=repr(value)),
            {"parameter": name, "value": repr(value)[:200]},
        )
    return number


def create_payment_link(ctx: ActionContext, params: dict) -> ActionResult:
    product_name = " ".join(str(params.get("product_name") or "").split())[:250]
    if not product_name:
        raise DocgError(
            "stripe.invalid_parameter",
            ctx.say(_("The product name is empty.")),
            {"parameter": "product_name"},
        )
    unit_amount = _positive_int(ctx, params, "unit_amount")
    quantity = _positive_int(ctx, params, "quantity", default=1)
    currency = str(params.get("currency") or "usd").strip().lower()
    planned = {"product_name": product_name, "unit_amount": unit_amount, "currency": currency, "quantity": quantity}
    if ctx.dry_run:
        return ActionResult(output={**planned, "payment_link_id": "", "url": "", "price_id": "", "dry_run": True})
    connection = ctx.active_connection(Provider.STRIPE, "Stripe")
    api_key = str((connection.credentials or {}).get("api_key") or "").strip()
    if not api_key:
        raise DocgError(
            "stripe.misconfigured",
            ctx.say(_("The Stripe connection has no API key.")),
            {"missing": "api_key", "connection": str(connection.pk)},
        )
    api = StripeApi(api_key, headers={"X-Correlation-ID": ctx.correlation_id})
    price = api.create_price(
        product_name=product_name,
        unit_amount=unit_amount,
        currency=currency,
        idempotency_key=_idempotency_key(ctx, "price"),
    )
    link = api.create_payment_link(
        price=str(price["id"]),
        quantity=quantity,
        metadata={"docg_execution_id": str(ctx.execution.pk), "docg_node_key": str(ctx.node.get("key", ""))},
        idempotency_key=_idempotency_key(ctx, "payment_link"),
    )
    output = {**planned, "payment_link_id": link.get("id", ""), "url": link.get("url", ""), "price_id": price["id"]}
    return ActionResult(output={**output, "dry_run": False})


app.action(
    Operation(
        name="create_payment_link",
        handler=create_payment_link,
        label=_("Create a payment link (Stripe)"),
        description=_(
            "Create a Stripe price for a product and amount, and a payment link for it; outputs the link URL."
        ),
        max_attempts=4,
        timeout_seconds=60,
        parameters={
            "type": "object",
            "properties": {
                "product_name": {"type": "string", "minLength": 1, "maxLength": 250, "title": _("Product name")},
                "unit_amount": {
                    "type": ["integer", "string"],
                    "title": _("Unit amount"),
                    "description": _("The price in the currency's smallest unit (cents): 1990 is 19.90."),
                },
                "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "default": "usd", "title": _("Currency")},
                "quantity": {"type": ["integer", "string"], "default": 1, "title": _("Quantity")},
            },
            "required": ["product_name", "unit_amount"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "url": {"type": "string"},
                "payment_link_id": {"type": "string"},
                "price_id": {"type": "string"},
                "dry_run": {"type": "boolean"},
            },
        },
    )
)
