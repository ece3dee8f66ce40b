"""The inbox over the API: bob lists his own messages (never alice's) and marks
them read by id or all at once; a read token may list but not mark."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.channels.inbox import inbox_send
from portal.models import ApiTokenScope, InboxMessage
from tests.api_tokens import token_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages(bob, alice):
    first = inbox_send(recipient=bob, subject="Monthly pack", dedupe_key="pack:1", link="/r/1/")
    second = inbox_send(recipient=bob, subject="Alert: issuer limit", dedupe_key="alert:1")
    alices = inbox_send(recipient=alice, subject="Alice's own", dedupe_key="alice:1")
    return {"first": first, "second": second, "alices": alices}


def test_the_list_holds_only_the_callers_messages_newest_first(client, bob, messages):
    body = client.get(reverse("api-inbox"), **token_header(bob)).json()
    assert body["count"] == 2
    assert [row["subject"] for row in body["results"]] == ["Alert: issuer limit", "Monthly pack"]
    assert body["results"][1]["link"] == "/r/1/"
    assert body["results"][1]["read_at"] is None


def test_marking_by_id_touches_only_the_callers_unread_messages(client, bob, messages):
    ids = [messages["first"].pk, messages["alices"].pk]
    response = client.post(
        reverse("api-inbox-read"),
        {"ids": ids},
        content_type="application/json",
        **token_header(bob),
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    assert InboxMessage.objects.get(pk=messages["alices"].pk).read_at is None
    unread = client.get(reverse("api-inbox") + "?unread=true", **token_header(bob)).json()
    assert [row["subject"] for row in unread["results"]] == ["Alert: issuer limit"]


def test_marking_all_and_again_answers_how_many_were_unread(client, bob, messages):
    url = reverse("api-inbox-read")
    first = client.post(url, {"all": True}, content_type="application/json", **token_header(bob))
    again = client.post(url, {"all": True}, content_type="application/json", **token_header(bob))
    assert (first.json(), again.json()) == ({"marked": 2}, {"marked": 0})


def test_a_mark_naming_nothing_is_a_400_on_ids(client, bob, messages):
    response = client.post(
        reverse("api-inbox-read"), {}, content_type="application/json", **token_header(bob)
    )
    assert response.status_code == 400
    assert "ids" in response.json()


def test_a_read_token_lists_but_may_not_mark(client, bob, messages):
    header = token_header(bob, scope=ApiTokenScope.READ)
    assert client.get(reverse("api-inbox"), **header).status_code == 200
    response = client.post(
        reverse("api-inbox-read"), {"all": True}, content_type="application/json", **header
    )
    assert response.status_code == 403
    assert InboxMessage.objects.filter(recipient=bob, read_at__isnull=True).count() == 2
