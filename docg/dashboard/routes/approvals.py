"""Dashboard routes: approvals."""

urlpatterns: list = []
