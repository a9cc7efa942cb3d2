"""Dashboard routes: billing."""

from django.urls import path

from docg.dashboard.views import billing

urlpatterns: list = [
    path("billing/", billing.billing, name="billing"),
    path("billing/checkout/", billing.billing_checkout, name="billing-checkout"),
    path("billing/portal/", billing.billing_portal, name="billing-portal"),
]
