"""Password guessing and mass sign-up answer 429 with Retry-After, per client address and per account."""

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings, monkeypatch):
    settings.AUTH_THROTTLE_RATES = {"credentials_ip": "20/minute", "credentials_account": "5/minute"}
    # Counts live in Redis and outlive a test run: each test counts under its own keys.
    monkeypatch.setattr(SimpleRateThrottle, "cache_format", f"throttle_{uuid.uuid4().hex}_%(scope)s_%(ident)s")


def _address() -> str:
    # The count lives in Redis and outlives a test: each test guesses from its own address.
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_wrong_passwords_for_one_account_are_throttled_with_retry_after(cast, low_rates):
    email = cast.alice.email
    answers = []
    for attempt in range(40):  # the probe: 40 wrong passwords in a row, each from another address
        client = APIClient(REMOTE_ADDR=_address())
        answers.append(
            client.post("/api/v1/auth/token", {"email": email, "password": f"wrong{attempt}"}, format="json")
        )
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}, codes
    refused = answers[-1]
    assert int(refused["Retry-After"]) > 0
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert error["details"]["retry_after"] == int(refused["Retry-After"])
    # The right password is refused too while throttled: the limit is on trying, not on failing.
    right = APIClient(REMOTE_ADDR=_address()).post(
        "/api/v1/auth/token", {"email": email, "password": "correct horse battery"}, format="json"
    )
    assert right.status_code == 429
    # Another account is not affected.
    other = APIClient(REMOTE_ADDR=_address()).post(
        "/api/v1/auth/token", {"email": "bob@example.com", "password": "x"}, format="json"
    )
    assert other.status_code == 401


def test_one_address_is_throttled_across_accounts(cast, low_rates):
    client = APIClient(REMOTE_ADDR=_address())
    codes = [
        client.post("/api/v1/auth/token", {"email": f"u{i}-{uuid.uuid4().hex}@example.com", "password": "x"},
                    format="json").status_code
        for i in range(25)
    ]  # fmt: skip
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}


def test_register_is_throttled_per_address(low_rates):
    client = APIClient(REMOTE_ADDR=_address())
    codes = []
    for i in range(22):
        body = {"email": f"new{i}-{uuid.uuid4().hex}@example.com", "password": "a long enough pass 1",
                "name": "N", "organization_name": "O"}  # fmt: skip
        codes.append(client.post("/api/v1/auth/register", body, format="json").status_code)
    assert codes[:20] == [201] * 20
    assert codes[20:] == [429, 429]


def test_dashboard_sign_in_is_throttled_per_account(cast, low_rates, client):
    codes = []
    for attempt in range(8):
        response = client.post("/login/", {"username": cast.alice.email, "password": f"wrong{attempt}"},
                               REMOTE_ADDR=_address())  # fmt: skip
        codes.append(response.status_code)
    assert codes[:5] == [200] * 5  # the form again, "wrong password"
    assert codes[5:] == [429] * 3
    assert int(response["Retry-After"]) > 0
    assert "Too many sign-in attempts" in response.content.decode()
