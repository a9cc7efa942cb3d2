from django.db import models
from django.utils.translation import gettext_lazy as _


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    READY = "ready", _("Ready")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SIGNING = "signing", _("Signing")
    SIGNED = "signed", _("Signed")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    PAUSED = "paused", _("Paused")


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    SKIPPED = "skipped", _("Skipped")
    WAITING = "waiting", _("Waiting")


class LogLevel(models.TextChoices):
    OK = "ok", _("OK")
    WARN = "warn", _("Warning")
    ERROR = "error", _("Error")


class LogDomain(models.TextChoices):
    PREFLIGHT = "preflight", _("Preflight")
    STEP = "step", _("Step")
    DELIVERY = "delivery", _("Delivery")
    SIGNATURE = "signature", _("Signature")
    TRIGGER = "trigger", _("Trigger")
    RENDER = "render", _("Render")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Phase(models.TextChoices):
    PREFLIGHT = "preflight", _("Preflight")
    TRIGGER = "trigger", _("Trigger")
    RENDER = "render", _("Render")
    DELIVERY = "delivery", _("Delivery")
    SIGNATURE = "signature", _("Signature")
