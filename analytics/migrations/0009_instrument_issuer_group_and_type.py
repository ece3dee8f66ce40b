from django.db import migrations, models


def _government_from_sector(apps, schema_editor):
    """Existing government bonds, by the classification used until now: fixed income
    in a "Government..." sector."""
    instrument = apps.get_model("analytics", "Instrument")
    instrument.objects.filter(asset_class="fixed_income", sector__istartswith="government").update(
        issuer_type="government"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0008_leases"),
    ]

    operations = [
        migrations.AddField(
            model_name="instrument",
            name="issuer_group",
            field=models.CharField(
                blank=True,
                help_text="Ultimate parent of the issuer's group for consolidated accounts",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="instrument",
            name="issuer_type",
            field=models.CharField(
                choices=[
                    ("corporate", "Corporate"),
                    ("government", "Government (a state or its local authorities)"),
                    ("supranational", "Supranational (public international body)"),
                    ("covered_bond", "Covered bond (credit institution, Art. 52(4))"),
                ],
                default="corporate",
                max_length=20,
            ),
        ),
        migrations.RunPython(_government_from_sector, migrations.RunPython.noop),
    ]
