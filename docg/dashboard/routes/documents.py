"""Dashboard routes: documents."""

urlpatterns: list = []
