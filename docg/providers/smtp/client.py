"""An SMTP submission client: one connection per message, STARTTLS/SSL, timeouts, classified errors.

Errors come out as DocgError: anything the server or the network may
get over (connection refused, timeouts, dropped connections, 4xx replies) is
transient and retried by the engine; 5xx replies are permanent and name what
the server refused.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, check_host
from docg.connectors.errors import MessageCatalog

SECURITY_CHOICES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    security: str = "starttls"
    from_email: str = ""
    timeout: float = 30.0

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any], *, timeout: float = 30.0) -> "SmtpSettings":
        security = str(credentials.get("security") or "starttls").lower()
        if security not in SECURITY_CHOICES:
            raise smtp_error(
                "smtp.misconfigured", f"security must be one of {', '.join(SECURITY_CHOICES)}", {"security": security}
            )
        host = str(credentials.get("host") or "").strip()
        if not host:
            raise smtp_error("smtp.misconfigured", "it has no server host")
        return cls(
            host=host,
            port=int(credentials.get("port") or DEFAULT_PORTS[security]),
            username=str(credentials.get("username") or ""),
            password=str(credentials.get("password") or ""),
            security=security,
            from_email=str(credentials.get("from_email") or credentials.get("username") or ""),
            timeout=float(credentials.get("timeout") or timeout),
        )


@dataclass
class Delivery:
    accepted: list[str]
    refused: dict[str, tuple[int, str]]


def _text(reply: Any) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


# code → (English, Brazilian Portuguese); `{summary}` names what was refused and why.
MESSAGES = {
    "smtp.misconfigured": _("The SMTP connection is not set up right: %(summary)s"),
    "smtp.rejected": _("The mail server refused %(summary)s."),
    "smtp.recipient_refused": _("The mail server refused the recipient %(summary)s."),
    "smtp.temporary_failure": _("The mail server temporarily refused %(summary)s; docg will try again."),
    "smtp.auth_failed": _("The mail server refused the SMTP connection's user name or password (%(summary)s)."),
    "smtp.tls_failed": _("The mail server's TLS certificate is not valid: %(summary)s"),
    "smtp.unavailable": _("Could not talk to the mail server %(summary)s."),
}


_CATALOG = MessageCatalog(MESSAGES)
smtp_error = _CATALOG.error
translate = _CATALOG.translate


def _reply_error(code: int, reply: Any, what: str, tech: dict) -> DocgError:
    text = _text(reply)
    transient = 400 <= code < 500
    return smtp_error(
        "smtp.temporary_failure" if transient else "smtp.rejected",
        f"{what} ({code} {text})",
        {**tech, "smtp_code": code, "smtp_reply": text},
        transient=transient,
    )


class SmtpClient:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            # The host comes from a user's connection: never a private, loopback or metadata address
            # unless an operator allowed it (SSRF_ALLOWED_HOSTS / SSRF_ALLOWED_NETWORKS).
            check_host(s.host, s.port)
        except BlockedAddress as exc:
            raise smtp_error("smtp.misconfigured", str(exc), {"host": s.host, "port": s.port}) from exc
        context = ssl.create_default_context()
        if s.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            server.ehlo()
            if s.security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if s.username:
                server.login(s.username, s.password)
        except BaseException:
            server.close()
            raise
        return server

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> Delivery:
        """Submit one message to the server; returns who it accepted and refused."""
        tech = {"host": self.settings.host, "port": self.settings.port, "security": self.settings.security}
        try:
            server = self._connect()
            try:
                refused = server.send_message(message, from_addr=sender, to_addrs=recipients)
            finally:
                try:
                    server.quit()
                except (smtplib.SMTPException, OSError):
                    server.close()  # the message is already accepted or refused; a rude goodbye changes nothing
        except smtplib.SMTPRecipientsRefused as exc:
            raise _recipients_error(exc.recipients, tech) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error, f"the sender address {sender}", tech) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise smtp_error(
                "smtp.auth_failed",
                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                {**tech, "smtp_code": exc.smtp_code, "smtp_reply": _text(exc.smtp_error)},
                transient=400 <= exc.smtp_code < 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise smtp_error("smtp.misconfigured", f"the server does not support it ({exc})", tech) from exc
        except smtplib.SMTPResponseException as exc:  # DATA refused, HELO refused, …
            raise _reply_error(exc.smtp_code, exc.smtp_error, "the message", tech) from exc
        except ssl.SSLCertVerificationError as exc:
            raise smtp_error("smtp.tls_failed", str(exc.verify_message), tech) from exc
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise smtp_error(
                "smtp.unavailable",
                f"{self.settings.host}:{self.settings.port} ({type(exc).__name__}: {exc})",
                {**tech, "exception": type(exc).__name__, "message": str(exc)},
                transient=True,
            ) from exc
        accepted = [r for r in recipients if r not in refused]
        return Delivery(accepted=accepted, refused={r: (c, _text(m)) for r, (c, m) in refused.items()})


def _recipients_error(refused: dict, tech: dict) -> DocgError:
    """Every recipient was refused: permanent if any refusal is 5xx, else try again later."""
    codes = {addr: (code, _text(reply)) for addr, (code, reply) in refused.items()}
    permanent = {addr: c for addr, c in codes.items() if c[0] >= 500}
    details = {**tech, "refused": {addr: {"smtp_code": c, "smtp_reply": t} for addr, (c, t) in codes.items()}}
    if permanent:
        names = ", ".join(f"{addr} ({code} {text})" for addr, (code, text) in permanent.items())
        return smtp_error("smtp.recipient_refused", names, details)
    names = ", ".join(f"{addr} ({code} {text})" for addr, (code, text) in codes.items())
    return smtp_error("smtp.temporary_failure", names, details, transient=True)
