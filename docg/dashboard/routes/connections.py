"""Dashboard routes: connections."""

urlpatterns: list = []
