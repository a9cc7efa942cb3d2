"""Provider callbacks for stripe."""

urlpatterns: list = []
