"""Executions are shown, never edited: run state moves only through docg.executions.state."""

from django.contrib import admin
from django.http import HttpRequest

from docg.common.admin_search import UUIDSearchMixin
from docg.executions.models import (
    ExecutionLog,
    ExecutionStep,
    OutboxMessage,
    StartRequest,
    StepMemory,
    WorkerHeartbeat,
    WorkflowApproval,
    WorkflowExecution,
)
from docg.executions.volume_models import (
    BulkOperation,
    BulkOperationItem,
    DeliveryAttempt,
    EventDelivery,
    EventSubscription,
    RetentionPolicy,
)


def _all_fields(model) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields)


class _ViewOnlyMixin:
    """Staff may look; a saved admin form would bypass the state machine and its audit rows."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ExecutionStepInline(_ViewOnlyMixin, admin.TabularInline):
    model = ExecutionStep
    extra = 0
    fields = (
        "index",
        "node_key",
        "attempt",
        "status",
        "error_code",
        "started_at",
        "finished_at",
        "duration_ms",
    )
    readonly_fields = fields
    ordering = ("index", "attempt")
    show_change_link = True
    can_delete = False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WorkflowExecution)
class WorkflowExecutionAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "workflow",
        "organization",
        "status",
        "progress",
        "dry_run",
        "created_at",
        "started_at",
        "completed_at",
    )
    list_filter = ("status", "dry_run", "created_at")
    list_select_related = ("workflow", "organization")
    search_fields = ("id__exact", "correlation_id__exact", "workflow__name", "organization__name", "last_error_code")
    date_hierarchy = "created_at"
    readonly_fields = _all_fields(WorkflowExecution)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "organization",
                    "workflow",
                    "workflow_version",
                    "status",
                    "progress",
                    "current_step",
                    "correlation_id",
                    "triggered_by",
                    "parent_execution",
                    "dry_run",
                    "until_phase",
                )
            },
        ),
        ("Errors", {"fields": ("last_error_code", "last_error_human", "last_error_tech")}),
        (
            "State",
            {
                "fields": (
                    "preflight_summary",
                    "delivery_state",
                    "signature_state",
                    "recommended_actions",
                    "phase_metrics",
                    "trigger_data",
                )
            },
        ),
        ("Timestamps", {"fields": ("created_at", "updated_at", "started_at", "completed_at")}),
    )
    inlines = (ExecutionStepInline,)


@admin.register(ExecutionStep)
class ExecutionStepAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("node_key", "index", "attempt", "status", "execution", "organization", "started_at", "duration_ms")
    list_filter = ("status", "started_at")
    list_select_related = ("execution", "organization")
    search_fields = ("node_key", "error_code", "id__exact", "execution__id__exact")
    date_hierarchy = "created_at"
    readonly_fields = _all_fields(ExecutionStep)
    fieldsets = (
        (None, {"fields": ("id", "organization", "execution", "node_key", "index", "attempt", "status")}),
        ("Data", {"fields": ("data_in", "data_out")}),
        ("Error", {"fields": ("error_code", "error_human", "error_tech")}),
        (
            "Timing",
            {"fields": ("started_at", "finished_at", "duration_ms", "lease_expires_at", "created_at", "updated_at")},
        ),
    )


@admin.register(ExecutionLog)
class ExecutionLogAdmin(UUIDSearchMixin, admin.ModelAdmin):
    """Logs are a record, strictly read-only: no add, no change, no delete, no actions."""

    list_display = ("timestamp", "level", "domain", "short_message", "execution", "step", "organization")
    list_filter = ("level", "domain", "timestamp")
    list_select_related = ("execution", "step", "organization")
    search_fields = ("message_human", "execution__id__exact", "correlation_id__exact")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    # Logs are the largest table: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
    actions = None
    readonly_fields = _all_fields(ExecutionLog)
    fields = (
        "id",
        "organization",
        "execution",
        "step",
        "timestamp",
        "level",
        "domain",
        "message_human",
        "details_tech",
        "correlation_id",
        "created_at",
    )

    @admin.display(description="Message")
    def short_message(self, obj: ExecutionLog) -> str:
        text = obj.message_human
        return text if len(text) <= 100 else f"{text[:99]}…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExecutionLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExecutionLog | None = None) -> bool:
        return False


@admin.register(WorkflowApproval)
class WorkflowApprovalAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    """Decisions resume or stop a run, so they go through the approval service, not this form."""

    list_display = ("node_key", "status", "execution", "organization", "decided_by", "decided_at", "created_at")
    list_filter = ("status", "created_at")
    list_select_related = ("execution", "organization", "decided_by")
    search_fields = ("node_key", "id__exact", "execution__id__exact", "decided_by__email")
    date_hierarchy = "created_at"
    readonly_fields = _all_fields(WorkflowApproval)
    fields = (
        "id",
        "organization",
        "execution",
        "step",
        "node_key",
        "status",
        "message",
        "approvers",
        "decided_by",
        "decided_at",
        "comment",
        "created_at",
        "updated_at",
    )


class _ReadOnlyAdmin(_ViewOnlyMixin, admin.ModelAdmin):
    """The engine's own bookkeeping: staff may look (is a worker beating? is a send waiting?), never edit."""

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnlyAdmin):
    list_display = ("id", "queue", "object_id", "due_at")
    list_filter = ("queue",)
    search_fields = ("object_id",)
    readonly_fields = _all_fields(OutboxMessage)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(UUIDSearchMixin, _ReadOnlyAdmin):
    list_display = ("id", "hostname", "pid", "started_at", "beat_at")
    search_fields = ("hostname", "id__exact")
    readonly_fields = _all_fields(WorkerHeartbeat)


@admin.register(StartRequest)
class StartRequestAdmin(UUIDSearchMixin, _ReadOnlyAdmin):
    list_display = ("key", "organization", "execution", "status_code", "created_at")
    list_select_related = ("organization",)
    search_fields = ("key", "execution__id__exact")
    readonly_fields = _all_fields(StartRequest)


@admin.register(StepMemory)
class StepMemoryAdmin(UUIDSearchMixin, _ReadOnlyAdmin):
    """What a step remembered of its effects at a provider (a HubSpot note's id): shown, never edited."""

    list_display = ("execution", "node_key", "organization")
    list_select_related = ("organization",)
    search_fields = ("node_key", "execution__id__exact")
    readonly_fields = _all_fields(StepMemory)


# --- operating at volume: bulk operations, event subscriptions, retention ---------------------------------


@admin.register(BulkOperation)
class BulkOperationAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    """Bulk retries and cancels, read only: they move only through docg.executions.bulk (and its audit rows)."""

    list_display = ("id", "organization", "action", "status", "total", "done", "failed", "canceled", "created_at")
    list_filter = ("action", "status")
    list_select_related = ("organization",)
    search_fields = ("id", "organization__name")
    readonly_fields = _all_fields(BulkOperation)


@admin.register(BulkOperationItem)
class BulkOperationItemAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "operation", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("id",)
    readonly_fields = _all_fields(BulkOperationItem)


@admin.register(EventSubscription)
class EventSubscriptionAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    """Outgoing webhooks, read only: owners manage them in the dashboard and the API, where changes are audited."""

    list_display = ("url", "organization", "is_active", "failing_since", "disabled_at", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("organization",)
    search_fields = ("url", "organization__name")
    readonly_fields = _all_fields(EventSubscription)


@admin.register(EventDelivery)
class EventDeliveryAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("event_type", "subscription", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "id")
    readonly_fields = _all_fields(EventDelivery)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(UUIDSearchMixin, _ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("delivery", "number", "status_code", "latency_ms", "created_at")
    search_fields = ("id",)
    readonly_fields = _all_fields(DeliveryAttempt)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(_ViewOnlyMixin, admin.ModelAdmin):
    """Each organization's retention, read only: owners set it in the dashboard or the API (audited)."""

    list_display = ("organization", "run_days", "document_days", "updated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__name",)
    readonly_fields = _all_fields(RetentionPolicy)
