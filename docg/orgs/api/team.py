"""Teams over the API: members (list, change role, remove), invitations (invite, list, withdraw, accept).

Sending an invitation and accepting one (which may create an account) are throttled like the
token and register routes (docg.common.api.throttling).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from docg.common.api.serializers import StrictInput
from docg.common.api.throttling import CREDENTIAL_THROTTLES
from docg.orgs.api.base import TenantViewSet
from docg.orgs.api.fields import PersonField
from docg.orgs.api.serializers import OrganizationBrief, UserOutput
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.orgs.members import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    member_remove,
    member_role_change,
)
from docg.orgs.models import Invitation, Membership

EVERY_ROLE = frozenset(Role)


class MemberOutput(serializers.ModelSerializer):
    user = UserOutput()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class MemberUpdateInput(StrictInput):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutput(serializers.ModelSerializer):
    invited_by = PersonField(default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at"]


class InvitationInput(StrictInput):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class InvitationAcceptInput(StrictInput):
    token = serializers.CharField(max_length=200)
    # Only when the invited address has no account yet.
    name = serializers.CharField(max_length=200, required=False, default="")
    password = serializers.CharField(max_length=128, required=False, default="", write_only=True, trim_whitespace=False)


class InvitationAcceptOutput(serializers.Serializer):
    organization = OrganizationBrief()
    role = serializers.CharField()
    user = UserOutput()
    account_created = serializers.BooleanField()


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The organization's people and their roles. Owners and admins change roles; anyone may leave."""

    base_queryset = Membership.objects.filter(user__is_api_key=False).select_related("user")
    serializer_class = MemberOutput
    action_roles = {"partial_update": MANAGER_ROLES, "destroy": EVERY_ROLE}

    @extend_schema(request=MemberUpdateInput, responses=MemberOutput)
    def partial_update(self, request, pk=None):
        membership = self.get_object()  # a foreign id is a 404 before the body is looked at
        data = MemberUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_role_change(membership=membership, by=request.membership, **data.validated_data)
        return Response(MemberOutput(membership).data)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        member_remove(membership=self.get_object(), by=request.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Invitations by email (owners and admins): valid 7 days, used once; DELETE withdraws one."""

    base_queryset = Invitation.objects.select_related("invited_by")
    serializer_class = InvitationOutput
    action_roles = dict.fromkeys(("list", "retrieve", "create", "destroy"), MANAGER_ROLES)

    def get_throttles(self):
        # Each invitation sends an email: slowed per client and per invited address.
        if self.action == "create":
            return [throttle() for throttle in CREDENTIAL_THROTTLES]
        return super().get_throttles()

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput})
    def create(self, request):
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = invitation_create(
            organization=request.organization, by=request.membership, **data.validated_data
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        invitation_revoke(invitation=self.get_object(), by=request.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    """Use the token from the invitation email: joins the organization, creating the account if needed.

    Anonymous callers may accept (the token proves the address); a signed-in caller must be the
    invited address.
    """

    permission_classes = [permissions.AllowAny]
    throttle_classes = CREDENTIAL_THROTTLES

    @extend_schema(request=InvitationAcceptInput, responses={200: InvitationAcceptOutput})
    def post(self, request):
        data = InvitationAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership, created = invitation_accept(user=request.user, **data.validated_data)
        body = {
            "organization": membership.organization,
            "role": membership.role,
            "user": membership.user,
            "account_created": created,
        }
        return Response(InvitationAcceptOutput(body).data)
