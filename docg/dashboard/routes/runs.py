"""Dashboard routes: runs."""

urlpatterns: list = []
