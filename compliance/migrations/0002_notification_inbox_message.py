# Moves the in-app part of compliance notifications (subject, body, read receipt)
# into the portal core's inbox, so report deliveries later land in the same inbox.
# The next migration makes the link required and drops the old columns: apart, since
# PostgreSQL refuses to alter a table with deferred foreign-key checks pending.

import django.db.models.deletion
from django.db import migrations, models
from django.urls import reverse


def _dedupe_key(notification):
    # The format compliance.services.notifications writes.
    return f"compliance.notification:{notification.alert_id}:{notification.kind}:{notification.key}"


def notifications_to_inbox(apps, schema_editor):
    Notification = apps.get_model("compliance", "Notification")
    InboxMessage = apps.get_model("portal", "InboxMessage")
    for notification in Notification.objects.filter(message__isnull=True).iterator():
        message = InboxMessage.objects.create(
            recipient_id=notification.recipient_id,
            subject=notification.subject,
            body=notification.body,
            link=reverse("compliance:alert-detail", args=[notification.alert_id]),
            dedupe_key=_dedupe_key(notification),
            read_at=notification.read_at,
        )
        # created_at is auto_now_add: keep the notification's time, not the migration's.
        InboxMessage.objects.filter(id=message.id).update(created_at=notification.created_at)
        Notification.objects.filter(id=notification.id).update(message=message)


def inbox_to_notifications(apps, schema_editor):
    Notification = apps.get_model("compliance", "Notification")
    for notification in Notification.objects.select_related("message").iterator():
        Notification.objects.filter(id=notification.id).update(
            subject=notification.message.subject,
            body=notification.message.body,
            read_at=notification.message.read_at,
            message=None,
        )
    InboxMessage = apps.get_model("portal", "InboxMessage")
    InboxMessage.objects.filter(dedupe_key__startswith="compliance.notification:").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("portal", "0004_inbox_message"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="message",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="compliance_notification",
                to="portal.inboxmessage",
            ),
        ),
        migrations.RunPython(notifications_to_inbox, inbox_to_notifications),
    ]
