# SEC Rule 18f-4 remediation dates on alerts, and per-portfolio trading permissions.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0009_instrument_issuer_group_and_type"),
        ("compliance", "0005_restricted_status_asset_coverage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="remediation_escalated_on",
            field=models.DateField(
                blank=True,
                help_text="The business day on which the rule's remediation timeline escalated "
                "(SEC Rule 18f-4: more than five business days out of compliance).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="remediation_follow_up_on",
            field=models.DateField(
                blank=True,
                help_text="The day the fund was back in compliance after an escalated "
                "remediation: the follow-up steps are due.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="TradingPermission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("short_selling", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "granted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "portfolio",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="compliance_trading_permission",
                        to="analytics.portfolio",
                    ),
                ),
            ],
        ),
    ]
