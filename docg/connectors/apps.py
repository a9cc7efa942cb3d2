from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "docg.connectors"
    label = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        # Importing the registry loads every connector package's declarations.
        from docg.connectors import registry

        registry.autodiscover()
