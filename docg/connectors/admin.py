from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from docg.common.admin_search import UUIDSearchMixin
from docg.connectors.models import DataSourceConnection
from docg.connectors.services import connection_revoke, connection_update


@admin.register(DataSourceConnection)
class DataSourceConnectionAdmin(UUIDSearchMixin, admin.ModelAdmin):
    """Credentials are never shown, edited or even decrypted here."""

    list_display = ("name", "provider", "status", "organization", "expires_at", "last_checked_at", "created_at")
    list_filter = ("provider", "status")
    list_select_related = ("organization",)
    search_fields = ("name", "provider", "organization__name", "id__exact")
    date_hierarchy = "created_at"
    exclude = ("credentials",)
    # Connecting (OAuth, key checks) happens in the app; staff can rename a connection,
    # fix its non-secret config, or revoke it (an audited service call).
    readonly_fields = (
        "id",
        "organization",
        "provider",
        "status",
        "scopes",
        "expires_at",
        "last_checked_at",
        "last_error",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = (
        "id",
        "organization",
        "provider",
        "name",
        "status",
        "config",
        "scopes",
        "expires_at",
        "last_checked_at",
        "last_error",
        "created_by",
        "created_at",
        "updated_at",
    )
    actions = ("revoke_connections",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataSourceConnection]:
        # Deferred, the token is never decrypted; saving a deferred instance
        # writes only the loaded fields, so it is never rewritten either.
        return super().get_queryset(request).defer("credentials")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: DataSourceConnection, form, change: bool) -> None:
        connection_update(connection=obj, by=request.user, name=obj.name, config=obj.config)

    @admin.action(description="Revoke selected connections (forget their credentials)")
    def revoke_connections(self, request: HttpRequest, queryset: QuerySet[DataSourceConnection]) -> None:
        for connection in queryset:
            connection_revoke(connection=connection, by=request.user)
        self.message_user(request, f"{queryset.count()} connection(s) revoked.", messages.SUCCESS)
