"""Joins the two migrations that both follow 0009 (trade trader/strategy, and risk
limit windows with the risk-free series); neither changes what the other touches."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0010_risk_limit_windows_and_risk_free"),
        ("analytics", "0010_trade_trader_strategy"),
    ]

    operations = []
