"""Send an e-mail over SMTP (adapter; EmailSender is the ChannelSender of e-mail): STARTTLS when the server offers it (or always/never by setting).

A message the server refuses for good (5xx, every recipient refused) or that cannot be sent at all
(no SMTP server configured) is a final outcome: not tried again. Connection trouble and 4xx are retried.
"""

import ssl
from email.message import EmailMessage

import aiosmtplib

from services.common.settings import Settings
from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.mailbox import addresses_problem
from services.notify.domain.messages import alert_mail, email_message
from services.notify.domain.routing import Channel


async def send_mail(message: EmailMessage, settings: Settings) -> AttemptOutcome:
    """One attempt to hand `message` to the configured SMTP server."""
    if not settings.smtp_host:
        return AttemptOutcome(False, "no SMTP server configured (ONCORELAY_SMTP_HOST)", final=True)
    start_tls = {"auto": None, "always": True, "never": False}[settings.smtp_starttls]
    context = ssl.create_default_context(cafile=settings.smtp_ca_file) if start_tls is not False else None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port, start_tls=start_tls,
            tls_context=context, username=settings.smtp_username, password=password,
            timeout=settings.delivery_timeout_s,
        )
        return AttemptOutcome(True, "SMTP accepted")
    except aiosmtplib.SMTPRecipientsRefused:
        return AttemptOutcome(False, "SMTP refused every recipient", final=True)
    except aiosmtplib.SMTPResponseException as error:
        return AttemptOutcome(False, f"SMTP {error.code}", final=error.code >= 500)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        return AttemptOutcome(False, type(error).__name__)


class EmailSender:
    """The ChannelSender of e-mail: the alert's message to the channel's addresses, once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        problem = addresses_problem(channel.to)
        if problem:  # stored before addresses were checked: it can never be sent
            return AttemptOutcome(False, f"not sent: {problem}", final=True)
        content = alert_mail({**alert, "alert_id": alert["_id"]}, self.settings.case_link_base,
                             delivery.get("level", 0))
        message = email_message(content, self.settings.smtp_from, list(channel.to), delivery["_id"].replace("|", "."))
        return await send_mail(message, self.settings)
