import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_notification_inbox_message"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="message",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="compliance_notification",
                to="portal.inboxmessage",
            ),
        ),
        migrations.RemoveIndex(
            model_name="notification",
            name="compliance__recipie_e0435b_idx",
        ),
        # Defaults first, so that migrating back can re-add the columns to a filled table.
        migrations.AlterField(
            model_name="notification",
            name="subject",
            field=models.CharField(default="", max_length=255),
        ),
        migrations.AlterField(
            model_name="notification",
            name="body",
            field=models.TextField(default=""),
        ),
        migrations.RemoveField(model_name="notification", name="body"),
        migrations.RemoveField(model_name="notification", name="read_at"),
        migrations.RemoveField(model_name="notification", name="subject"),
        migrations.AddField(
            model_name="notification",
            name="email_message_id",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="digest",
            name="message_id",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="digest",
            name="error",
            field=models.TextField(blank=True),
        ),
    ]
