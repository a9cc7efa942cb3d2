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
def media_root_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session", autouse=True)
def audit_flush_allowed():
    """Let pytest-django's flush (TRUNCATE) clear the append-only audit table between transactional tests.

    The trigger refuses TRUNCATE; ordinary triggers do not fire when
    session_replication_role is `replica`, so the flush sets it for its own
    transaction only. Production code never does this.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


from docg.dashboard.testing import browser, dashboard_server  # noqa: E402,F401
from docg.executions.testing import live_server_asgi, worker  # noqa: E402,F401
