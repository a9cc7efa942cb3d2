"""Teams through the API: invitations (email, expiry, single use, other addresses), members, new organizations."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from docg.audit.models import AuditEvent
from docg.orgs.choices import Role
from docg.orgs.members import invitation_create
from docg.orgs.models import Invitation, Membership, User
from tests.fixtures.cast import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db


def invite(client, email, role="member"):
    return client.post("/api/v1/invitations", {"email": email, "role": role}, format="json")


def token_from_mail(message) -> str:
    return re.search(r"/invitations/([\w-]+)/", message.body).group(1)


def alice_invites(cast, email, role=Role.MEMBER) -> str:
    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    return invitation_create(organization=cast.acme, by=owner, email=email, role=role)[1]


def test_an_owner_invites_by_email_and_the_new_person_creates_their_account(
    cast, alice_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(alice_api, "Dora@Example.com", "admin")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending" and response.json()["email"] == "dora@example.com"
    assert "token" not in response.json()
    (message,) = mail.outbox
    assert message.to == ["dora@example.com"] and "Acme" in message.subject
    token = token_from_mail(message)

    accepted = APIClient().post(
        "/api/v1/invitations/accept", {"token": token, "name": "Dora", "password": PASSWORD}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["account_created"] is True and accepted.json()["role"] == "admin"
    dora = User.objects.get(email="dora@example.com")
    assert dora.check_password(PASSWORD)
    assert Membership.objects.get(user=dora).organization == cast.acme
    actions = list(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert "member.invited" in actions and "member.joined" in actions


def test_an_existing_user_of_another_organization_is_added_and_sees_only_what_acme_shares(cast):
    token = alice_invites(cast, "charlie@example.com")
    response = APIClient().post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["account_created"] is False
    assert set(Membership.objects.filter(user=cast.charlie).values_list("organization__name", flat=True)) == {
        "Acme",
        "Globex",
    }
    # Now in two organizations, charlie names the one he acts for; Acme's members cannot see Globex.
    assert api_client_for(cast.charlie).get("/api/v1/members").status_code == 400
    globex_members = api_client_for(cast.alice, cast.globex).get("/api/v1/members")
    assert globex_members.status_code == 404


def test_an_invitation_is_used_once(cast):
    token = alice_invites(cast, "dora@example.com")
    body = {"token": token, "name": "Dora", "password": PASSWORD}
    assert APIClient().post("/api/v1/invitations/accept", body, format="json").status_code == 200
    again = APIClient().post("/api/v1/invitations/accept", body, format="json")
    assert again.status_code == 410 and again.json()["error"]["code"] == "invitation_used"


def test_an_expired_invitation_is_refused(cast):
    token = alice_invites(cast, "dora@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = APIClient().post(
        "/api/v1/invitations/accept", {"token": token, "name": "Dora", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 410 and response.json()["error"]["code"] == "invitation_expired"
    assert not User.objects.filter(email="dora@example.com").exists()


def test_invitations_last_seven_days(cast):
    alice_invites(cast, "dora@example.com")
    invitation = Invitation.objects.get()
    assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)


def test_an_invitation_for_another_address_is_refused_to_a_signed_in_user(cast):
    token = alice_invites(cast, "charlie@example.com")
    response = api_client_for(cast.bob).post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "invitation_other_email"
    assert not Membership.objects.filter(organization=cast.acme, user=cast.charlie).exists()


def test_a_new_invitation_replaces_the_pending_one_and_a_withdrawn_one_stops_working(cast, alice_api):
    first = alice_invites(cast, "dora@example.com")
    second = alice_invites(cast, "dora@example.com")
    response = APIClient().post("/api/v1/invitations/accept", {"token": first}, format="json")
    assert response.json()["error"]["code"] == "invitation_revoked"
    pending = Invitation.objects.get(revoked_at__isnull=True)
    assert alice_api.delete(f"/api/v1/invitations/{pending.pk}").status_code == 204
    response = APIClient().post("/api/v1/invitations/accept", {"token": second}, format="json")
    assert response.status_code == 410
    assert APIClient().post("/api/v1/invitations/accept", {"token": "nope"}, format="json").status_code == 404


def test_members_and_viewers_cannot_invite_and_admins_cannot_invite_owners(cast, vera_api):
    assert invite(api_client_for(cast.bob), "dora@example.com").status_code == 403
    assert invite(vera_api, "dora@example.com").status_code == 403
    Membership.objects.filter(user=cast.bob).update(role=Role.ADMIN)
    assert invite(api_client_for(cast.bob), "dora@example.com", "owner").status_code == 403
    assert invite(api_client_for(cast.bob), "dora@example.com", "admin").status_code == 201


def test_inviting_a_member_again_is_refused(cast, alice_api):
    response = invite(alice_api, "bob@example.com")
    assert response.status_code == 400 and response.json()["error"]["code"] == "already_member"


def test_members_list_change_role_and_remove(cast, alice_api):
    listed = alice_api.get("/api/v1/members").json()["results"]
    assert {m["user"]["email"]: m["role"] for m in listed} == {
        "alice@example.com": "owner",
        "bob@example.com": "member",
        "vera@example.com": "viewer",
    }
    bob = Membership.objects.get(user=cast.bob)
    changed = alice_api.patch(f"/api/v1/members/{bob.pk}", {"role": "admin"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "admin"
    vera = Membership.objects.get(user=cast.vera)
    assert alice_api.delete(f"/api/v1/members/{vera.pk}").status_code == 204
    assert not Membership.objects.filter(pk=vera.pk).exists()
    actions = set(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert {"member.role_changed", "member.removed"} <= actions


def test_the_last_owner_cannot_be_removed_or_demoted(cast, alice_api):
    alice = Membership.objects.get(user=cast.alice, organization=cast.acme)
    response = alice_api.delete(f"/api/v1/members/{alice.pk}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "last_owner"
    response = alice_api.patch(f"/api/v1/members/{alice.pk}", {"role": "admin"}, format="json")
    assert response.status_code == 409
    bob = Membership.objects.get(user=cast.bob)
    alice_api.patch(f"/api/v1/members/{bob.pk}", {"role": "owner"}, format="json")
    assert alice_api.delete(f"/api/v1/members/{alice.pk}").status_code == 204


def test_an_admin_cannot_touch_an_owner_and_a_member_cannot_change_roles(cast):
    Membership.objects.filter(user=cast.bob).update(role=Role.ADMIN)
    alice = Membership.objects.get(user=cast.alice, organization=cast.acme)
    assert (
        api_client_for(cast.bob).patch(f"/api/v1/members/{alice.pk}", {"role": "viewer"}, format="json").status_code
        == 403
    )
    assert api_client_for(cast.bob).delete(f"/api/v1/members/{alice.pk}").status_code == 403
    bob = Membership.objects.get(user=cast.bob)
    assert (
        api_client_for(cast.vera).patch(f"/api/v1/members/{bob.pk}", {"role": "viewer"}, format="json").status_code
        == 403
    )


def test_a_member_may_leave(cast):
    vera = Membership.objects.get(user=cast.vera)
    assert api_client_for(cast.vera).delete(f"/api/v1/members/{vera.pk}").status_code == 204


def test_another_organizations_members_and_invitations_are_404(cast, alice_api):
    charlie = Membership.objects.get(user=cast.charlie)
    assert alice_api.get(f"/api/v1/members/{charlie.pk}").status_code == 404
    assert alice_api.patch(f"/api/v1/members/{charlie.pk}", {"role": "viewer"}, format="json").status_code == 404
    assert alice_api.delete(f"/api/v1/members/{charlie.pk}").status_code == 404
    globex_owner = Membership.objects.get(user=cast.charlie)
    invitation = invitation_create(organization=cast.globex, by=globex_owner, email="gil@example.com", role="member")[0]
    assert alice_api.delete(f"/api/v1/invitations/{invitation.pk}").status_code == 404
    assert all(i["id"] != str(invitation.pk) for i in alice_api.get("/api/v1/invitations").json()["results"])


def test_a_user_creates_another_organization_and_switches_to_it(cast, alice_api):
    response = alice_api.post("/api/v1/organizations", {"name": "Acme Labs"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "owner"
    labs = response.json()["id"]
    names = {o["name"] for o in alice_api.get("/api/v1/organizations").json()["results"]}
    assert names == {"Acme", "Acme Labs"}
    members = alice_api.get("/api/v1/members", HTTP_X_ORGANIZATION_ID=labs).json()["results"]
    assert [m["user"]["email"] for m in members] == ["alice@example.com"]
    assert AuditEvent.objects.filter(organization_id=labs, action="organization.created").exists()


def test_a_weak_password_is_refused_with_the_reasons(cast):
    token = alice_invites(cast, "dora@example.com")
    response = APIClient().post(
        "/api/v1/invitations/accept", {"token": token, "name": "Dora", "password": "123"}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_password"
    assert response.json()["error"]["details"]["password"]
    assert Invitation.objects.get().status == "pending"


def test_without_an_account_the_name_and_password_are_asked_for(cast):
    token = alice_invites(cast, "dora@example.com")
    response = APIClient().post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "account_details_required"


def test_accepting_and_sending_invitations_are_throttled(cast, alice_api, settings, monkeypatch):
    import uuid

    from rest_framework.throttling import SimpleRateThrottle

    settings.AUTH_THROTTLE_RATES = {"credentials_ip": "100/minute", "credentials_account": "3/minute"}
    # Counts live in the shared cache: this test counts under keys of its own.
    monkeypatch.setattr(SimpleRateThrottle, "cache_format", f"throttle_{uuid.uuid4().hex}_%(scope)s_%(ident)s")
    token = alice_invites(cast, "dora@example.com")
    codes = [
        APIClient().post("/api/v1/invitations/accept", {"token": token, "password": "x"}, format="json").status_code
        for _ in range(5)
    ]
    assert codes[:3] == [400] * 3 and codes[3:] == [429, 429]
    sent = [invite(alice_api, "erin@example.com").status_code for _ in range(5)]
    assert sent[-1] == 429
