"""Dashboard routes: templates."""

urlpatterns: list = []
