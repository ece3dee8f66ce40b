"""E-mail through Django's mail backend (SMTP in production; file, console or
locmem elsewhere, as ``EMAIL_URL`` says)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.core.mail.utils import DNS_NAME

from portal.channels.errors import ChannelError, TransientChannelError


@dataclass(frozen=True)
class MailAttachment:
    """One attached file: its name as the recipient sees it, its bytes and its
    MIME type (e.g. ``application/pdf``)."""

    filename: str
    content: bytes
    content_type: str


def _refused_for_good(error: smtplib.SMTPException) -> bool:
    """True when the server refused this message or its addresses with a 5xx
    reply; a 4xx (greylisting, a full mailbox for now) may pass on a retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def mail_send(
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[MailAttachment] = (),
    message_id: str | None = None,
) -> str:
    """Send one message to ``to`` and return its Message-ID, for the caller to store.

    Sent: one message from ``settings.DEFAULT_FROM_EMAIL`` with ``subject``, the
    plain-text body ``text``, ``html`` as an alternative part when given, and the
    attachments with their content types. ``message_id`` (``<local@domain>``)
    is the Message-ID to send under, for a caller that retries one delivery under
    one Message-ID so the recipient's mail system can tell a repeat; a new one is
    made when it is not given. Recorded: nothing here; the caller keeps the
    returned Message-ID (and its own status) on its delivery row.

    Raises :class:`TransientChannelError` when the mail server cannot be reached
    or fails on the way (connection refused or dropped, a timeout, a 4xx reply),
    and :class:`ChannelError` when it refuses the addresses or the message with a
    5xx reply, or when there is no address or a header is malformed.
    """
    if not to or not all(to):
        raise ChannelError("a message needs at least one address, and no empty one")
    if message_id is None:
        message_id = make_msgid(domain=str(DNS_NAME))
    elif not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
        raise ChannelError(f"a Message-ID is written <local@domain>, not {message_id!r}")
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers={"Message-ID": message_id},
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.content_type)
    try:
        message.send(fail_silently=False)
    except ValueError as error:  # BadHeaderError, or an address Django cannot parse
        raise ChannelError(f"malformed message: {error}") from error
    except smtplib.SMTPException as error:  # an OSError too: caught first
        if _refused_for_good(error):
            raise ChannelError(f"refused by the mail server: {error}") from error
        raise TransientChannelError(f"mail server failed: {error!r}") from error
    except OSError as error:  # connection refused or reset, DNS, timeout
        raise TransientChannelError(f"mail server unreachable: {error!r}") from error
    return message_id
