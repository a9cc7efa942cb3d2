from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from docg.common.api.throttling import CREDENTIAL_THROTTLES
from docg.orgs.api.serializers import (
    OrganizationCreateInput,
    OrganizationOutput,
    OrganizationUpdateInput,
    RegisterInput,
    RegisterOutput,
    TokenObtainSerializer,
    TokenRefreshSerializer,
)
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.orgs.models import Organization
from docg.orgs.services import organization_create, organization_register, organization_update


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = CREDENTIAL_THROTTLES

    @extend_schema(request=RegisterInput, responses={201: RegisterOutput})
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, organization = organization_register(**data.validated_data)
        return Response(
            RegisterOutput({"user": user, "organization": organization}).data, status=status.HTTP_201_CREATED
        )


class TokenView(TokenObtainPairView):
    serializer_class = TokenObtainSerializer
    throttle_classes = CREDENTIAL_THROTTLES


class TokenRefresh(TokenRefreshView):
    serializer_class = TokenRefreshSerializer


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's organizations, each with the caller's role.

    Scoped by membership rather than by X-Organization-ID: this is how a client
    discovers which organizations it may choose. POST creates another one, owned by the caller.
    """

    serializer_class = OrganizationOutput
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        return (
            Organization.objects.filter(memberships__user=self.request.user)
            .annotate(role=F("memberships__role"))
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=OrganizationCreateInput, responses={201: OrganizationOutput})
    def create(self, request):
        if request.user.is_api_key:
            raise PermissionDenied("An API key acts for its own organization only.")
        data = OrganizationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = organization_create(owner=request.user, **data.validated_data)
        organization.role = Role.OWNER
        return Response(OrganizationOutput(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganizationUpdateInput, responses=OrganizationOutput)
    def partial_update(self, request, pk=None):
        organization = self.get_object()
        if organization.role not in MANAGER_ROLES:
            raise PermissionDenied("Only owners and admins can change the organization.")
        data = OrganizationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization_update(organization=organization, by=request.user, **data.validated_data)
        return Response(OrganizationOutput(self.get_object()).data)
