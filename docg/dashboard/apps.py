from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "docg.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
