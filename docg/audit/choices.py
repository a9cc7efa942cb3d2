from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorType(models.TextChoices):
    USER = "user", _("User")
    SYSTEM = "system", _("System")
    WEBHOOK = "webhook", "Webhook"
    API_KEY = "api_key", _("API key")


class AuditAction(models.TextChoices):
    # Labels: what the audit tab shows; the value (the stored action) stays beside it for support.
    EXECUTION_STARTED = "execution.started", _("Run started")
    EXECUTION_COMPLETED = "execution.completed", _("Run completed")
    EXECUTION_FAILED = "execution.failed", _("Run failed")
    EXECUTION_CANCELED = "execution.canceled", _("Run canceled")
    EXECUTION_RETRIED = "execution.retried", _("Run retried")
    EXECUTION_RESUMED = "execution.resumed", _("Run resumed")
    EXECUTION_PAUSED = "execution.paused", _("Run paused")
    DOCUMENT_GENERATED = "document.generated", _("Document generated")
    DOCUMENT_SAVED = "document.saved", _("Document saved")
    DOCUMENT_SENT = "document.sent", _("Document sent")
    SIGNATURE_REQUESTED = "signature.requested", _("Signature requested")
    SIGNATURE_VIEWED = "signature.viewed", _("Signer opened the document")
    SIGNATURE_SIGNED = "signature.signed", _("Signed")
    SIGNATURE_DECLINED = "signature.declined", _("Signature declined")
    SIGNATURE_EXPIRED = "signature.expired", _("Signature request expired")
    SIGNATURE_REMINDED = "signature.reminded", _("Signers reminded")
    SIGNATURE_CANCELED = "signature.canceled", _("Signature request canceled")
    SIGNATURE_WITHDRAW_FAILED = "signature.withdraw_failed", _("Signature request could not be withdrawn")
    TEMPLATE_VERSION_UPDATED = "template.version_updated", _("Template updated")
    TEMPLATE_DELETED = "template.deleted", _("Template deleted")
    CONNECTION_CREATED = "connection.created", _("Connection added")
    CONNECTION_REVOKED = "connection.revoked", _("Connection revoked")
    WORKFLOW_CREATED = "workflow.created", _("Workflow created")
    WORKFLOW_UPDATED = "workflow.updated", _("Workflow changed")
    WORKFLOW_DELETED = "workflow.deleted", _("Workflow deleted")
    WORKFLOW_ACTIVATED = "workflow.activated", _("Workflow activated")
    WORKFLOW_DEACTIVATED = "workflow.deactivated", _("Workflow deactivated")
    ORGANIZATION_CREATED = "organization.created", _("Organization created")
    ORGANIZATION_UPDATED = "organization.updated", _("Organization changed")
    MEMBER_INVITED = "member.invited", _("Member invited")
    MEMBER_JOINED = "member.joined", _("Member joined")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
