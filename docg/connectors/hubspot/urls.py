"""Provider callbacks for hubspot."""

urlpatterns: list = []
