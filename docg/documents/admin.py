from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from docg.documents.models import GeneratedDocument, SignatureRequest, Template
from docg.documents.services import template_delete


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "version", "organization", "size", "lint_error_count", "created_by", "created_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("organization", "created_by")
    search_fields = ("name", "external_id", "organization__name", "^sha256", "id__exact")
    date_hierarchy = "created_at"
    # Uploads go through the template service (hash, variables, lint, version bump, audit).
    readonly_fields = (
        "id",
        "organization",
        "kind",
        "file",
        "external_id",
        "version",
        "size_bytes",
        "sha256",
        "variables",
        "lint_errors",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = ("id", "organization", "name", *readonly_fields[2:])

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: Template) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="Lint errors")
    def lint_error_count(self, obj: Template) -> int:
        return len(obj.lint_errors or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Deleting goes through the service: it audits and removes the stored file after commit.
    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        template_delete(template=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            template_delete(template=template, by=request.user)


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(admin.ModelAdmin):
    """A produced file is evidence of a run: shown, never edited."""

    list_display = ("name", "content_type", "size", "execution", "template", "organization", "created_at")
    list_filter = ("content_type", "created_at")
    list_select_related = ("execution", "template", "organization")
    search_fields = ("name", "node_key", "^sha256", "id__exact", "execution__id__exact")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "execution",
        "node_key",
        "template",
        "name",
        "file",
        "content_type",
        "size_bytes",
        "sha256",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: GeneratedDocument) -> str:
        return filesizeformat(obj.size_bytes)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: GeneratedDocument | None = None) -> bool:
        return False


@admin.register(SignatureRequest)
class SignatureRequestAdmin(admin.ModelAdmin):
    """Status follows the provider's webhooks; `sign_url` is the signer's bearer link and stays hidden."""

    list_display = ("signer_email", "signer_name", "provider", "status", "execution", "organization", "signed_at")
    list_filter = ("provider", "status", "created_at")
    list_select_related = ("execution", "organization")
    search_fields = ("signer_email", "signer_name", "external_id", "envelope_id", "id__exact", "execution__id__exact")
    date_hierarchy = "created_at"
    exclude = ("sign_url",)
    fields = (
        "id",
        "organization",
        "execution",
        "document",
        "provider",
        "external_id",
        "envelope_id",
        "signer_name",
        "signer_email",
        "status",
        "signed_at",
        "provider_data",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SignatureRequest | None = None) -> bool:
        return False
