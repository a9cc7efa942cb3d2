from django.db import models


class WorkflowStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class NodeKind(models.TextChoices):
    TRIGGER = "trigger", "Trigger"
    ACTION = "action", "Action"
