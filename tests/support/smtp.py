"""A real SMTP server for tests (aiosmtpd in a thread) that offers STARTTLS with a test CA (trustme)."""

import email
import email.policy
import ssl
import threading
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.support.services import free_port


class _Collector:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append({"message": message, "rcpt": list(envelope.rcpt_tos),
                                         "tls": session.ssl is not None})
        return "250 OK"


class SmtpServer:
    """Offers STARTTLS and refuses mail before it (require_starttls); `ca_file` is what the client must trust."""

    def __init__(self, workdir: Path) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        ca = trustme.CA()
        self.ca_file = str(workdir / "smtp-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.port = free_port()
        handler = _Collector(self)

        class StartTlsController(Controller):
            def factory(inner):
                return SMTP(handler, tls_context=context, require_starttls=True, hostname="localhost")

        self.controller = StartTlsController(handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if address in m["rcpt"]]
