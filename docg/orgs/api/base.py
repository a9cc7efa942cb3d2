"""The one base class that scopes API views to the caller's organization.

Concrete viewsets declare `base_queryset`; this class filters it by the request's
organization (worked out by docg.orgs.tenancy). Overriding `get_queryset` or setting
`queryset` is refused when the class is defined, so no view can forget (or skip) the scoping.
"""

from django.db.models import QuerySet
from rest_framework import permissions, viewsets
from rest_framework.exceptions import PermissionDenied

from docg.orgs import tenancy
from docg.orgs.choices import WRITER_ROLES


class TenantViewSet(viewsets.GenericViewSet):
    base_queryset: QuerySet
    permission_classes = [permissions.IsAuthenticated]
    # Roles allowed to call unsafe methods; viewers only read.
    write_roles = WRITER_ROLES
    # Per-action overrides, e.g. {"destroy": MANAGER_ROLES}.
    action_roles: dict[str, frozenset] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for forbidden in ("get_queryset", "queryset"):
            if forbidden in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} defines {forbidden}: declare base_queryset and let TenantViewSet scope it."
                )

    def check_permissions(self, request):
        super().check_permissions(request)
        membership = tenancy.request_bind(request, tenancy.membership_for_request(request))
        roles = self.action_roles.get(self.action)
        if roles is None and request.method not in permissions.SAFE_METHODS:
            roles = self.write_roles
        if roles is not None and not tenancy.role_allows(membership, roles):
            raise PermissionDenied(f"Your role ({membership.role}) cannot do this here.")

    def get_queryset(self) -> QuerySet:
        queryset = self.base_queryset.all()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(organization=self.request.organization)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["organization"] = getattr(self.request, "organization", None)
        return context
