"""Dashboard routes: billing."""

urlpatterns: list = []
