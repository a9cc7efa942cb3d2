"""Stripe sessions under /api/v1/ (the summary, GET /billing, is docg/orgs/api/billing_urls.py)."""

from django.urls import path

from docg.providers.stripe.billing_views import BillingCheckoutView, BillingPortalView

urlpatterns = [
    path("billing/checkout", BillingCheckoutView.as_view(), name="billing-checkout"),
    path("billing/portal", BillingPortalView.as_view(), name="billing-portal"),
]
