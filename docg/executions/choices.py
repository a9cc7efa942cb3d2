from django.db import models


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    NEEDS_REVIEW = "needs_review", "Needs review"
    READY = "ready", "Ready"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SIGNING = "signing", "Signing"
    SIGNED = "signed", "Signed"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    PAUSED = "paused", "Paused"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    SKIPPED = "skipped", "Skipped"
    WAITING = "waiting", "Waiting"


class LogLevel(models.TextChoices):
    OK = "ok", "OK"
    WARN = "warn", "Warning"
    ERROR = "error", "Error"


class LogDomain(models.TextChoices):
    PREFLIGHT = "preflight", "Preflight"
    STEP = "step", "Step"
    DELIVERY = "delivery", "Delivery"
    SIGNATURE = "signature", "Signature"
    TRIGGER = "trigger", "Trigger"
    RENDER = "render", "Render"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Phase(models.TextChoices):
    PREFLIGHT = "preflight", "Preflight"
    TRIGGER = "trigger", "Trigger"
    RENDER = "render", "Render"
    DELIVERY = "delivery", "Delivery"
    SIGNATURE = "signature", "Signature"
