from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """The provider packages (one per outside service); importing them fills the connectors registry."""

    name = "docg.providers"
    label = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from docg.connectors import registry

        registry.autodiscover()
