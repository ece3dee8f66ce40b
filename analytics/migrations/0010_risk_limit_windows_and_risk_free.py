from django.db import migrations, models

# The windows the limits were checked on before they were configurable, written
# onto the existing rows so that each limit states its window.
_WINDOWS_USED_BEFORE = {
    "var_95": "500D",
    "var_99": "500D",
    "cvar_95": "500D",
    "annual_volatility": "1Y",
    "tracking_error": "1Y",
    "beta": "1Y",
    "max_drawdown": "SI",
    "gross_exposure": "as_of",
    "net_exposure": "as_of",
    "top10_weight": "as_of",
    "largest_position": "as_of",
}


def _state_windows(apps, schema_editor):
    risk_limit = apps.get_model("analytics", "RiskLimit")
    for metric, window in _WINDOWS_USED_BEFORE.items():
        risk_limit.objects.filter(metric=metric, window="").update(window=window)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0009_instrument_issuer_group_and_type"),
    ]

    operations = [
        migrations.AddField(
            model_name="portfolio",
            name="risk_free_factor",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Factor code of the portfolio's risk-free series (monthly factor returns, "
                    "e.g. the Fama-French RF); blank: the constant ANALYTICS_RISK_FREE_RATE."
                ),
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="risklimit",
            name="window",
            field=models.CharField(
                blank=True,
                choices=[
                    ("500D", "last 500 daily returns"),
                    ("1Y", "last 1 year"),
                    ("3Y", "last 3 years"),
                    ("5Y", "last 5 years"),
                    ("SI", "since inception"),
                    ("as_of", "holdings on the as-of date"),
                ],
                help_text="The returns the figure is measured on; blank: the metric's default window.",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="risklimit",
            name="metric",
            field=models.CharField(
                choices=[
                    ("var_95", "1-day historical VaR 95%"),
                    ("var_99", "1-day historical VaR 99%"),
                    ("cvar_95", "1-day historical CVaR 95%"),
                    ("annual_volatility", "Annualised volatility"),
                    ("tracking_error", "Tracking error (annualised)"),
                    ("beta", "Beta to benchmark"),
                    ("max_drawdown", "Maximum drawdown"),
                    ("current_drawdown", "Current drawdown"),
                    ("gross_exposure", "Gross exposure"),
                    ("net_exposure", "Net exposure"),
                    ("top10_weight", "Top-10 holdings weight"),
                    ("largest_position", "Largest position weight"),
                ],
                max_length=32,
            ),
        ),
        migrations.AlterModelOptions(
            name="risklimit",
            options={"ordering": ["portfolio", "metric", "window"]},
        ),
        migrations.RemoveConstraint(
            model_name="risklimit",
            name="one_limit_per_metric",
        ),
        migrations.AddConstraint(
            model_name="risklimit",
            constraint=models.UniqueConstraint(
                fields=("portfolio", "metric", "window"), name="one_limit_per_metric_window"
            ),
        ),
        migrations.RunPython(_state_windows, migrations.RunPython.noop),
        migrations.CreateModel(
            name="PositionSource",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="PositionSnapshot.source", max_length=64, unique=True
                    ),
                ),
                (
                    "basis",
                    models.CharField(
                        choices=[("trade_date", "Trade date"), ("settle_date", "Settle date")],
                        default="trade_date",
                        max_length=16,
                    ),
                ),
                ("description", models.CharField(blank=True, max_length=200)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AlterField(
            model_name="dataqualityfinding",
            name="kind",
            field=models.CharField(
                choices=[
                    ("position_break", "Position does not reconcile with trades"),
                    ("settlement_timing", "Position differs by settlement timing only"),
                    ("stale_price", "Stale price"),
                    ("price_gap", "Missing prices (gap)"),
                    ("price_spike", "Price spike"),
                    ("missing_price", "Holding without a price"),
                    ("missing_fx", "Missing FX rate"),
                    ("duplicate_trade", "Possible duplicate trade"),
                    ("non_trading_day_trade", "Trade on a non-trading day"),
                ],
                max_length=32,
            ),
        ),
    ]
