from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "docg.workflows"
    label = "workflows"
    verbose_name = "Workflows"
