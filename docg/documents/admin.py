from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from docg.common.admin_search import UUIDSearchMixin
from docg.common.errors import DocgError
from docg.documents import ooxml
from docg.documents.models import GeneratedDocument, SignatureRequest, Template, TemplateVersion
from docg.documents.services import template_add_version, template_analyse, template_create, template_delete


class TemplateAdminForm(forms.ModelForm):
    upload = forms.FileField(
        required=False, help_text="A .docx, .pptx or .xlsx. On an existing template it becomes the next version."
    )

    class Meta:
        model = Template
        fields = ["organization", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields["upload"].required = True

    def clean_upload(self):
        # The checks the service makes, run here so a refusal is a form error, not a 500.
        upload = self.cleaned_data.get("upload")
        if upload:
            try:
                package = ooxml.inspect(upload, upload.name or "")
                if not self.instance._state.adding and package.kind != self.instance.kind:
                    raise ValidationError(f"This template is a {self.instance.kind}: upload a .{self.instance.kind}.")
                template_analyse(upload=upload, kind=package.kind)
            except DocgError as exc:
                raise ValidationError(exc.message, code=exc.code)
        return upload


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ("number", "file", "size_bytes", "sha256", "lint_error_count", "created_by", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Lint errors")
    def lint_error_count(self, obj: TemplateVersion) -> int:
        return len(obj.lint_errors or [])

    def get_queryset(self, request: HttpRequest) -> QuerySet[TemplateVersion]:
        return super().get_queryset(request).select_related("created_by")

    def has_add_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(UUIDSearchMixin, admin.ModelAdmin):
    form = TemplateAdminForm
    inlines = [TemplateVersionInline]
    list_display = ("name", "kind", "version", "organization", "size", "lint_error_count", "created_by", "created_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("organization", "created_by")
    search_fields = ("name", "external_id", "organization__name", "^sha256", "id__exact")
    date_hierarchy = "created_at"
    # Files go through the template services (inspection, variables, lint, version, audit), never the form.
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

    def get_fields(self, request: HttpRequest, obj: Template | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("organization", "name", "upload")
        return ("id", "organization", "name", "upload", *self.readonly_fields[2:])

    def get_readonly_fields(self, request: HttpRequest, obj: Template | None = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request: HttpRequest, obj: Template | None) -> list:
        return self.inlines if obj is not None else []

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: Template) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="Lint errors")
    def lint_error_count(self, obj: Template) -> int:
        return len(obj.lint_errors or [])

    def save_model(self, request: HttpRequest, obj: Template, form: TemplateAdminForm, change: bool) -> None:
        upload = form.cleaned_data.get("upload")
        if not change:
            created = template_create(organization=obj.organization, by=request.user, name=obj.name, upload=upload)
            # The admin goes on with `obj` (log entry, redirect): make it the row the service wrote.
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False
            return
        super().save_model(request, obj, form, change)
        if upload:
            template_add_version(template=obj, by=request.user, upload=upload)
            obj.refresh_from_db()

    # Deleting goes through the service: it audits and removes the stored files after commit.
    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        template_delete(template=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            template_delete(template=template, by=request.user)


@admin.register(TemplateVersion)
class TemplateVersionAdmin(UUIDSearchMixin, admin.ModelAdmin):
    """A version is the file as it was uploaded: shown, never edited; it goes with its template."""

    list_display = ("template", "number", "organization", "size", "lint_error_count", "created_by", "created_at")
    list_filter = ("created_at",)
    list_select_related = ("template", "organization", "created_by")
    search_fields = ("template__name", "^sha256", "id__exact", "template__id__exact")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "template",
        "number",
        "file",
        "size_bytes",
        "sha256",
        "variables",
        "placeholders",
        "lint_errors",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: TemplateVersion) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="Lint errors")
    def lint_error_count(self, obj: TemplateVersion) -> int:
        return len(obj.lint_errors or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TemplateVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TemplateVersion | None = None) -> bool:
        return False


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(UUIDSearchMixin, admin.ModelAdmin):
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
class SignatureRequestAdmin(UUIDSearchMixin, admin.ModelAdmin):
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
