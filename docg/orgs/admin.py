from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from docg.common.admin_search import UUIDSearchMixin
from docg.orgs.models import ApiKey, BillingEvent, Invitation, Membership, Organization, PlanUsage, User


def _clean_unique_email(form: forms.ModelForm) -> str:
    # The manager lowercases emails; the admin must too, or "Bob@x.com" and
    # "bob@x.com" become two accounts that cannot both log in.
    email = form.cleaned_data["email"].strip().lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk and not form.instance._state.adding:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise forms.ValidationError("A user with this email address already exists.")
    return email


class UserCreationForm(AdminUserCreationForm):
    """Django's admin creation form (password, optional unusable password) keyed on email."""

    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        return _clean_unique_email(self)


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        return _clean_unique_email(self)


class MembershipOfOrganizationInline(admin.TabularInline):
    model = Membership
    fk_name = "organization"
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")


class MembershipOfUserInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organization", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("organization",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("organization")


@admin.register(Organization)
class OrganizationAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("name", "language", "plan", "member_count", "created_at")
    list_filter = ("plan", "language")
    search_fields = ("name", "id__exact")
    date_hierarchy = "created_at"
    # Billing fields follow Stripe (webhooks): edited there, shown here.
    readonly_fields = (
        "id",
        "stripe_customer_id",
        "stripe_subscription_id",
        "subscription_status",
        "current_period_end",
        "created_at",
        "updated_at",
    )
    fields = ("id", "name", "language", "plan", "settings", *readonly_fields[1:5], "created_at", "updated_at")
    inlines = (MembershipOfOrganizationInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        # One annotated query instead of a COUNT per row.
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj: Organization) -> int:
        return obj._member_count


@admin.register(User)
class UserAdmin(UUIDSearchMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "name", "is_active", "is_staff", "is_superuser", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_api_key", "groups")
    search_fields = ("email", "name", "id__exact")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    readonly_fields = ("id", "last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    inlines = (MembershipOfUserInline,)

    def get_inline_instances(self, request: HttpRequest, obj: User | None = None) -> list:
        # The add form stays minimal (email + password); memberships come after.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "user__name", "organization__name")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("id", "created_at")
    fields = ("id", "organization", "user", "role", "created_at")


@admin.register(BillingEvent)
class BillingEventAdmin(admin.ModelAdmin):
    """Stripe events docg has applied, read only: the record that makes a redelivery a no-op."""

    list_display = ("event_type", "stripe_event_id", "organization", "outcome", "received_at")
    list_filter = ("event_type",)
    list_select_related = ("organization",)
    search_fields = ("stripe_event_id", "organization__name")
    date_hierarchy = "received_at"
    fields = ("id", "stripe_event_id", "event_type", "organization", "outcome", "received_at")
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BillingEvent | None = None) -> bool:
        return False


@admin.register(PlanUsage)
class PlanUsageAdmin(admin.ModelAdmin):
    """Runs counted against each organization's monthly quota, read only: only starting runs moves them."""

    list_display = ("organization", "month", "runs")
    list_select_related = ("organization",)
    search_fields = ("organization__name",)
    date_hierarchy = "month"
    fields = ("organization", "month", "runs")
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PlanUsage | None = None) -> bool:
        return False


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Changed only through the dashboard and the API, whose services write the audit rows."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(_ReadOnlyAdmin):
    list_display = ("email", "organization", "role", "status", "created_at", "expires_at")
    list_filter = ("role",)
    list_select_related = ("organization",)
    search_fields = ("email", "organization__name")
    date_hierarchy = "created_at"
    # Never the token's hash: it is all a lookup needs.
    fields = (
        "id", "organization", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
        "accepted_by", "revoked_at",
    )  # fmt: skip
    readonly_fields = fields


@admin.register(ApiKey)
class ApiKeyAdmin(_ReadOnlyAdmin):
    list_display = ("name", "prefix", "organization", "role", "status", "last_used_at", "created_at")
    list_filter = ("role",)
    list_select_related = ("organization",)
    search_fields = ("name", "prefix", "organization__name")
    date_hierarchy = "created_at"
    # Never the hash.
    fields = (
        "id", "organization", "name", "prefix", "role", "user", "expires_at", "last_used_at", "revoked_at",
        "created_by", "created_at",
    )  # fmt: skip
    readonly_fields = fields
