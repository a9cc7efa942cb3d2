from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "docg.documents"
    label = "documents"
    verbose_name = "Documents"
