from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkflowStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class NodeKind(models.TextChoices):
    TRIGGER = "trigger", _("Trigger")
    ACTION = "action", _("Action")
