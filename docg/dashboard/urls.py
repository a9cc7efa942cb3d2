from django.contrib.auth import views as auth_views
from django.urls import path

from docg.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("executions/", views.executions, name="executions"),
    path("executions/<uuid:pk>/", views.execution_detail, name="execution"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
