from django.urls import path

from docg.orgs.api.billing_views import BillingCheckoutView, BillingPortalView, BillingSummaryView

urlpatterns = [
    path("billing", BillingSummaryView.as_view(), name="billing-summary"),
    path("billing/checkout", BillingCheckoutView.as_view(), name="billing-checkout"),
    path("billing/portal", BillingPortalView.as_view(), name="billing-portal"),
]
