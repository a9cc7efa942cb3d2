"""Dashboard routes: workflows."""

from django.urls import path

from docg.dashboard.views import workflows

urlpatterns: list = [
    path("", workflows.home, name="home"),
]
