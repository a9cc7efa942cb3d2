"""Included by config/urls.py at `hooks/clicksign/`."""

from django.urls import path

from docg.providers.clicksign.views import clicksign_hook

urlpatterns = [
    path("<uuid:connection_id>", clicksign_hook, name="clicksign-webhook"),
]
