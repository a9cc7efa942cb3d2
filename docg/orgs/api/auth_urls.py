from django.urls import path

from docg.orgs.api.views import RegisterView, TokenRefresh, TokenView

urlpatterns = [
    path("register", RegisterView.as_view(), name="auth-register"),
    path("token", TokenView.as_view(), name="auth-token"),
    path("token/refresh", TokenRefresh.as_view(), name="auth-token-refresh"),
]
