"""The in-app inbox: messages stored for a user, listed in the portal, read there.

The inbox is a channel like mail and webhooks, but its delivery is a row
(:class:`portal.models.InboxMessage`): storing it is sending it, and its
``read_at`` is the read receipt. An app that wants the receipt (a delivered
report is confirmed when its item is read) connects to :data:`inbox_read`, so the
core never imports the app.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from portal.channels.errors import ChannelError
from portal.models import InboxMessage, User

SUBJECT_MAX = InboxMessage._meta.get_field("subject").max_length or 255
DEDUPE_KEY_MAX = InboxMessage._meta.get_field("dedupe_key").max_length or 200

inbox_read = Signal()
"""Sent by :func:`inbox_mark_read` when it marked messages read, inside its
transaction, with ``sender=InboxMessage``, ``recipient`` (the user) and
``message_ids`` (the ids it marked now, never one read before)."""


def inbox_send(
    *, recipient: User, subject: str, body: str = "", link: str = "", dedupe_key: str
) -> InboxMessage:
    """Put one message in ``recipient``'s inbox, once per ``dedupe_key``.

    Sent and recorded: an :class:`~portal.models.InboxMessage` with the subject,
    the plain-text body and ``link`` (a path inside the portal, or empty), unread.
    When the recipient already has a message with this ``dedupe_key`` that one is
    returned unchanged, so a retried or concurrent send stores nothing twice. Call
    it inside the caller's transaction so the message and the caller's own row
    commit together.

    Raises :class:`ChannelError` for a subject or key that does not fit, or a link
    that is not a path inside the portal. There is no transient failure: a
    database error is the caller's transaction failing.
    """
    if not subject or len(subject) > SUBJECT_MAX:
        raise ChannelError(f"an inbox subject has 1 to {SUBJECT_MAX} characters")
    if not dedupe_key or len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ChannelError(f"an inbox dedupe key has 1 to {DEDUPE_KEY_MAX} characters")
    if link and not (link.startswith("/") and not link.startswith("//")):
        raise ChannelError(f"an inbox link is a path inside the portal, not {link!r}")
    message, _ = InboxMessage.objects.get_or_create(
        recipient=recipient,
        dedupe_key=dedupe_key,
        defaults={"subject": subject, "body": body, "link": link},
    )
    return message


def inbox_mark_read(*, recipient: User, message_ids: Iterable[int]) -> int:
    """Mark those of ``message_ids`` that are ``recipient``'s own and unread as read
    now; others' messages are left alone. Returns how many were marked, and sends
    :data:`inbox_read` with their ids (in the same transaction: a receiver's
    failure leaves them unread)."""
    with transaction.atomic():
        # Locked, so two marks of one message at once tell its receivers once.
        unread = list(
            InboxMessage.objects.select_for_update()
            .filter(recipient=recipient, id__in=list(message_ids), read_at__isnull=True)
            .values_list("id", flat=True)
        )
        if not unread:
            return 0
        marked = InboxMessage.objects.filter(id__in=unread).update(read_at=timezone.now())
        inbox_read.send(sender=InboxMessage, recipient=recipient, message_ids=unread)
    return marked
