from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "docg.demo"
    label = "demo"
    verbose_name = "Demo data"
