"""Dashboard routes: runs (starting a workflow by hand)."""

from django.urls import path

from docg.dashboard.views import runs

urlpatterns: list = [
    path("workflows/<uuid:pk>/run/", runs.workflow_run, name="workflow-run"),
]
