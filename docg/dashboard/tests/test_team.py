"""The members, API keys and new-organization pages, and the invitation link, through the test client."""

import re

import pytest
from django.core import mail

from docg.audit.models import AuditEvent
from docg.orgs.members import invitation_create
from docg.orgs.models import ApiKey, Invitation, Membership

pytestmark = pytest.mark.django_db


def test_owners_see_the_invite_form_and_viewers_only_the_list(client, cast):
    client.force_login(cast.alice)
    page = client.get("/members/").content.decode()
    assert "data-invite-form" in page and 'data-member="vera@example.com"' in page
    client.force_login(cast.vera)
    page = client.get("/members/").content.decode()
    assert "data-invite-form" not in page and 'data-member="alice@example.com"' in page
    assert 'data-action="change-role"' not in page
    assert client.get("/api-keys/").status_code == 404


def test_inviting_from_the_dashboard_sends_the_email(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/invite/", {"email": "dora@example.com", "role": "member"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert re.search(r"http://[^/]+/invitations/[\w-]+/", message.body)
    assert Invitation.objects.get().invited_by == cast.alice


def test_another_organizations_rows_are_404_and_untouched(client, cast):
    client.force_login(cast.alice)
    charlie = Membership.objects.get(user=cast.charlie)
    assert client.post(f"/members/{charlie.pk}/role/", {"role": "viewer"}).status_code == 404
    assert client.post(f"/members/{charlie.pk}/remove/").status_code == 404
    invitation, _token = invitation_create(organization=cast.globex, by=charlie, email="gil@example.com", role="member")
    assert client.post(f"/invitations/{invitation.pk}/withdraw/").status_code == 404
    charlie.refresh_from_db()
    assert charlie.role == "owner" and Invitation.objects.get().status == "pending"


def test_a_member_cannot_change_roles_or_make_keys(client, cast):
    client.force_login(cast.bob)
    vera = Membership.objects.get(user=cast.vera)
    assert client.post(f"/members/{vera.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post("/api-keys/", {"name": "Mine", "role": "member"}).status_code == 404
    assert not ApiKey.objects.exists()


def test_a_new_key_is_shown_once(client, cast):
    client.force_login(cast.alice)
    page = client.post("/api-keys/", {"name": "Zapier", "role": "member"}).content.decode()
    key = re.search(r"<code data-new-key>([^<]+)</code>", page).group(1)
    assert key.startswith(ApiKey.objects.get().prefix + ".")
    assert key not in client.get("/api-keys/").content.decode()
    row = AuditEvent.objects.get(action="api_key.created")
    assert row.actor_id == str(cast.alice.pk)


def test_someone_without_an_organization_can_create_one(client, cast):
    vera = Membership.objects.get(user=cast.vera)
    vera.delete()
    client.force_login(cast.vera)
    assert "data-new-organization" in client.get("/").content.decode()
    response = client.post("/organizations/new/", {"name": "Vera & Co"})
    assert response.status_code == 302
    assert Membership.objects.get(user=cast.vera).role == "owner"
    assert "Vera &amp; Co" in client.get("/").content.decode()


def test_an_unknown_invitation_link_is_a_404_page(client):
    response = client.get("/invitations/not-a-token/")
    assert response.status_code == 404 and 'data-invitation-error="invitation_not_found"' in response.content.decode()


def test_a_portuguese_organization_reads_the_page_and_sends_the_invitation_in_portuguese(
    client, cast, django_capture_on_commit_callbacks
):
    from django.conf import settings
    from django.utils import translation

    cast.acme.language = "pt-br"
    cast.acme.save(update_fields=["language"])
    client.force_login(cast.alice)
    try:
        page = client.get("/members/").content.decode()
        assert "Convidar alguém" in page and "Membros" in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/members/invite/", {"email": "dora@example.com", "role": "member"})
    finally:
        translation.activate(settings.LANGUAGE_CODE)
    (message,) = mail.outbox
    assert "convidou você" in message.subject and "Aceite o convite" in message.body


def test_an_owner_elsewhere_cannot_manage_members_here(client, cast):
    from docg.orgs.services import organization_create

    zeta = organization_create(name="Zeta", owner=cast.bob)  # bob is a member of Acme, owner of Zeta
    client.force_login(cast.bob)
    assert client.post("/organization/", {"organization": str(zeta.pk)}).status_code == 302
    vera = Membership.objects.get(organization=cast.acme, user=cast.vera)
    assert client.post(f"/members/{vera.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"/members/{vera.pk}/remove/").status_code == 404
    vera.refresh_from_db()
    assert vera.role == "viewer"
