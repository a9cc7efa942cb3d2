from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "docg.orgs"
    label = "orgs"
    verbose_name = "Organizations and users"
