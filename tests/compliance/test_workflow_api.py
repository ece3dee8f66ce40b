"""The alert workflow through services, pages and the REST API, with entitlement
scoping: olivia (compliance officer) decides on growth and income; bob (trader)
sees growth's alerts but may not decide; mallory sees nothing; hidden's alerts
are nobody's business but their owner's."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from compliance.models import Alert, AlertState, Rule
from compliance.selectors import alert_history
from compliance.services.alerts import alert_acknowledge, alert_resolve, alert_waive
from portal.models import AuditEvent
from tests.factories import PASSWORD


def make_alert(rule, portfolio, **fields):
    return Alert.objects.create(
        rule=rule,
        portfolio=portfolio,
        severity=fields.pop("severity", "breach"),
        opened_on=fields.pop("opened_on", dt.date(2024, 3, 4)),
        last_observed_on=dt.date(2024, 3, 4),
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
        **fields,
    )


@pytest.fixture
def rule(db):
    return Rule.objects.create(
        name="Max 10%",
        kind="max_instrument_weight",
        limit=0.1,
        params={"exclude_asset_classes": ["cash"]},
    )


@pytest.fixture
def alerts(rule, growth, income, hidden):
    return {
        "growth": make_alert(rule, growth),
        "income": make_alert(rule, income, severity="warning"),
        "hidden": make_alert(rule, hidden),
    }


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_acknowledge_requires_a_comment(alerts, olivia):
    with pytest.raises(ValidationError) as error:
        alert_acknowledge(alert=alerts["growth"], user=olivia, comment="  ")
    assert error.value.message_dict == {"comment": ["Acknowledging an alert requires a comment."]}
    alerts["growth"].refresh_from_db()
    assert alerts["growth"].state == AlertState.OPEN
    assert not AuditEvent.objects.filter(
        target_id=str(alerts["growth"].id), details__transition="acknowledged"
    ).exists()


def test_acknowledge_without_comment_is_a_400_with_the_field_error(alerts, olivia):
    url = reverse("api-compliance-alert-action", args=[alerts["growth"].id, "acknowledge"])
    response = api(olivia).post(url, {"comment": ""}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": ["Acknowledging an alert requires a comment."]}


def test_acknowledge_without_comment_on_the_page_shows_the_error(client, alerts, olivia):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("compliance:alert-detail", args=[alerts["growth"].id])
    response = client.post(url, {"action": "acknowledge", "acknowledge-comment": ""})
    assert response.status_code == 400
    assert "Acknowledging an alert requires a comment." in response.content.decode()


def test_full_workflow_is_audited_and_shown_in_the_history(alerts, olivia):
    alert = alerts["growth"]
    alert_acknowledge(alert=alert, user=olivia, comment="Trader told to sell down")
    with pytest.raises(ValidationError):
        alert_resolve(alert=alert, user=olivia)  # still in breach
    Alert.objects.filter(id=alert.id).update(is_current=False, cured_on=dt.date(2024, 3, 6))
    alert_resolve(alert=alert, user=olivia, comment="Sold")
    history = list(alert_history(alert=alert))
    assert [e.details["transition"] for e in history] == ["acknowledged", "resolved"]
    assert history[0].actor_username == "olivia"
    assert history[0].details["comment"] == "Trader told to sell down"


def test_waive_requires_a_reason(alerts, olivia):
    with pytest.raises(ValidationError) as error:
        alert_waive(alert=alerts["growth"], user=olivia, reason="")
    assert "reason" in error.value.message_dict


def test_alerts_are_scoped_by_entitlements(alerts, olivia, bob, mallory):
    url = reverse("api-compliance-alerts")
    assert {a["portfolio"] for a in api(olivia).get(url).json()["results"]} == {"GROWTH", "INCOME"}
    assert {a["portfolio"] for a in api(bob).get(url).json()["results"]} == {"GROWTH"}
    assert api(mallory).get(url).json()["results"] == []
    hidden = reverse("api-compliance-alert", args=[alerts["hidden"].id])
    assert api(olivia).get(hidden).status_code == 404


def test_a_viewer_cannot_decide_and_an_outsider_gets_404(alerts, bob, mallory):
    url = reverse("api-compliance-alert-action", args=[alerts["growth"].id, "acknowledge"])
    assert api(bob).post(url, {"comment": "ok"}, format="json").status_code == 403
    assert api(mallory).post(url, {"comment": "ok"}, format="json").status_code == 404


def test_queue_page_filters_and_bulk_acknowledges(client, alerts, olivia):
    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("compliance:index"), {"severity": "breach"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "GROWTH" in body and "INCOME" not in body.split("alert-table")[1]
    missing_comment = client.post(
        reverse("compliance:index"), {"alerts": [alerts["growth"].id, alerts["income"].id]}
    )
    assert "Acknowledging an alert requires a comment." in missing_comment.content.decode()
    response = client.post(
        reverse("compliance:index"),
        {"alerts": [alerts["growth"].id, alerts["income"].id], "comment": "Reviewed"},
    )
    assert response.status_code == 302
    states = set(
        Alert.objects.filter(id__in=[alerts["growth"].id, alerts["income"].id]).values_list(
            "state", flat=True
        )
    )
    assert states == {AlertState.ACKNOWLEDGED}


def test_bulk_acknowledge_of_an_alert_one_cannot_see_is_404(alerts, olivia):
    url = reverse("api-compliance-bulk-acknowledge")
    response = api(olivia).post(
        url, {"alerts": [alerts["growth"].id, alerts["hidden"].id], "comment": "x"}, format="json"
    )
    assert response.status_code == 404
    assert Alert.objects.get(id=alerts["growth"].id).state == AlertState.OPEN


def test_rules_api_validates_parameters_with_field_errors(admin_user):
    url = reverse("api-compliance-rules")
    response = api(admin_user).post(
        url,
        {
            "name": "Sector cap",
            "kind": "max_group_weight",
            "limit": 0.3,
            "params": {"attribute": "colour"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "attribute" in response.json()
    assert not Rule.objects.exists()
    created = api(admin_user).post(
        url,
        {
            "name": "Sector cap",
            "kind": "max_group_weight",
            "limit": 0.3,
            "params": {"attribute": "sector"},
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["params"]["exclude_asset_classes"] == ["cash"]


def test_templates_create_their_rule_set_once(admin_user, growth):
    url = reverse("api-compliance-template-apply")
    body = {"template": "sec_18f4_relative", "scope": "portfolio", "portfolio": growth.id}
    response = api(admin_user).post(url, body, format="json")
    assert response.status_code == 201
    assert [r["kind"] for r in response.json()] == ["max_relative_var", "var_backtest"]
    again = api(admin_user).post(url, body, format="json")
    assert again.status_code == 400 and "template" in again.json()


def test_a_trader_cannot_configure_rules(bob, growth):
    url = reverse("api-compliance-template-apply")
    response = api(bob).post(
        url,
        {"template": "ucits_5_10_40", "scope": "portfolio", "portfolio": growth.id},
        format="json",
    )
    assert response.status_code == 403


def test_rule_and_template_pages_render(client, admin_user, growth):
    client.force_login(admin_user)
    response = client.post(
        reverse("compliance:rules"),
        {
            "template-template": "ucits_5_10_40",
            "template-scope": "portfolio",
            "template-portfolio": growth.id,
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("compliance:rules"))
    assert "UCITS: at most 10% of net assets per issuer" in page.content.decode()
    bad = client.post(
        reverse("compliance:rules"),
        {
            "rule-name": "x",
            "rule-kind": "max_group_weight",
            "rule-limit": "0.1",
            "rule-warning_level": "0.9",
            "rule-params": "{not json",
            "rule-scope": "all",
            "rule-cure_period_days": "5",
        },
    )
    assert bad.status_code == 400 and "Not valid JSON" in bad.content.decode()
