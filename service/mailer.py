"""Email to a report's recipient through the school's SMTP server (a report from a member of staff:
the headteacher at CLAUSEWARDEN_SMTP_TO, a line manager or the senior team at the addresses the
school set for them in settings.yaml).

smtplib in a worker thread (`asyncio.to_thread`), so no aiohttp handler waits on the network: the
handler keeps the report, answers the member of staff with its reference, and the email goes in a
task of its own, which notes in the report whether it was sent. If it fails, the report is still
in the inbox, and the inbox says the email failed (in words that never hold the password).

STARTTLS by default (port 587), implicit TLS on request (465), the server's certificate checked
against the system's CAs or the given CA file. The password is never logged or shown; the audit
log and the inbox say only whether the email went.
"""

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable, Coroutine
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from aiohttp import web

from service.config import SmtpSettings

log = logging.getLogger("clausewarden.service")


class Mailer:
    """Sends the headteacher's emails, each in a task; `drain()` waits for those under way."""

    def __init__(self, smtp: SmtpSettings | None) -> None:
        self.smtp = smtp
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self.smtp is not None

    async def send(self, subject: str, body: str, *, to: tuple[str, ...] = ()) -> str | None:
        """Send one email to `to` (default: the headteacher, CLAUSEWARDEN_SMTP_TO): None when the
        server took it, else why not (a short sentence that never holds a secret)."""
        smtp = self.smtp
        if smtp is None:
            return "no SMTP server is set"
        message = EmailMessage()
        message["From"] = smtp.sender
        message["To"] = ", ".join(to or smtp.to)
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        try:
            await asyncio.to_thread(_send, smtp, message)
        except Exception as exc:  # noqa: BLE001 - every failure is told, none kills the service
            why = failure(exc, smtp)
            log.warning("email to the headteacher not sent: %s", why)
            return why
        return None

    def spawn(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `make()` in a task of its own, kept until it ends."""
        task = asyncio.get_running_loop().create_task(make())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Until every email under way has been sent or has failed (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))


MAILER = web.AppKey("mailer", Mailer)


def _send(smtp: SmtpSettings, message: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)


def failure(exc: BaseException, smtp: SmtpSettings) -> str:
    """Why an email did not go, in words for the inbox (never the password or the server's own
    text, which may echo what was sent)."""
    where = f"{smtp.host}:{smtp.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server refused the user name or password (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} does not offer STARTTLS or login; check CLAUSEWARDEN_SMTP_SECURITY"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the SMTP server refused the recipient's address (SMTP_TO or settings.yaml)"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the SMTP server refused the sender address (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the SMTP server answered {exc.smtp_code}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{where}: its certificate is not trusted (CLAUSEWARDEN_SMTP_CA_FILE)"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS failed; check CLAUSEWARDEN_SMTP_SECURITY and the port"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer in time"
    if isinstance(exc, OSError):
        return f"could not connect to {where} ({exc.strerror or type(exc).__name__})"
    return f"sending failed ({type(exc).__name__})"
