"""The in-app inbox page, under /inbox/: the user's messages (alert
notifications, delivered reports), newest first, unread ones marked.

Opening a message marks it read through :func:`portal.channels.inbox.inbox_mark_read`
(the read receipt the sender sees; a delivered report's delivery is confirmed by
it) and follows its link. Only the recipient sees or opens a message: anyone
else's id is a 404, like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.authenticated import AuthenticatedHttpRequest
from portal.channels.inbox import inbox_mark_read
from portal.models import InboxMessage, User

MESSAGES_PER_PAGE = 25


def inbox_messages_of(*, user: User) -> QuerySet[InboxMessage]:
    """The user's own inbox, newest first."""
    return InboxMessage.objects.filter(recipient=user).order_by("-created_at", "-id")


def inbox_unread_count(*, user: User) -> int:
    """How many of the user's messages are unread (the navigation's count)."""
    return InboxMessage.objects.filter(recipient=user, read_at__isnull=True).count()


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's messages, paged; ``?unread=1`` shows the unread ones only."""
    unread_only = request.GET.get("unread") == "1"
    items = inbox_messages_of(user=request.user)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/inbox.html",
        {
            "page": page,
            "items": list(page),
            "unread_only": unread_only,
            "unread": inbox_unread_count(user=request.user),
        },
    )


@login_required
@require_POST
def inbox_open(request: AuthenticatedHttpRequest, message_id: int) -> HttpResponse:
    """Mark one of the user's messages read and go to what it links to (or back
    to the inbox when it links nowhere)."""
    message = inbox_messages_of(user=request.user).filter(id=message_id).first()
    if message is None:
        raise Http404("No such message.")
    inbox_mark_read(recipient=request.user, message_ids=[message.pk])
    if message.link.startswith("/") and not message.link.startswith("//"):
        return redirect(message.link)
    return redirect("inbox")


@login_required
@require_POST
def inbox_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mark every unread message of the user's read."""
    ids = list(
        inbox_messages_of(user=request.user)
        .filter(read_at__isnull=True)
        .values_list("id", flat=True)
    )
    marked = inbox_mark_read(recipient=request.user, message_ids=ids)
    messages.success(
        request,
        f"{marked} message{'s' if marked != 1 else ''} marked read."
        if marked
        else "Nothing was unread.",
    )
    return redirect("inbox")
