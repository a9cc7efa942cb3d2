from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from docg.common.admin_search import UUIDSearchMixin
from docg.common.errors import DocgError
from docg.workflows.models import WebhookDelivery, Workflow, WorkflowDatastore, WorkflowNode, WorkflowVersion
from docg.workflows.services import workflow_activate, workflow_deactivate, workflow_delete


class _OwnedByWorkflowForm(forms.ModelForm):
    """Rows under a workflow take its organization; the form never asks for one."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # In an inline this is the parent being saved (possibly not in the database yet).
        workflow = cleaned.get("workflow")
        if workflow is not None:
            self.instance.organization_id = workflow.organization_id
        return cleaned


class WorkflowNodeForm(_OwnedByWorkflowForm):
    class Meta:
        model = WorkflowNode
        fields = (
            "workflow",
            "key",
            "kind",
            "app",
            "operation",
            "label",
            "order",
            "next_key",
            "branches",
            "else_key",
            "parameters",
            "connection",
            "position",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        workflow, connection = cleaned.get("workflow"), cleaned.get("connection")
        if workflow is not None and connection is not None and connection.organization_id != workflow.organization_id:
            self.add_error("connection", "This connection belongs to another organization.")
        return cleaned


class WorkflowDatastoreForm(_OwnedByWorkflowForm):
    class Meta:
        model = WorkflowDatastore
        fields = ("workflow", "key", "value")


class WorkflowNodeInline(admin.TabularInline):
    model = WorkflowNode
    form = WorkflowNodeForm
    extra = 0
    fields = ("order", "key", "kind", "app", "operation", "label", "next_key", "else_key", "connection")
    autocomplete_fields = ("connection",)
    ordering = ("order",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowNode]:
        return super().get_queryset(request).select_related("connection")


class WorkflowVersionInline(admin.TabularInline):
    """Frozen definitions: executions point at them, so they are never edited."""

    model = WorkflowVersion
    extra = 0
    fields = ("number", "created_by", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    show_change_link = True
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowVersion]:
        return super().get_queryset(request).select_related("created_by")

    def has_add_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("name", "organization", "status", "active_version_number", "created_by", "created_at")
    list_filter = ("status", "created_at")
    list_select_related = ("organization", "active_version", "created_by")
    search_fields = ("name", "id__exact", "organization__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("organization", "created_by")
    # Status and the active version change only through activate/deactivate (they audit).
    readonly_fields = ("id", "status", "active_version", "created_at", "updated_at")
    fields = (
        "id",
        "organization",
        "name",
        "description",
        "status",
        "active_version",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = (WorkflowNodeInline, WorkflowVersionInline)
    actions = ("activate_workflows", "deactivate_workflows")

    def get_readonly_fields(self, request: HttpRequest, obj: Workflow | None = None) -> tuple[str, ...]:
        # Nodes, versions and runs carry the workflow's organization; moving it would split the tenant.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "organization") if obj is not None else readonly

    def delete_model(self, request: HttpRequest, obj: Workflow) -> None:
        workflow_delete(workflow=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            workflow_delete(workflow=workflow, by=request.user)

    @admin.display(description="Active version", ordering="active_version__number")
    def active_version_number(self, obj: Workflow) -> str:
        return f"v{obj.active_version.number}" if obj.active_version else "—"

    @admin.action(description="Activate selected workflows (freeze a new version)")
    def activate_workflows(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            try:
                version = workflow_activate(workflow=workflow, by=request.user)
            except DocgError as exc:
                self.message_user(request, f"{workflow}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{workflow}: version {version.number} is active.", messages.SUCCESS)

    @admin.action(description="Deactivate selected workflows")
    def deactivate_workflows(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            workflow_deactivate(workflow=workflow, by=request.user)
        self.message_user(request, f"{queryset.count()} workflow(s) deactivated.", messages.SUCCESS)


@admin.register(WorkflowNode)
class WorkflowNodeAdmin(UUIDSearchMixin, admin.ModelAdmin):
    form = WorkflowNodeForm
    list_display = ("key", "workflow", "kind", "app", "operation", "order", "organization", "connection")
    list_filter = ("kind", "app")
    list_select_related = ("workflow", "organization", "connection")
    search_fields = ("key", "label", "app", "operation", "workflow__name", "workflow__id__exact")
    autocomplete_fields = ("workflow", "connection")
    readonly_fields = ("id", "organization", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "organization", "workflow", "key", "kind", "app", "operation", "label", "order")}),
        ("Flow", {"fields": ("next_key", "branches", "else_key")}),
        ("Configuration", {"fields": ("parameters", "connection", "position")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("workflow", "number", "organization", "created_by", "created_at")
    list_select_related = ("workflow", "organization", "created_by")
    search_fields = ("workflow__name", "workflow__id__exact", "id__exact")
    date_hierarchy = "created_at"
    fields = ("id", "organization", "workflow", "number", "definition", "created_by", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkflowVersion | None = None) -> bool:
        return False


@admin.register(WorkflowDatastore)
class WorkflowDatastoreAdmin(UUIDSearchMixin, admin.ModelAdmin):
    form = WorkflowDatastoreForm
    list_display = ("key", "workflow", "organization", "updated_at")
    list_select_related = ("workflow", "organization")
    search_fields = ("key", "workflow__name", "workflow__id__exact")
    autocomplete_fields = ("workflow",)
    readonly_fields = ("id", "organization", "created_at", "updated_at")
    fields = ("id", "organization", "workflow", "key", "value", "created_at", "updated_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("idempotency_key", "workflow", "execution", "organization", "created_at")
    list_select_related = ("workflow", "execution", "organization")
    search_fields = ("idempotency_key", "workflow__name", "workflow__id__exact")
    date_hierarchy = "created_at"
    fields = ("id", "organization", "workflow", "idempotency_key", "execution", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False
