"""Dashboard routes: metrics."""

from django.urls import path

from docg.dashboard.views import metrics

urlpatterns: list = [
    path("metrics/", metrics.metrics_page, name="metrics"),
]
