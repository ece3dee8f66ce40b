"""Alert notifications land in the portal's inbox and go out by e-mail once, through
the core's channels: at once, in the daily digest, or not at all, as each person
prefers; transient mail failures are retried, permanent ones recorded."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from compliance.models import (
    Alert,
    Digest,
    EmailMode,
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from compliance.services.notifications import alert_notify, notification_email_send
from compliance.services.rules import rule_create
from portal.channels.errors import ChannelError, TransientChannelError
from portal.models import InboxMessage
from tests.factories import PASSWORD

DAY = dt.date(2024, 3, 8)


@pytest.fixture
def breach(growth, olivia, admin_user):
    """A hard breach on alice's growth portfolio: olivia (its officer) and alice
    (its manager) are the people to tell."""
    rule = rule_create(
        user=admin_user, name="Max 10% per instrument", kind="max_instrument_weight", limit=0.10
    )
    return Alert.objects.create(
        rule=rule,
        portfolio=growth,
        severity="breach",
        opened_on=DAY,
        last_observed_on=DAY,
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
    )


def notify(breach, capture, kind=NotificationKind.OPENED, key="opened"):
    with capture(execute=True):
        return alert_notify(alert=breach, kind=kind, key=key)


def test_an_alert_event_reaches_each_inbox_and_mailbox_once(
    breach, eager_celery, django_capture_on_commit_callbacks
):
    created = notify(breach, django_capture_on_commit_callbacks)
    assert {n.recipient.username for n in created} == {"olivia", "alice"}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "olivia@example.com"]
    subject = "New compliance breach: Max 10% per instrument on GROWTH"
    assert {m.subject for m in mail.outbox} == {subject}
    for notification in Notification.objects.select_related("message"):
        assert notification.email_status == EmailStatus.SENT
        assert notification.email_message_id.startswith("<")
        assert notification.message.recipient_id == notification.recipient_id
        assert notification.message.subject == subject
        assert notification.message.link == reverse("compliance:alert-detail", args=[breach.id])
        assert notification.message.read_at is None

    assert notify(breach, django_capture_on_commit_callbacks) == []  # the same event again
    assert Notification.objects.count() == InboxMessage.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_second_send_of_one_notification_mails_nothing(
    breach, eager_celery, django_capture_on_commit_callbacks
):
    notify(breach, django_capture_on_commit_callbacks)
    notification = Notification.objects.first()
    assert notification_email_send(notification_id=notification.id) is False
    assert len(mail.outbox) == 2


def test_the_notifications_page_lists_unread_and_marks_read(
    client, breach, alice, eager_celery, django_capture_on_commit_callbacks
):
    notify(breach, django_capture_on_commit_callbacks)
    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("compliance:notifications")).content.decode()
    assert "<strong><a href" in page and "New compliance breach" in page
    assert "e-mail sent" in page

    response = client.post(reverse("compliance:notifications-read"), {"all": "1"})
    assert response.status_code == 302
    page = client.get(reverse("compliance:notifications")).content.decode()
    assert "New compliance breach" in page and "<strong>" not in page
    # alice's copy of the same event is still unread.
    assert InboxMessage.objects.get(recipient=alice).read_at is None
    assert InboxMessage.objects.get(recipient__username="olivia").read_at is not None


def test_a_transient_mail_failure_hands_the_claim_back_for_the_retry(
    breach, monkeypatch, django_capture_on_commit_callbacks
):
    notify(breach, django_capture_on_commit_callbacks)  # not eager: only queued
    notification = Notification.objects.get(recipient__username="alice")
    assert notification.email_status == EmailStatus.PENDING

    def smtp_down(**message):
        raise TransientChannelError("mail server unreachable")

    monkeypatch.setattr("compliance.services.notifications.mail_send", smtp_down)
    with pytest.raises(TransientChannelError):
        notification_email_send(notification_id=notification.id)
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.PENDING
    assert "unreachable" in notification.email_error

    monkeypatch.undo()
    assert notification_email_send(notification_id=notification.id) is True
    assert notification_email_send(notification_id=notification.id) is False
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT and notification.email_error == ""
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_retries_that_run_out_leave_the_email_failed(
    breach, monkeypatch, django_capture_on_commit_callbacks
):
    from compliance.tasks import notification_email_send as task

    notify(breach, django_capture_on_commit_callbacks)  # not eager: only queued
    notification = Notification.objects.get(recipient__username="alice")

    def smtp_down(**message):
        raise TransientChannelError("mail server unreachable")

    monkeypatch.setattr("compliance.services.notifications.mail_send", smtp_down)
    # The last allowed attempt: the task gives up and its on_failure records it.
    result = task.apply(args=[notification.id], retries=task.max_retries, throw=False)
    assert isinstance(result.result, TransientChannelError)
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.FAILED
    assert "unreachable" in notification.email_error


def test_a_refused_address_is_recorded_and_not_retried(
    breach, monkeypatch, django_capture_on_commit_callbacks
):
    notify(breach, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(recipient__username="alice")

    def refused(**message):
        raise ChannelError("refused by the mail server: 550 no such user")

    monkeypatch.setattr("compliance.services.notifications.mail_send", refused)
    assert notification_email_send(notification_id=notification.id) is False
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.FAILED
    assert "550" in notification.email_error
    # The in-app message is there all the same.
    assert notification.message.subject.startswith("New compliance breach")


def test_in_app_only_people_get_no_email(
    breach, olivia, eager_celery, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=olivia, email_mode=EmailMode.NONE)
    notify(breach, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert Notification.objects.get(recipient=olivia).email_status == EmailStatus.NOT_SENT
    assert InboxMessage.objects.filter(recipient=olivia).count() == 1


def test_a_digest_preference_gets_one_digest_with_the_days_notifications_once(
    breach, olivia, eager_celery, django_capture_on_commit_callbacks
):
    from compliance.tasks import digests_send

    NotificationPreference.objects.create(user=olivia, email_mode=EmailMode.DIGEST)
    notify(breach, django_capture_on_commit_callbacks)
    notify(breach, django_capture_on_commit_callbacks, kind=NotificationKind.REOPENED, key="b")
    # alice is mailed at once, olivia waits for the digest.
    assert {m.to[0] for m in mail.outbox} == {"alice@example.com"}
    mail.outbox.clear()

    assert digests_send.delay(DAY.isoformat()).get() == 1
    assert digests_send.delay(DAY.isoformat()).get() == 0  # beat firing twice, or a retry
    [digest_mail] = mail.outbox
    assert digest_mail.to == ["olivia@example.com"]
    assert digest_mail.subject == f"Compliance digest for {DAY}: 2 notification(s)"
    assert "- New compliance breach: Max 10% per instrument on GROWTH" in digest_mail.body
    assert "- Worsened or reopened compliance breach" in digest_mail.body
    digest = Digest.objects.get(recipient=olivia, date=DAY)
    assert digest.status == EmailStatus.SENT and digest.notifications == 2
    assert digest.message_id == digest_mail.message()["Message-ID"]
    statuses = set(
        Notification.objects.filter(recipient=olivia).values_list("email_status", flat=True)
    )
    assert statuses == {EmailStatus.DIGESTED}

    mail.outbox.clear()
    assert digests_send.delay((DAY + dt.timedelta(days=1)).isoformat()).get() == 0
    assert not mail.outbox  # nothing new waits: no empty digest the next day


def test_a_refused_digest_is_recorded_and_its_notifications_wait(
    breach, olivia, monkeypatch, django_capture_on_commit_callbacks
):
    from compliance.services.notifications import digests_send

    NotificationPreference.objects.create(user=olivia, email_mode=EmailMode.DIGEST)
    notify(breach, django_capture_on_commit_callbacks)

    def refused(**message):
        raise ChannelError("refused by the mail server: 550 no such user")

    monkeypatch.setattr("compliance.services.notifications.mail_send", refused)
    assert digests_send(date=DAY) == 0
    assert Digest.objects.get(recipient=olivia).status == EmailStatus.FAILED
    assert Notification.objects.get(recipient=olivia).email_status == EmailStatus.DIGEST


def test_celery_beat_sends_the_digest_every_morning(settings):
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["compliance-daily-digest"]
    assert entry["task"] == "compliance.digests_send"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {7} and entry["schedule"].minute == {0}


def test_removing_a_person_removes_their_notifications_and_inbox(
    breach, olivia, eager_celery, django_capture_on_commit_callbacks
):
    notify(breach, django_capture_on_commit_callbacks)
    olivia_id = olivia.id
    olivia.delete()
    assert not Notification.objects.filter(recipient_id=olivia_id).exists()
    assert not InboxMessage.objects.filter(recipient_id=olivia_id).exists()
    assert Notification.objects.count() == InboxMessage.objects.count() == 1
