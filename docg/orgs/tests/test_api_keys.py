"""API keys: shown once, hashed, organization from the key, role enforced, revocable, expiring, audited by name."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from docg.audit.models import AuditEvent
from docg.orgs.api_keys import PRINCIPAL_EMAIL_DOMAIN, api_key_create
from docg.orgs.models import ApiKey, Membership
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def make_key(cast, role="member", name="Zapier", **extra) -> str:
    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    return api_key_create(organization=cast.acme, by=owner, name=name, role=role, **extra)[1]


def test_a_key_is_shown_once_and_only_its_prefix_afterwards(cast, alice_api):
    response = alice_api.post("/api/v1/api-keys", {"name": "Zapier", "role": "member"}, format="json")
    assert response.status_code == 201, response.json()
    key = response.json()["key"]
    assert key.startswith(response.json()["prefix"] + ".")
    listed = alice_api.get("/api/v1/api-keys").json()["results"]
    assert [k["name"] for k in listed] == ["Zapier"] and "key" not in listed[0]
    stored = ApiKey.objects.get()
    assert key not in stored.hashed_key and stored.hashed_key.startswith("sha512$$")


def test_the_organization_comes_from_the_key_and_writes_are_audited_by_its_name(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    key = make_key(cast, role="admin")
    client = key_client(key)
    orgs = client.get("/api/v1/organizations").json()["results"]
    assert [o["name"] for o in orgs] == ["Acme"]
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/invitations", {"email": "dora@example.com"}, format="json")
    assert created.status_code == 201, created.json()
    row = AuditEvent.objects.get(action="member.invited")
    assert (row.actor_type, row.actor_id) == ("api_key", "Zapier")
    # Whoever reads the invitation sees the key's name, not its principal's placeholder address.
    [invitation] = api_client_for(cast.alice).get("/api/v1/invitations").json()["results"]
    assert invitation["invited_by"] == "API key: Zapier"
    [mail] = mailoutbox
    assert mail.subject.startswith("API key: Zapier invited you") and PRINCIPAL_EMAIL_DOMAIN not in mail.body
    assert ApiKey.objects.get().last_used_at is not None
    # The principal is nobody's member to list.
    emails = [m["user"]["email"] for m in client.get("/api/v1/members").json()["results"]]
    assert all("api-keys" not in e for e in emails)


def test_a_key_never_reaches_another_organization(cast):
    client = key_client(make_key(cast))
    response = client.get("/api/v1/members", HTTP_X_ORGANIZATION_ID=str(cast.globex.pk))
    assert response.status_code == 404
    charlie = Membership.objects.get(user=cast.charlie)
    assert client.get(f"/api/v1/members/{charlie.pk}").status_code == 404


def test_the_keys_role_applies(cast):
    viewer = key_client(make_key(cast, role="viewer", name="Reports"))
    assert viewer.get("/api/v1/members").status_code == 200
    assert viewer.post("/api/v1/invitations", {"email": "x@example.com"}, format="json").status_code == 403


def test_a_revoked_an_expired_and_a_wrong_key_are_refused(cast, alice_api):
    key = make_key(cast)
    assert key_client(key).get("/api/v1/members").status_code == 200
    api_key = ApiKey.objects.get()
    assert alice_api.delete(f"/api/v1/api-keys/{api_key.pk}").status_code == 204
    response = key_client(key).get("/api/v1/members")
    assert response.status_code == 401
    assert alice_api.get(f"/api/v1/api-keys/{api_key.pk}").json()["status"] == "revoked"

    soon = make_key(cast, name="Soon", expires_at=timezone.now() + timedelta(minutes=5))
    ApiKey.objects.filter(name="Soon").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert key_client(soon).get("/api/v1/members").status_code == 401
    prefix = soon.split(".")[0]
    assert key_client(f"{prefix}.wrongsecret").get("/api/v1/members").status_code == 401
    assert key_client("garbage").get("/api/v1/members").status_code == 401
    actions = set(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert {"api_key.created", "api_key.revoked"} <= actions


def test_only_owners_and_admins_manage_keys_and_keys_cannot_make_keys(cast):
    response = api_client_for(cast.bob).post("/api/v1/api-keys", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    Membership.objects.filter(user=cast.bob).update(role="admin")
    response = api_client_for(cast.bob).post("/api/v1/api-keys", {"name": "Boss", "role": "owner"}, format="json")
    assert response.status_code == 403
    admin_key = key_client(make_key(cast, role="admin"))
    assert admin_key.post("/api/v1/api-keys", {"name": "Child"}, format="json").status_code == 403
    assert admin_key.post("/api/v1/organizations", {"name": "Elsewhere"}, format="json").status_code == 403


def test_key_names_are_unique_in_the_organization(cast, alice_api):
    make_key(cast)
    response = alice_api.post("/api/v1/api-keys", {"name": "zapier"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "name_taken"


def test_another_organizations_keys_are_404(cast, alice_api):
    charlie = Membership.objects.get(user=cast.charlie)
    api_key, _key = api_key_create(organization=cast.globex, by=charlie, name="Globex sync", role="member")
    assert alice_api.get(f"/api/v1/api-keys/{api_key.pk}").status_code == 404
    assert alice_api.delete(f"/api/v1/api-keys/{api_key.pk}").status_code == 404
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None


def test_a_key_opens_its_own_organizations_live_stream_only(cast):
    from docg.common.errors import DocgError
    from docg.orgs import tenancy

    key = make_key(cast)
    caller = tenancy.stream_caller(token="", authorization=f"Api-Key {key}", session_key="", organization_header="")
    assert caller.organization_id == cast.acme.pk and caller.user.is_api_key
    with pytest.raises(DocgError) as foreign:
        tenancy.stream_caller(
            token="", authorization=f"Api-Key {key}", session_key="", organization_header=str(cast.globex.pk)
        )
    assert foreign.value.status_code == 404
    with pytest.raises(DocgError) as wrong:
        tenancy.stream_caller(token="", authorization="Api-Key nope.nope", session_key="", organization_header="")
    assert wrong.value.status_code == 401


def test_the_key_cannot_sign_in_as_a_person(cast):
    make_key(cast)
    principal = ApiKey.objects.get().user
    assert not principal.has_usable_password()
    response = APIClient().post("/api/v1/auth/token", {"email": principal.email, "password": ""}, format="json")
    assert response.status_code in (400, 401)


def test_a_run_started_with_a_key_is_audited_under_the_keys_name(cast, client):
    from docg.executions.tests.builders import PREPARE, active_workflow

    workflow = active_workflow(cast, PREPARE, name="Contracts")
    started = key_client(make_key(cast)).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {"customer": "Ana"}}, format="json"
    )
    assert started.status_code in (200, 201, 202), started.json()
    row = AuditEvent.objects.get(action="execution.started")
    assert (row.actor_type, row.actor_id) == ("api_key", "Zapier")
    client.force_login(cast.alice)
    tab = client.get(f"/executions/{started.json()['id']}/audit/")
    assert tab.status_code == 200 and "<code data-actor-key>Zapier</code>" in tab.content.decode()
    page = client.get(f"/executions/{started.json()['id']}/").content.decode()
    assert "by API key: Zapier" in page and "api-keys.docg.invalid" not in page
