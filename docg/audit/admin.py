from django.contrib import admin
from django.http import HttpRequest

from docg.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Staff see every organization's trail, read only.

    The database refuses UPDATE and DELETE anyway; refusing them here too turns
    what would be a 500 into a read-only page and a 403.
    """

    list_display = ("action", "target", "actor", "organization", "sequence", "timestamp", "short_hash")
    list_filter = ("actor_type", "timestamp")
    list_select_related = ("organization",)
    search_fields = ("action", "target_type", "target_id", "actor_id", "organization__name", "^hash")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    # The table only grows: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
    actions = None
    fields = (
        "id",
        "organization",
        "sequence",
        "timestamp",
        "action",
        "actor_type",
        "actor_id",
        "target_type",
        "target_id",
        "event_metadata",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description="Target")
    def target(self, obj: AuditEvent) -> str:
        return f"{obj.target_type}:{obj.target_id}" if obj.target_type else "—"

    @admin.display(description="Actor", ordering="actor_type")
    def actor(self, obj: AuditEvent) -> str:
        return f"{obj.actor_type}:{obj.actor_id}" if obj.actor_id else obj.actor_type

    @admin.display(description="Hash")
    def short_hash(self, obj: AuditEvent) -> str:
        return (obj.hash or "(unsealed)")[:12]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
