"""Dashboard routes: workflows (the list on the home page and the visual editor)."""

from django.urls import path

from docg.dashboard.views import workflows

urlpatterns: list = [
    path("", workflows.home, name="home"),
    path("workflows/new/", workflows.workflow_new, name="workflow-new"),
    path("workflows/<uuid:pk>/", workflows.workflow_detail, name="workflow"),
    path("workflows/<uuid:pk>/activate/", workflows.workflow_activate, name="workflow-activate"),
    path("workflows/<uuid:pk>/deactivate/", workflows.workflow_deactivate, name="workflow-deactivate"),
]
