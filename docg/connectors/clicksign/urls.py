"""Provider callbacks for clicksign."""

urlpatterns: list = []
