from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "docg.executions"
    label = "executions"
    verbose_name = "Executions"
