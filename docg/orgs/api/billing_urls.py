from django.urls import path

from docg.orgs.api.billing_views import BillingSummaryView

urlpatterns = [
    path("billing", BillingSummaryView.as_view(), name="billing-summary"),
]
