from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from docg.audit.models import AuditEvent
from docg.orgs.models import Membership, Organization, User
from tests.fixtures.cast import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db


def _register(client: APIClient, **overrides):
    body = {
        "email": "Maria@Example.com",
        "password": "a long and unusual passphrase",
        "name": "Maria",
        "organization_name": "Maria's Firm",
    }
    body.update(overrides)
    return client.post("/api/v1/auth/register", body, format="json")


def test_register_creates_user_and_owned_organization():
    response = _register(APIClient())
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "organization"}
    assert body["user"]["email"] == "maria@example.com"
    assert body["organization"]["name"] == "Maria's Firm"
    membership = Membership.objects.get(user__email="maria@example.com")
    assert membership.role == "owner"
    assert str(membership.organization_id) == body["organization"]["id"]
    assert AuditEvent.objects.filter(organization_id=membership.organization_id, action="organization.created").exists()


def test_register_twice_with_same_email_is_a_400_and_creates_nothing():
    client = APIClient()
    assert _register(client).status_code == 201
    response = _register(client, email="maria@example.com", organization_name="Other")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "email" in response.json()["error"]["details"]
    assert Organization.objects.count() == 1


def test_register_refuses_weak_password_with_field_details():
    response = _register(APIClient(), password="password")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.exists()


def test_token_pair_and_refresh_rotation_blacklists_old_refresh(cast):
    client = APIClient()
    response = client.post("/api/v1/auth/token", {"email": "alice@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}

    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.get("/api/v1/organizations").status_code == 200

    rotated = client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    reused = client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"


def test_wrong_password_is_401_in_error_shape(cast):
    response = APIClient().post("/api/v1/auth/token", {"email": "alice@example.com", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refresh_is_refused_for_inactive_user(cast):
    refresh = str(RefreshToken.for_user(cast.bob))
    User.objects.filter(pk=cast.bob.pk).update(is_active=False)
    response = APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refresh_for_deleted_user_is_401_not_500(cast):
    refresh = str(RefreshToken.for_user(cast.bob))
    cast.bob.delete()
    response = APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_expired_access_token_is_refused(cast):
    token = AccessToken.for_user(cast.alice)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/workflows")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_forged_access_token_is_refused(cast):
    token = str(AccessToken.for_user(cast.alice))
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/workflows").status_code == 401


def test_token_signed_with_another_key_is_refused(cast, settings):
    import jwt

    payload = AccessToken.for_user(cast.alice).payload
    forged = jwt.encode(payload, "not-our-secret-but-long-enough-for-hs256-keys", algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/workflows").status_code == 401


def test_anonymous_request_is_401(cast):
    response = APIClient().get("/api/v1/workflows")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_multi_org_user_must_choose_an_organization(cast):
    from docg.orgs.services import membership_add

    membership_add(organization=cast.globex, user=cast.alice, role="viewer")
    response = api_client_for(cast.alice).get("/api/v1/workflows")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "organization_required"
    assert api_client_for(cast.alice, cast.globex).get("/api/v1/workflows").status_code == 200


def test_organization_header_for_foreign_org_is_404(cast):
    response = api_client_for(cast.alice, cast.globex).get("/api/v1/workflows")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "organization_not_found"


def test_malformed_organization_header_is_400(cast):
    client = api_client_for(cast.alice)
    response = client.get("/api/v1/workflows", HTTP_X_ORGANIZATION_ID="not-a-uuid")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_organization_header"


def test_organizations_lists_mine_with_role(cast):
    response = api_client_for(cast.vera).get("/api/v1/organizations")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(o["name"], o["role"]) for o in results] == [("Acme", "viewer")]


def test_viewer_cannot_rename_organization_but_owner_can(cast):
    url = f"/api/v1/organizations/{cast.acme.pk}"
    assert api_client_for(cast.vera).patch(url, {"name": "Hacked"}, format="json").status_code == 403
    response = api_client_for(cast.alice).patch(url, {"name": "Acme Ltd", "language": "pt-br"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Ltd"
    assert response.json()["language"] == "pt-br"


def test_another_organization_is_404(cast):
    response = api_client_for(cast.charlie).get(f"/api/v1/organizations/{cast.acme.pk}")
    assert response.status_code == 404
    response = api_client_for(cast.charlie).patch(f"/api/v1/organizations/{cast.acme.pk}", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert Organization.objects.get(pk=cast.acme.pk).name == "Acme"
