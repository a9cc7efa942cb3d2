from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "docg.common"
    label = "common"
    verbose_name = "docg common"
