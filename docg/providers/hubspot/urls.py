"""Provider callbacks for hubspot (mounted at /hooks/hubspot/)."""

from django.urls import path

from docg.providers.hubspot.views import hubspot_webhook

urlpatterns = [path("", hubspot_webhook, name="hubspot-webhook")]
