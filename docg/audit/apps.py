from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "docg.audit"
    label = "audit"
    verbose_name = "Audit trail"
