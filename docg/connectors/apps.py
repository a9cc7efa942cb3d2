from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "docg.connectors"
    label = "connectors"
    verbose_name = "Connectors"
