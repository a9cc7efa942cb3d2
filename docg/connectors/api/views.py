import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from docg.connectors import health, registry, services
from docg.connectors.api.serializers import (
    AppOutput,
    ConnectionInput,
    ConnectionOutput,
    ConnectionTestOutput,
    ConnectionUpdateInput,
)
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import MANAGER_ROLES, WRITER_ROLES


class ConnectionFilter(django_filters.FilterSet):
    provider = django_filters.ChoiceFilter(choices=Provider.choices)
    status = django_filters.ChoiceFilter(choices=ConnectionStatus.choices)

    class Meta:
        model = DataSourceConnection
        fields = ["provider", "status"]


class ConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = DataSourceConnection.objects.all()
    serializer_class = ConnectionOutput
    filterset_class = ConnectionFilter
    # Credentials are the organization's keys: only owners and admins handle them.
    write_roles = MANAGER_ROLES
    # Testing changes no credential: any writer may ask whether a connection still works.
    action_roles = {"test": WRITER_ROLES}

    @extend_schema(request=ConnectionInput, responses={201: ConnectionOutput})
    def create(self, request):
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_create(
            organization=request.organization, by=request.user, **data.validated_data
        )
        return Response(ConnectionOutput(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConnectionUpdateInput, responses=ConnectionOutput)
    def partial_update(self, request, pk=None):
        connection = self.get_object()
        data = ConnectionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_update(connection=connection, by=request.user, **data.validated_data)
        return Response(ConnectionOutput(connection).data)

    @extend_schema(request=None, responses=ConnectionTestOutput)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Check the credential against the provider; a refused one marks the connection expired."""
        connection = self.get_object()
        result = health.connection_test(connection=connection, by=request.user)
        connection.refresh_from_db(fields=["last_checked_at", "status"])
        body = {
            "ok": result.ok,
            "code": result.code,
            "message": result.message,
            "checked_at": connection.last_checked_at,
            "status": connection.status,
        }
        return Response(ConnectionTestOutput(body).data)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        services.connection_revoke(connection=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppViewSet(viewsets.ViewSet):
    """Connector metadata: the same for every organization, so not tenant-scoped."""

    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "slug"

    @extend_schema(responses=AppOutput(many=True))
    def list(self, request):
        return Response([app.as_dict() for app in registry.all_apps()])

    @extend_schema(responses=AppOutput, parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)])
    def retrieve(self, request, slug=None):
        app = registry.get_app(slug or "")
        if app is None:
            raise NotFound(f"There is no app {slug!r}.")
        return Response(app.as_dict())
