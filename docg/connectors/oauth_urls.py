"""OAuth connect / callback routes (social-auth)."""

urlpatterns: list = []
