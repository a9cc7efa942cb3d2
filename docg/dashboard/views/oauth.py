"""GET /oauth/connect/<provider>/: start connecting a provider account to the current organization.

Dashboard pages: the connect view is a dashboard view (session, current organization, role),
and both views answer with the connections page. The social-auth pipeline that stores the
connection is docg.connectors.oauth_pipeline.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from social_core.actions import do_auth
from social_core.exceptions import SocialAuthBaseException
from social_django import views as social_views
from social_django.utils import load_backend, load_strategy

from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth_pipeline import SESSION_KEY, connections_url
from docg.dashboard.context import can_manage, dashboard_view

# The environment variables an operator sets to enable each provider (config/settings/oauth.py).
OAUTH_ENV = {
    "hubspot": ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET"),
    "google": ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
    "microsoft": ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET"),
}


def oauth_configured(provider: str) -> bool:
    """Whether this server has the provider's OAuth client id and secret (else the provider shows an error page)."""
    name = settings.OAUTH_CONNECT_BACKENDS.get(provider, "").upper()
    return bool(
        getattr(settings, f"SOCIAL_AUTH_{name}_KEY", "") and getattr(settings, f"SOCIAL_AUTH_{name}_SECRET", "")
    )


@never_cache
@dashboard_view
def oauth_connect(request: HttpRequest, provider: str) -> HttpResponse:
    """Remember the organization (and, with ?connection=<id>, the connection to renew), then go to the provider.

    A GET (the dashboard links here): the provider's consent screen is the confirmation, and the
    callback only completes with the state bound to this user's session.
    """
    backend_name = settings.OAUTH_CONNECT_BACKENDS.get(provider)
    if backend_name is None:
        raise Http404("No such provider.")
    if not can_manage(request):
        messages.error(request, _("Your role cannot add connections to this organization."))
        return redirect(connections_url())
    if not oauth_configured(provider):
        client_id, secret = OAUTH_ENV.get(provider, ("", ""))
        messages.error(
            request,
            _("Connecting %(provider)s is not set up on this server: an operator sets %(id)s and %(secret)s.")
            % {"provider": dict(Provider.choices).get(provider, provider), "id": client_id, "secret": secret},
        )
        return redirect(connections_url())
    renew = request.GET.get("connection") or ""
    connection_id = None
    if renew:
        connection = (
            DataSourceConnection.objects.filter(organization=request.organization, provider=provider, pk=renew)
            .exclude(status=ConnectionStatus.REVOKED)
            .first()
            if _is_uuid(renew)
            else None
        )
        if connection is None:
            raise Http404("No such connection.")
        connection_id = str(connection.pk)
    request.session[SESSION_KEY] = {
        "provider": provider,
        "organization_id": str(request.organization.pk),
        "connection_id": connection_id,
    }
    strategy = load_strategy(request)
    backend = load_backend(strategy, backend_name, redirect_uri=reverse("social:complete", args=[backend_name]))
    return do_auth(backend, user=request.user)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def oauth_complete(request: HttpRequest, backend: str) -> HttpResponse:
    """The provider's redirect back (social-auth's complete view); a refused flow is a message, never a 500.

    A wrong or replayed state, a denied consent or a failed token exchange all land here.
    """
    try:
        return social_views.complete(request, backend)
    except SocialAuthBaseException as exc:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, _("The connection was not completed: %(reason)s") % {"reason": exc})
        return redirect(connections_url())
