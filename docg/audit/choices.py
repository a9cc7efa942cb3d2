from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorType(models.TextChoices):
    USER = "user", _("User")
    SYSTEM = "system", _("System")
    WEBHOOK = "webhook", "Webhook"
    API_KEY = "api_key", _("API key")


class AuditAction(models.TextChoices):
    EXECUTION_STARTED = "execution.started"
    EXECUTION_COMPLETED = "execution.completed"
    EXECUTION_FAILED = "execution.failed"
    EXECUTION_CANCELED = "execution.canceled"
    EXECUTION_RETRIED = "execution.retried"
    EXECUTION_RESUMED = "execution.resumed"
    EXECUTION_PAUSED = "execution.paused"
    DOCUMENT_GENERATED = "document.generated"
    DOCUMENT_SAVED = "document.saved"
    DOCUMENT_SENT = "document.sent"
    SIGNATURE_REQUESTED = "signature.requested"
    SIGNATURE_SIGNED = "signature.signed"
    SIGNATURE_DECLINED = "signature.declined"
    SIGNATURE_EXPIRED = "signature.expired"
    SIGNATURE_REMINDED = "signature.reminded"
    SIGNATURE_CANCELED = "signature.canceled"
    SIGNATURE_WITHDRAW_FAILED = "signature.withdraw_failed"
    TEMPLATE_VERSION_UPDATED = "template.version_updated"
    TEMPLATE_DELETED = "template.deleted"
    CONNECTION_CREATED = "connection.created"
    CONNECTION_REVOKED = "connection.revoked"
    WORKFLOW_CREATED = "workflow.created"
    WORKFLOW_UPDATED = "workflow.updated"
    WORKFLOW_DELETED = "workflow.deleted"
    WORKFLOW_ACTIVATED = "workflow.activated"
    WORKFLOW_DEACTIVATED = "workflow.deactivated"
    ORGANIZATION_CREATED = "organization.created"
    ORGANIZATION_UPDATED = "organization.updated"
    MEMBER_INVITED = "member.invited"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    INVITATION_REVOKED = "invitation.revoked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
