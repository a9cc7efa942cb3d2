"""Dashboard routes: metrics."""

urlpatterns: list = []
