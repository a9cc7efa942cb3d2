"""Dashboard routes: executions (the runs list and one run's live page)."""

from django.urls import path

from docg.dashboard.views import executions

urlpatterns: list = [
    path("executions/", executions.executions, name="executions"),
    path("executions/<uuid:pk>/", executions.execution_detail, name="execution"),
    path("executions/<uuid:pk>/parts/", executions.execution_parts, name="execution-parts"),
    path("executions/<uuid:pk>/logs/", executions.execution_logs_tab, name="execution-logs"),
    path("executions/<uuid:pk>/audit/", executions.execution_audit_tab, name="execution-audit"),
    *[
        path(f"executions/<uuid:pk>/{verb}/", executions.execution_control, {"verb": verb}, name=f"execution-{verb}")
        for verb in ("pause", "resume", "cancel", "retry")
    ],
]
