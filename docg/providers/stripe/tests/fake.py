"""A fake Stripe API on loopback: checks paths, form bodies, the bearer key and Idempotency-Key.

It answers with the documented shapes: objects for the five endpoints docg
calls, `{"error": {type, code, message}}` bodies for failures, and Stripe's
idempotency semantics (same key and body → the first answer again, with
`Idempotent-Replayed: true`; same key, other body → 400 idempotency_error).
"""

import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

API_KEY = "sk_test_platform_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_test_6f1b3c5d7e9a0b2c4d6e8f0a1b3c5d7e"
PRICES = {"pro": "price_pro_monthly", "business": "price_business_monthly"}

ERRORS = {
    401: {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}},
    402: {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
        }
    },
    429: {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests."}},
    500: {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}},
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    form: dict
    raw: str


@dataclass
class FakeStripe:
    url: str = ""
    api_key: str = API_KEY
    requests: list[Recorded] = field(default_factory=list)
    # (status, body, headers) answers to give first, before the documented success.
    failures: list[tuple[int, dict, dict]] = field(default_factory=list)
    created: dict[str, list[dict]] = field(default_factory=dict)
    _idempotent: dict[str, tuple[str, dict]] = field(default_factory=dict)

    def fail_next(self, status: int, headers: dict | None = None) -> None:
        self.failures.append((status, ERRORS.get(status, ERRORS[500]), headers or {}))

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def success(self, path: str, form: dict) -> dict | None:
        suffix = uuid.uuid4().hex[:14]
        if path == "/v1/customers":
            obj = {"id": f"cus_{suffix}", "object": "customer", "name": form.get("name"), "email": form.get("email")}
        elif path == "/v1/checkout/sessions":
            obj = {
                "id": f"cs_test_{suffix}",
                "object": "checkout.session",
                "mode": form.get("mode"),
                "customer": form.get("customer"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{suffix}",
            }
        elif path == "/v1/billing_portal/sessions":
            obj = {
                "id": f"bps_{suffix}",
                "object": "billing_portal.session",
                "customer": form.get("customer"),
                "return_url": form.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/test_{suffix}",
            }
        elif path == "/v1/prices":
            obj = {
                "id": f"price_{suffix}",
                "object": "price",
                "currency": form.get("currency"),
                "unit_amount": int(form.get("unit_amount", 0)),
                "product": f"prod_{suffix}",
            }
        elif path == "/v1/payment_links":
            obj = {
                "id": f"plink_{suffix}",
                "object": "payment_link",
                "active": True,
                "url": f"https://buy.stripe.com/test_{suffix}",
            }
        else:
            return None
        self.created.setdefault(path, []).append(obj)
        return obj


def _handler(fake: FakeStripe):
    class Handler(LoopbackHandler):
        def do_POST(self):
            raw = self.read_body().decode()
            form = dict(parse_qsl(raw, keep_blank_values=True))
            headers = self.lower_headers()
            fake.requests.append(Recorded("POST", self.path, headers, form, raw))
            if headers.get("authorization") != f"Bearer {fake.api_key}":
                return self._answer(401, ERRORS[401])
            if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return self._answer(400, {"error": {"type": "invalid_request_error", "message": "Not a form."}})
            if fake.failures:
                status, body, extra = fake.failures.pop(0)
                return self._answer(status, body, extra)
            key = headers.get("idempotency-key", "")
            if key and key in fake._idempotent:
                path, first = fake._idempotent[key]
                if path != self.path or first["form"] != form:
                    error = {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same parameters.",
                    }
                    return self._answer(400, {"error": error})
                return self._answer(200, first["answer"], {"Idempotent-Replayed": "true"})
            answer = fake.success(self.path, form)
            if answer is None:
                error = {"type": "invalid_request_error", "message": f"Unrecognized request URL (POST: {self.path})."}
                return self._answer(404, {"error": error})
            if key:
                fake._idempotent[key] = (self.path, {"form": form, "answer": answer})
            return self._answer(200, answer)

        def _answer(self, status: int, body: dict, headers: dict | None = None):
            self.reply(status, body, {"Request-Id": f"req_{uuid.uuid4().hex[:14]}", **(headers or {})})

    return Handler


@pytest.fixture
def stripe_api(settings):
    """The fake, with docg's settings pointed at it (platform key, webhook secret, plan prices)."""
    fake = FakeStripe()
    with loopback_server(_handler(fake)) as fake.url:
        settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "stripe": fake.url}
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_PRICE_IDS = dict(PRICES)
        settings.FRONTEND_URL = "https://app.docg.example"
        yield fake
