"""What every Google action shares: the connection's client, error translation, the step's tag."""

import contextlib
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.oauth import fresh_access_token
from docg.connectors.runtime import ActionContext
from docg.providers.google.client import GoogleClient
from docg.providers.google.messages import translate

GOOGLE_TIMEOUT_SECONDS = 30.0


def google_client(ctx: ActionContext) -> GoogleClient:
    """A client for the step's Google connection (active, with a usable token), else a permanent error."""
    connection = ctx.active_connection(Provider.GOOGLE, "Google")
    try:
        token = fresh_access_token(connection=connection, correlation_id=ctx.correlation_id)
    except DocgError as exc:
        if exc.code == "oauth_expired":
            exc.human = ctx.say(_("The Google connection '%(name)s' has expired: reconnect it."), name=connection.name)
        raise
    return GoogleClient(access_token=token, correlation_id=ctx.correlation_id, timeout=GOOGLE_TIMEOUT_SECONDS)


@contextlib.contextmanager
def translated(ctx: ActionContext) -> Iterator[None]:
    """Google errors in the organization's language."""
    try:
        yield
    except DocgError as exc:
        exc.human = translate(exc, ctx.language)
        raise


def step_tag(ctx: ActionContext) -> str:
    """The same for every attempt of one step of one run: how a retry finds the file it made."""
    return f"{ctx.execution.pk}:{ctx.node.get('key', '')}"
