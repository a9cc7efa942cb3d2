"""`Test connection` for SMTP: connect, EHLO, STARTTLS or SSL as set, AUTH when a user name is set, QUIT.

Nothing is ever sent: no MAIL FROM, no RCPT, no DATA. A refused user name or
password (535, or any 5xx answer to AUTH) is `smtp.auth_failed` (permanent: fix
the credentials); a refused connection, a timeout or a dropped line is
`smtp.unreachable` (check host, port and security, or try again later).
"""

import smtplib
import ssl

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.errors import MessageCatalog
from docg.connectors.health import ConnectionTestResult
from docg.connectors.models import DataSourceConnection
from docg.providers.smtp.client import SmtpClient, SmtpSettings
from docg.providers.smtp.client import translate as translate_client_error

CHECK_TIMEOUT_SECONDS = 10.0

MESSAGES = MessageCatalog(
    {
        "ok": _("The mail server %(summary)s accepted the connection."),
        "smtp.auth_failed": _(
            "The mail server refused the user name or password (%(summary)s): correct them and test again."
        ),
        "smtp.unreachable": _(
            "Could not reach the mail server %(summary)s: check the host, port and security, or try again later."
        ),
        "smtp.tls_failed": _("The mail server's TLS certificate is not valid (%(summary)s)."),
        "smtp.misconfigured": _("The mail server does not support what the connection asks for (%(summary)s)."),
        "smtp.rejected": _("The mail server refused the connection (%(summary)s)."),
    }
)


def _result(connection: DataSourceConnection, error: DocgError) -> ConnectionTestResult:
    language = connection.organization.language
    details = {k: v for k, v in error.details.items() if k != "summary"}
    return ConnectionTestResult(
        False, error.code, MESSAGES.translate(error, language), {**details, "transient": error.transient}
    )


def _probe(settings: SmtpSettings) -> None:
    """One session that proves the settings work; raises DocgError with the reason they do not."""
    tech = {"host": settings.host, "port": settings.port, "security": settings.security}
    where = f"{settings.host}:{settings.port}"
    try:
        server = SmtpClient(settings)._connect()  # connect, EHLO, STARTTLS/SSL, AUTH
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
    except smtplib.SMTPAuthenticationError as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        reply = f"{exc.smtp_code} {text}"
        raise MESSAGES.error(
            "smtp.auth_failed", reply, {**tech, "smtp_code": exc.smtp_code}, transient=400 <= exc.smtp_code < 500
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:  # STARTTLS or AUTH not offered
        raise MESSAGES.error("smtp.misconfigured", str(exc), tech) from exc
    except smtplib.SMTPResponseException as exc:  # a refused EHLO or STARTTLS
        transient = 400 <= exc.smtp_code < 500
        raise MESSAGES.error(
            "smtp.rejected", f"{exc.smtp_code}", {**tech, "smtp_code": exc.smtp_code}, transient=transient
        ) from exc
    except ssl.SSLCertVerificationError as exc:
        raise MESSAGES.error("smtp.tls_failed", str(exc.verify_message), tech) from exc
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:  # refused, timed out, dropped, bad DNS
        raise MESSAGES.error(
            "smtp.unreachable", where, {**tech, "exception": type(exc).__name__, "message": str(exc)}, transient=True
        ) from exc


def smtp_check(connection: DataSourceConnection) -> ConnectionTestResult:
    try:
        settings = SmtpSettings.from_credentials(
            {**(connection.config or {}), **(connection.credentials or {})}, timeout=CHECK_TIMEOUT_SECONDS
        )
    except DocgError as exc:  # no host, unknown security
        message = translate_client_error(exc, connection.organization.language)
        return ConnectionTestResult(False, exc.code, message, {"transient": False})
    except (TypeError, ValueError) as exc:  # a port that is not a number
        error = MESSAGES.error("smtp.misconfigured", f"port: {exc}")
        return _result(connection, error)
    try:
        _probe(settings)
    except DocgError as exc:
        return _result(connection, exc)
    where = f"{settings.host}:{settings.port}"
    message = MESSAGES.translate(MESSAGES.error("ok", where), connection.organization.language)
    return ConnectionTestResult(True, "ok", message, {"authenticated": bool(settings.username)})
