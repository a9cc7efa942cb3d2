"""Guessing passwords and mass sign-ups are slowed per client address and per account.

Routes that take a password or create an account or membership (token, register,
password change and reset, invitations) declare `throttle_classes =
CREDENTIAL_THROTTLES`. Both limits apply: per address stops one client trying
many accounts, per account stops many addresses trying one account. A throttled
request answers 429 in the API's error shape with `Retry-After` (see
docg.common.api.errors). Rates: settings.AUTH_THROTTLE_RATES, counted in the
default cache (Redis in production, so every web process shares the count).
"""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _CredentialThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read on every request (SimpleRateThrottle binds its rates at import), so settings can change them.
        return settings.AUTH_THROTTLE_RATES.get(self.scope)


class CredentialIPThrottle(_CredentialThrottle):
    scope = "credentials_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CredentialAccountThrottle(_CredentialThrottle):
    scope = "credentials_account"
    # The body fields that name the account a request is about, in order.
    account_fields = ("email", "username", "token")

    def get_cache_key(self, request, view) -> str | None:
        data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
        if not hasattr(data, "get"):
            return None
        for field in self.account_fields:
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                # Hashed: the cache key holds no address, and any length or character is a fixed-size key.
                ident = hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()
                return self.cache_format % {"scope": self.scope, "ident": ident}
        return None


CREDENTIAL_THROTTLES = [CredentialIPThrottle, CredentialAccountThrottle]
