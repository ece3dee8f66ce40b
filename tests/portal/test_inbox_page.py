"""The in-app inbox page and the navigation's unread count.

Bob has three messages (two unread, one read yesterday); alice has one of her
own. Opening a message marks it read (the read receipt) and follows its link;
nobody sees or opens another's messages.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.channels.inbox import inbox_send
from portal.models import InboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_inbox(bob, alice):
    delivered = inbox_send(
        recipient=bob,
        subject="Monthly pack: February 2026",
        body="Your scheduled report is ready.",
        link="/reports/runs/41/",
        dedupe_key="reports.delivery:1",
    )
    alert = inbox_send(
        recipient=bob,
        subject="Alert: GROWTH issuer limit breached",
        dedupe_key="compliance.notification:7:opened:1",
    )
    old = inbox_send(recipient=bob, subject="Welcome to the portal", dedupe_key="welcome")
    InboxMessage.objects.filter(pk=old.pk).update(read_at=timezone.now() - dt.timedelta(days=1))
    alices = inbox_send(recipient=alice, subject="Alice's own", dedupe_key="alice:1")
    return {"delivered": delivered, "alert": alert, "old": old, "alices": alices}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_inbox_lists_the_users_messages_and_the_nav_counts_the_unread(client, bob, bobs_inbox):
    client.force_login(bob)

    response = client.get(reverse("inbox"))

    assert response.status_code == 200
    html = text(response)
    assert "Monthly pack: February 2026" in html
    assert "Alert: GROWTH issuer limit breached" in html
    assert "Welcome to the portal" in html
    assert "Alice's own" not in html
    assert 'id="nav-inbox-unread" title="2 unread">2<' in html
    unread = re.findall(r'class="inbox-item unread" data-message="(\d+)"', html)
    assert sorted(map(int, unread)) == sorted([bobs_inbox["delivered"].pk, bobs_inbox["alert"].pk])
    assert 'aria-current="page" class="active">Inbox' in html


def test_the_unread_filter(client, bob, bobs_inbox):
    client.force_login(bob)

    html = text(client.get(reverse("inbox"), {"unread": "1"}))

    assert "Monthly pack: February 2026" in html
    assert "Welcome to the portal" not in html


def test_opening_marks_read_and_follows_the_link(client, bob, bobs_inbox):
    client.force_login(bob)
    delivered = bobs_inbox["delivered"]

    response = client.post(reverse("inbox-open", args=[delivered.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/reports/runs/41/"
    delivered.refresh_from_db()
    assert delivered.read_at is not None
    html = text(client.get(reverse("inbox")))
    assert 'title="1 unread">1<' in html


def test_opening_a_message_without_a_link_comes_back_to_the_inbox(client, bob, bobs_inbox):
    client.force_login(bob)

    response = client.post(reverse("inbox-open", args=[bobs_inbox["alert"].pk]))

    assert response["Location"] == reverse("inbox")
    bobs_inbox["alert"].refresh_from_db()
    assert bobs_inbox["alert"].read_at is not None


def test_opening_keeps_the_first_read_time(client, bob, bobs_inbox):
    client.force_login(bob)
    old = bobs_inbox["old"]
    first_read = InboxMessage.objects.get(pk=old.pk).read_at

    client.post(reverse("inbox-open", args=[old.pk]))

    old.refresh_from_db()
    assert old.read_at == first_read


def test_another_users_message_is_a_404_and_stays_unread(client, bob, mallory, bobs_inbox):
    client.force_login(mallory)

    assert client.post(reverse("inbox-open", args=[bobs_inbox["delivered"].pk])).status_code == 404
    assert "Monthly pack" not in text(client.get(reverse("inbox")))
    bobs_inbox["delivered"].refresh_from_db()
    assert bobs_inbox["delivered"].read_at is None


def test_mark_all_read(client, bob, alice, bobs_inbox):
    client.force_login(bob)

    response = client.post(reverse("inbox-read-all"))

    assert response["Location"] == reverse("inbox")
    assert not InboxMessage.objects.filter(recipient=bob, read_at__isnull=True).exists()
    assert InboxMessage.objects.get(pk=bobs_inbox["alices"].pk).read_at is None
    html = text(client.get(reverse("inbox")))
    assert "2 messages marked read." in html
    assert "nav-inbox-unread" not in html


def test_opening_needs_a_post_and_the_page_a_login(client, bob, bobs_inbox):
    assert client.get(reverse("inbox"))["Location"].startswith(reverse("login"))
    client.force_login(bob)
    assert client.get(reverse("inbox-open", args=[bobs_inbox["alert"].pk])).status_code == 405
