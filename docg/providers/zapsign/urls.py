"""Included by config/urls.py at `hooks/zapsign/`."""

from django.urls import path

from docg.providers.zapsign.views import zapsign_hook

urlpatterns = [
    path("<uuid:connection_id>/<str:token>", zapsign_hook, name="zapsign-webhook"),
]
