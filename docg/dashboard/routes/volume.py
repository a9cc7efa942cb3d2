"""Dashboard routes: bulk actions over runs, the retention policy, event subscriptions (issue 15)."""

from django.urls import path

from docg.dashboard.views import volume

urlpatterns: list = [
    path("runs/bulk/", volume.bulk_new, name="bulk-new"),
    path("runs/bulk/<uuid:pk>/", volume.bulk_detail, name="bulk-detail"),
    path("runs/bulk/<uuid:pk>/cancel/", volume.bulk_cancel, name="bulk-cancel"),
    path("settings/retention/", volume.retention_settings, name="retention"),
    path("settings/subscriptions/", volume.subscriptions_page, name="subscriptions"),
    path("settings/subscriptions/deliveries/<uuid:pk>/resend/", volume.delivery_resend, name="delivery-resend"),
]
