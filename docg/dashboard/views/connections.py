"""Connections: the organization's provider credentials; connect, test, revoke.

As in the REST API, only owners and admins add or revoke credentials; members may
test one; viewers only read. Secrets go in through these forms and are never shown again.
"""

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from docg.common.errors import DocgError
from docg.connectors import services
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.health import ConnectionTestResult, connection_test
from docg.connectors.models import DataSourceConnection
from docg.dashboard.context import can_manage, dashboard_view, member_object, require_write
from docg.dashboard.views.oauth import OAUTH_ENV, oauth_configured

logger = logging.getLogger(__name__)

OAUTH_PROVIDERS = [Provider.HUBSPOT, Provider.GOOGLE, Provider.MICROSOFT]
SMTP_SECURITY = [("starttls", "STARTTLS"), ("ssl", "SSL/TLS"), ("none", gettext_lazy("None (not encrypted)"))]


def _secret(label, *, required: bool = True, help_text: str = "") -> forms.CharField:
    # render_value=False: a refused form never sends the secret back to the browser.
    return forms.CharField(
        label=label,
        max_length=2000,
        required=required,
        strip=True,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class _ConnectionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    secret_fields: tuple[str, ...] = ()
    config_fields: tuple[str, ...] = ()

    def credentials(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.secret_fields if self.cleaned_data.get(k) not in ("", None)}

    def config(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.config_fields if self.cleaned_data.get(k) not in ("", None)}


class ClickSignForm(_ConnectionForm):
    access_token = _secret(gettext_lazy("Access token"), help_text=gettext_lazy("ClickSign → Settings → API."))
    webhook_secret = _secret(
        gettext_lazy("Webhook HMAC secret"),
        required=False,
        help_text=gettext_lazy("Optional: lets docg verify ClickSign's signature callbacks."),
    )
    secret_fields = ("access_token", "webhook_secret")


class ZapSignForm(_ConnectionForm):
    api_token = _secret(gettext_lazy("API token"), help_text=gettext_lazy("ZapSign → Settings → Integration."))
    webhook_secret = _secret(
        gettext_lazy("Webhook secret"),
        required=False,
        help_text=gettext_lazy("Optional: the value ZapSign sends in the webhook header."),
    )
    secret_fields = ("api_token", "webhook_secret")


class SmtpForm(_ConnectionForm):
    host = forms.CharField(label=gettext_lazy("Server"), max_length=255)
    port = forms.IntegerField(label=gettext_lazy("Port"), min_value=1, max_value=65535, required=False)
    security = forms.ChoiceField(label=gettext_lazy("Security"), choices=SMTP_SECURITY, initial="starttls")
    username = forms.CharField(label=gettext_lazy("User name"), max_length=255, required=False)
    password = _secret(gettext_lazy("Password"), required=False)
    from_email = forms.EmailField(label=gettext_lazy("Sender address"), required=False)
    # The SMTP client reads everything from the encrypted credentials.
    secret_fields = ("host", "port", "security", "username", "password", "from_email")


class AiForm(_ConnectionForm):
    base_url = forms.URLField(
        label=gettext_lazy("API base URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("An OpenAI-compatible endpoint, e.g. https://api.openai.com/v1"),
    )
    model = forms.CharField(label=gettext_lazy("Model"), max_length=100, required=False)
    api_key = _secret(gettext_lazy("API key"))
    secret_fields = ("api_key",)
    config_fields = ("base_url", "model")


KEY_FORMS: dict[str, type[_ConnectionForm]] = {
    Provider.CLICKSIGN: ClickSignForm,
    Provider.ZAPSIGN: ZapSignForm,
    Provider.SMTP: SmtpForm,
    Provider.AI: AiForm,
}


def _key_forms(bound: _ConnectionForm | None = None, provider: str = "") -> list[dict]:
    return [
        {
            "provider": slug,
            "label": Provider(slug).label,
            "form": bound if slug == provider and bound is not None else form_class(prefix=slug),
            "open": slug == provider,
        }
        for slug, form_class in KEY_FORMS.items()
    ]


def _absolute(name: str, **kwargs) -> str:
    # FRONTEND_URL, not the request's Host header: the URL is pasted into a provider and must be the public one.
    return settings.FRONTEND_URL.rstrip("/") + reverse(name, kwargs=kwargs)


def _webhook(connection: DataSourceConnection, *, manager: bool) -> dict | None:
    """The callback URL a signature provider needs, and how to register it; None when there is none to show.

    A ZapSign URL holds the connection's webhook secret (ZapSign signs nothing), so only owners and admins
    see it; the secret itself is never shown on its own.
    """
    if connection.status == ConnectionStatus.REVOKED:
        return None
    if connection.provider == Provider.CLICKSIGN:
        has_secret = bool((connection.credentials or {}).get("webhook_secret"))
        return {
            "url": _absolute("clicksign-webhook", connection_id=connection.pk),
            "help": _("In ClickSign, add a webhook with this URL; docg checks each callback with its HMAC secret."),
            "warning": ""
            if has_secret
            else _(
                "This connection has no webhook HMAC secret, so docg refuses ClickSign's callbacks: "
                "add the connection again with the secret ClickSign shows for the webhook."
            ),
        }
    if connection.provider == Provider.ZAPSIGN and manager:
        secret = str((connection.credentials or {}).get("webhook_secret") or "")
        if not secret:
            return {
                "url": "",
                "help": "",
                "warning": _(
                    "This connection has no webhook secret, so ZapSign cannot report signatures: "
                    "add the connection again with one."
                ),
            }
        return {
            "url": _absolute("zapsign-webhook", connection_id=connection.pk, token=secret),
            "help": _(
                "In ZapSign, add a webhook with this URL and the header X-Docg-Webhook-Secret set to the "
                "webhook secret you saved. Keep the URL private: it works as a password."
            ),
            "warning": "",
        }
    return None


def _page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    rows = (
        DataSourceConnection.objects.filter(organization=request.organization)
        .select_related("created_by")
        .order_by("status", "-created_at")
    )
    labels = dict(Provider.choices)
    connections = list(rows)
    manager = can_manage(request)
    for connection in connections:
        connection.provider_label = labels.get(connection.provider, connection.provider)
        connection.webhook = _webhook(connection, manager=manager)
    context = {
        "connections": connections,
        "oauth_providers": [
            {"slug": p.value, "label": p.label, "configured": oauth_configured(p.value), "env": OAUTH_ENV.get(p.value)}
            for p in OAUTH_PROVIDERS
        ],
        "key_forms": _key_forms(),
        **extra,
    }
    return render(request, "dashboard/connections/list.html", context, status=status)


@require_safe
@dashboard_view
def connections(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _require_manage(request: HttpRequest) -> None:
    if not can_manage(request):
        # Members see no such button; a crafted POST gets the same answer as a viewer's (context.require_write).
        raise Http404("Not available for your role.")


@require_POST
@dashboard_view
def connection_create(request: HttpRequest, provider: str) -> HttpResponse:
    """A connection for an API-key provider, from its small form."""
    _require_manage(request)
    form_class = KEY_FORMS.get(provider)
    if form_class is None:
        raise Http404("No such provider.")
    form = form_class(request.POST, prefix=provider)
    if not form.is_valid():
        key_forms = _key_forms(form, provider)
        return _page(request, status=400, key_forms=key_forms)
    connection = services.connection_create(
        organization=request.organization,
        by=request.user,
        provider=provider,
        name=form.cleaned_data["name"].strip(),
        credentials=form.credentials(),
        config=form.config(),
    )
    messages.success(
        request, _("Connection “%(name)s” added. Test it to be sure it works.") % {"name": connection.name}
    )
    return redirect("dashboard:connections")


def _test(connection: DataSourceConnection, by) -> ConnectionTestResult:
    try:
        return connection_test(connection=connection, by=by)
    except DocgError as exc:
        return ConnectionTestResult(False, exc.code, exc.human)
    except Exception:  # a provider check must never turn the page into a 500
        logger.exception("connection test crashed", extra={"connection": str(connection.pk)})
        return ConnectionTestResult(False, "test.crashed", _("docg could not run the test; try again later."))


@require_POST
@dashboard_view
def connection_test_view(request: HttpRequest, pk) -> HttpResponse:
    """Ask the provider whether the credential still works; the answer is shown in the row."""
    require_write(request)
    connection = member_object(request, DataSourceConnection.objects.all(), pk=pk)
    if connection.status == ConnectionStatus.REVOKED:
        result = ConnectionTestResult(False, "connection.revoked", _("This connection was revoked."))
    else:
        result = _test(connection, request.user)
    if request.htmx:
        return render(request, "dashboard/connections/_test_result.html", {"result": result, "connection": connection})
    if result.ok:
        messages.success(request, _("“%(name)s” works.") % {"name": connection.name})
    else:
        messages.error(request, _("“%(name)s”: %(why)s") % {"name": connection.name, "why": result.message})
    return redirect("dashboard:connections")


@require_POST
@dashboard_view
def connection_revoke(request: HttpRequest, pk) -> HttpResponse:
    _require_manage(request)
    connection = member_object(request, DataSourceConnection.objects.all(), pk=pk)
    services.connection_revoke(connection=connection, by=request.user)
    messages.success(
        request, _("Connection “%(name)s” revoked: docg forgot its credential.") % {"name": connection.name}
    )
    return redirect("dashboard:connections")
