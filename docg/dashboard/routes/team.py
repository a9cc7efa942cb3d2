"""Dashboard routes: members and invitations, API keys, new organization, accepting an invitation."""

from django.urls import path

from docg.dashboard.views import team

urlpatterns: list = [
    path("members/", team.members, name="members"),
    path("members/invite/", team.member_invite, name="member-invite"),
    path("members/<uuid:membership_id>/role/", team.member_role, name="member-role"),
    path("members/<uuid:membership_id>/remove/", team.member_delete, name="member-remove"),
    path("invitations/<uuid:invitation_id>/withdraw/", team.invitation_withdraw, name="invitation-withdraw"),
    path("invitations/<str:token>/", team.invitation_open, name="invitation-accept"),
    path("api-keys/", team.api_keys, name="api-keys"),
    path("api-keys/<uuid:key_id>/revoke/", team.api_key_delete, name="api-key-revoke"),
    path("organizations/new/", team.organization_new, name="organization-new"),
]
