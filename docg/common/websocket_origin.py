"""Websocket handshakes from another site are refused (cross-site websocket hijacking).

A browser sends the session cookie with a websocket handshake from any page, and
the same-origin policy does not apply to websockets: without this check, a page
on evil.example could open /ws/executions/{id}/ as the signed-in user and read
the run's events. Browsers always send `Origin` on a websocket handshake, so an
`Origin` outside ALLOWED_HOSTS (and CSRF_TRUSTED_ORIGINS, the same list Django
trusts for form posts) is refused before the consumer runs. A handshake without
`Origin` is not from a browser, so it carries no ambient cookie to hijack; it
still has to authenticate like any other.
"""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def allowed_origins_only(application):
    """`application` behind an Origin check against ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS."""
    allowed = [*settings.ALLOWED_HOSTS, *settings.CSRF_TRUSTED_ORIGINS]
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        allowed = [".localhost", "127.0.0.1", "[::1]", *settings.CSRF_TRUSTED_ORIGINS]
    return BrowserOriginValidator(application, allowed)
