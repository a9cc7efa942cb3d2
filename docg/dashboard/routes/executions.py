"""Dashboard routes: executions."""

from django.urls import path

from docg.dashboard.views import executions

urlpatterns: list = [
    path("executions/", executions.executions, name="executions"),
    path("executions/<uuid:pk>/", executions.execution_detail, name="execution"),
]
