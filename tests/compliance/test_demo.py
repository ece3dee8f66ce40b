"""The demo's compliance set-up gives the compliance officer alerts to work, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from compliance.models import Alert, Rule
from tests.analytics.test_load_demo import QUICK


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", **QUICK, stdout=StringIO())


def test_demo_rules_raise_alerts_for_the_officer_and_load_once(demo):
    out = StringIO()
    call_command("load_compliance_demo", "--if-missing", stdout=out)
    assert "demo rules" in out.getvalue()
    templates = set(Rule.objects.exclude(template="").values_list("template", flat=True))
    assert {"ucits_5_10_40", "ica_1940_diversified", "sec_18f4_absolute"} <= templates
    alerts = Alert.objects.count()
    assert alerts > 0
    assert Alert.objects.filter(assignee__username="compliance").exists()

    rules = Rule.objects.count()
    call_command("load_compliance_demo", "--if-missing", stdout=StringIO())
    assert (Rule.objects.count(), Alert.objects.count()) == (rules, alerts)


def test_without_the_analytics_demo_it_says_what_to_do(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_compliance_demo", stdout=StringIO())
