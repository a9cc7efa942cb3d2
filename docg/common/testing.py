"""Shared pytest fixtures (loaded with `-p docg.common.testing`).

The cast, after healthchecks: alice owns the "Acme" organization, bob is a
member there and vera a viewer; charlie owns "Globex" and must never see Acme's
data (nor Acme his).
"""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from docg.orgs.choices import Role
from docg.orgs.models import Organization, User
from docg.orgs.services import membership_add, organization_create

PASSWORD = "correct horse battery staple"


@dataclass
class Cast:
    acme: Organization
    globex: Organization
    alice: User
    bob: User
    vera: User
    charlie: User


def make_user(email: str, name: str = "") -> User:
    return User.objects.create_user(email=email, password=PASSWORD, name=name or email.split("@")[0].title())


def api_client_for(user: User | None = None, organization: Organization | None = None) -> APIClient:
    """An API client that authenticates with a real JWT, as API clients do."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    if organization is not None:
        client.defaults["HTTP_X_ORGANIZATION_ID"] = str(organization.pk)
    return client


@pytest.fixture
def cast(db) -> Cast:
    alice, bob, vera, charlie = (make_user(f"{n}@example.com") for n in ("alice", "bob", "vera", "charlie"))
    acme = organization_create(name="Acme", owner=alice)
    membership_add(organization=acme, user=bob, role=Role.MEMBER)
    membership_add(organization=acme, user=vera, role=Role.VIEWER)
    globex = organization_create(name="Globex", owner=charlie)
    return Cast(acme=acme, globex=globex, alice=alice, bob=bob, vera=vera, charlie=charlie)


@pytest.fixture
def alice_api(cast) -> APIClient:
    return api_client_for(cast.alice)


@pytest.fixture
def charlie_api(cast) -> APIClient:
    return api_client_for(cast.charlie)


@pytest.fixture
def vera_api(cast) -> APIClient:
    return api_client_for(cast.vera)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
