"""Channels that carry an issued document to the violator: ``Channel.send(message) -> Receipt``.

E-mail through SMTP (:class:`SmtpChannel`, the standard library's ``smtplib``) is the first; VNeID or SMS are other
classes with the same ``send``. A channel raises :class:`ChannelUnavailable` for what may pass (an SMTP 4xx reply, no
connection, a timeout, any failure to connect or log in: ``server_down``, the run stops sending) and
:class:`ChannelRejected` for a refusal of the message (an SMTP 5xx reply to MAIL, RCPT or DATA): the delivery queue
(:mod:`services.delivery.document_delivery`) retries the first with back-off and stops at the second.

Every attempt of one delivery carries the same ``Message-ID`` (:func:`message_id_for`, derived from the delivery's
key), so a receiver that sees one twice (a resend decided by a person after a crash left the outcome unknown) can
keep one. The SMTP password is read from the settings when logging in and never written anywhere.
"""
from __future__ import annotations

import hashlib
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from typing import Literal, Protocol

from pydantic import SecretStr

from services.errors import KiemtraError
from services.settings import Settings

__all__ = ["Channel", "ChannelError", "ChannelRejected", "ChannelUnavailable", "OutgoingDocument", "Receipt", "SmtpChannel",
           "SmtpConfig", "as_email", "message_id_for"]


@dataclass(frozen=True)
class OutgoingDocument:
    """One document to one recipient: the text, the issued file and the stable Message-ID."""

    message_id: str
    to: str
    subject: str
    body: str
    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class Receipt:
    """The channel took the message: its reply (for SMTP, the answer to the end of DATA)."""

    reply_code: int | None
    reply_text: str


class ChannelError(KiemtraError):
    def __init__(self, message: str, *, reply_code: int | None = None, reply_text: str = "",
                 server_down: bool = False) -> None:
        super().__init__(message, reply_code=reply_code)
        self.reply_code, self.reply_text, self.server_down = reply_code, reply_text, server_down


class ChannelUnavailable(ChannelError):
    """Try again later (SMTP 4xx, connection refused or lost, timeout)."""


class ChannelRejected(ChannelError):
    """Never accepted as it is (SMTP 5xx): a person looks at the reason."""


class Channel(Protocol):
    name: str

    def send(self, message: OutgoingDocument) -> Receipt: ...


def message_id_for(delivery_key: str, sender: str) -> str:
    """``<hash.kiemtra@domain-of-sender>``: the same for every attempt of a delivery, different between deliveries."""
    digest = hashlib.sha256(delivery_key.encode()).hexdigest()[:40]
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    return f"<{digest}.kiemtra@{domain}>"


def as_email(message: OutgoingDocument, *, sender: str) -> EmailMessage:
    """The MIME message: Vietnamese text (UTF-8, NFC) and the document attached as it is stored."""
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = unicodedata.normalize("NFC", message.subject)
    mail["Message-ID"] = message.message_id
    mail["Date"] = formatdate(usegmt=True)
    mail.set_content(unicodedata.normalize("NFC", message.body), charset="utf-8")
    maintype, _, subtype = message.content_type.partition("/")
    mail.add_attachment(message.content, maintype=maintype, subtype=subtype, filename=message.filename)
    return mail


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    user: str | None
    password: SecretStr | None
    sender: str
    timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        if not settings.smtp_host:
            raise KiemtraError("Chưa cấu hình máy chủ thư (KIEMTRA_SMTP_HOST).")
        return cls(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                   user=settings.smtp_user, password=settings.smtp_password, sender=settings.smtp_from,
                   timeout_s=settings.smtp_timeout_s)


def _failure(code: int, text: bytes | str, step: str) -> ChannelError:
    reply = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text)[:900]
    message = f"Máy chủ thư trả lời {code} ở bước {step}: {reply}"
    if 400 <= code < 500:
        return ChannelUnavailable(message, reply_code=code, reply_text=reply)
    if code >= 500:
        return ChannelRejected(message, reply_code=code, reply_text=reply)
    return ChannelUnavailable(message, reply_code=code, reply_text=reply)  # an unexpected 1xx-3xx: try again later


class SmtpChannel:
    """E-mail through one SMTP server: one connection per message, MAIL/RCPT/DATA checked one by one."""

    name = "email"

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config, self._ssl = config, ssl_context

    def send(self, message: OutgoingDocument) -> Receipt:
        data = as_email(message, sender=self.config.sender).as_bytes()
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:  # the server, not this message: later, whatever the code
            code = exc.smtp_code if isinstance(exc, smtplib.SMTPResponseException) else None
            raise ChannelUnavailable(f"Không kết nối hoặc đăng nhập được máy chủ thư {self.config.host}:"
                                     f"{self.config.port} ({type(exc).__name__}: {exc})", reply_code=code,
                                     server_down=True) from None
        try:
            return self._transaction(smtp, message.to, data)
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, "gửi") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelUnavailable(f"Mất kết nối với máy chủ thư khi gửi ({type(exc).__name__}: {exc})") from None
        finally:
            _close(smtp)

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = self._ssl or ssl.create_default_context()
        if c.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
        try:
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if c.user:
                smtp.login(c.user, c.password.get_secret_value() if c.password is not None else "")
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def _transaction(self, smtp: smtplib.SMTP, to: str, data: bytes) -> Receipt:
        code, reply = smtp.mail(self.config.sender)
        if code != 250:
            raise _failure(code, reply, "MAIL FROM")
        code, reply = smtp.rcpt(to)
        if code not in (250, 251):
            raise _failure(code, reply, "RCPT TO")
        code, reply = smtp.data(data)
        if code != 250:
            raise _failure(code, reply, "DATA")
        return Receipt(reply_code=code, reply_text=reply.decode("utf-8", "replace")[:900])


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT, whatever it answers: once DATA was accepted the message is sent, and nothing after it changes that."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
