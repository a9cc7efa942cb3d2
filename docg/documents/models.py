from django.conf import settings
from django.db import models

from docg.common.models import TenantModel
from docg.documents.choices import SignatureStatus, TemplateKind


def template_upload_to(instance: "Template", filename: str) -> str:
    return f"templates/{instance.organization_id}/{instance.pk}/v{instance.version}/{filename}"


def version_upload_to(instance: "TemplateVersion", filename: str) -> str:
    # The file is stored before its number is assigned (no storage I/O inside the transaction): keyed by id.
    return f"templates/{instance.organization_id}/{instance.template_id}/{instance.pk}/{filename}"


def document_upload_to(instance: "GeneratedDocument", filename: str) -> str:
    return f"documents/{instance.organization_id}/{instance.pk}/{filename}"


class Template(TenantModel):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=TemplateKind.choices)
    file = models.FileField(upload_to=template_upload_to, max_length=500, blank=True)
    # Google templates live in the provider; this is their file id.
    external_id = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    variables = models.JSONField(default=list, blank=True)
    lint_errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "kind", "-created_at"], name="template_org_kind_idx")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class TemplateVersion(TenantModel):
    """One uploaded file of a template; the template points at its newest one (file, version, variables)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_upload_to, max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    # Unique input names with their locations; every tag found (with what it reads and where).
    variables = models.JSONField(default=list, blank=True)
    placeholders = models.JSONField(default=list, blank=True)
    lint_errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"


class GeneratedDocument(TenantModel):
    execution = models.ForeignKey(
        "executions.WorkflowExecution", null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    node_key = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to=document_upload_to, max_length=500)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="document_org_created_idx")]

    def __str__(self) -> str:
        return self.name


class SignatureRequest(TenantModel):
    execution = models.ForeignKey(
        "executions.WorkflowExecution", on_delete=models.CASCADE, related_name="signature_requests"
    )
    document = models.ForeignKey(
        GeneratedDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="signature_requests"
    )
    provider = models.CharField(max_length=32)
    external_id = models.CharField(max_length=200, blank=True)
    envelope_id = models.CharField(max_length=200, blank=True)
    signer_name = models.CharField(max_length=200)
    signer_email = models.EmailField()
    status = models.CharField(max_length=10, choices=SignatureStatus.choices, default=SignatureStatus.PENDING)
    sign_url = models.URLField(max_length=1000, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    provider_data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["provider", "external_id"], name="signature_provider_ext_idx"),
            models.Index(fields=["organization", "status"], name="signature_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.signer_email} ({self.status})"
