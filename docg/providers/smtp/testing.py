"""Test helpers: a real SMTP server (aiosmtpd) on loopback that records what it receives.

The server can be told to refuse: `recorder.rcpt_replies[address] = "550 …"`
answers that recipient with the given reply; `recorder.data_replies` is a list
of replies given, in order, to the next DATA commands (e.g. one "451 …").
"""

import email
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest

from docg.executions.testing import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=policy.default)


@dataclass
class SmtpRecorder:
    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    data_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_attempts += 1
            if self.data_replies:
                return self.data_replies.pop(0)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """An aiosmtpd server on 127.0.0.1 (plain SMTP, no auth); `.port`, `.recorder`."""
    from aiosmtpd.controller import Controller

    # Loopback is refused to user-supplied hosts unless an operator allows it, as here.
    settings.SSRF_ALLOWED_HOSTS = [*settings.SSRF_ALLOWED_HOSTS, "127.0.0.1"]

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.recorder = recorder
    yield controller
    controller.stop()


def smtp_credentials(server, **extra) -> dict:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "from_email": "contracts@acme.example",
        **extra,
    }
