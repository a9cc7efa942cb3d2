"""Dashboard routes: approvals."""

from django.urls import path

from docg.dashboard.views import approvals

urlpatterns: list = [
    path("approvals/", approvals.approvals, name="approvals"),
    path("approvals/<uuid:pk>/decide/", approvals.approval_decide, name="approval-decide"),
]
