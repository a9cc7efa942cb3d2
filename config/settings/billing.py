"""Organization billing through Stripe: keys, prices per plan, plan limits, return URLs."""

import environ

env = environ.Env()

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# stripe-python only checks the timestamp when given a tolerance: always pass this one.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)

# The Stripe Price each paid plan subscribes to (recurring prices made in the Stripe dashboard).
STRIPE_PRICE_IDS = {
    "pro": env("STRIPE_PRICE_PRO", default=""),
    "business": env("STRIPE_PRICE_BUSINESS", default=""),
}

# Per-plan limits; None means unlimited. Executions are counted per calendar month (UTC),
# dry runs and retries included: each one is a run the platform performs.
BILLING_PLAN_LIMITS = {
    "free": {"monthly_executions": env.int("BILLING_FREE_MONTHLY_EXECUTIONS", default=100)},
    "pro": {"monthly_executions": env.int("BILLING_PRO_MONTHLY_EXECUTIONS", default=5000)},
    "business": {"monthly_executions": None},
}

# Where Stripe sends the browser back; joined to FRONTEND_URL when a session is made.
BILLING_CHECKOUT_SUCCESS_PATH = "/billing/?checkout=success"
BILLING_CHECKOUT_CANCEL_PATH = "/billing/?checkout=canceled"
BILLING_PORTAL_RETURN_PATH = "/billing/"
