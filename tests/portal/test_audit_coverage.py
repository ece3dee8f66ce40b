"""Every action the issue lists writes its audit event, once, and events about a
portfolio name it (``portfolio_id``) so the audit page can filter on it: API data
pulls (which portfolio, which data), alert transitions, rule and trading
permission changes, entitlement grants, role and permission changes in the admin."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.models import AnalyticsSnapshot, SnapshotStatus
from compliance.models import Alert, Rule, RuleScope
from compliance.services.alerts import alert_acknowledge
from compliance.services.rules import rule_create, rule_deactivate, trading_permission_set
from portal.models import AccessLevel, AuditAction, AuditEvent, Role
from portal.services import entitlement_grant
from tests.api_tokens import token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)


@pytest.fixture
def administrator(db):
    return UserFactory(username="root", role=Role.ADMIN, is_superuser=True, is_staff=True)


@pytest.fixture
def snapshot(growth):
    return AnalyticsSnapshot.objects.create(
        portfolio=growth,
        as_of=dt.date(2024, 6, 28),
        data_version=growth.data_version,
        status=SnapshotStatus.DONE,
        result={"metrics": {"windows": {"SI": {"portfolio": {"sharpe": 1.1}}}}, "data": {}},
    )


def reads_of(user):
    return AuditEvent.objects.filter(action=AuditAction.API_READ, actor=user)


@pytest.mark.parametrize(
    ("tail", "params", "data", "details"),
    [
        ("holdings/", {}, "holdings", {"as_of": None}),
        ("values/", {"start": "2024-01-02"}, "values", {"start": "2024-01-02"}),
        ("analytics/", {}, "analytics", {}),
        ("analytics/metrics/", {"window": "SI"}, "analytics.metrics", {"window": "SI"}),
        ("risk-limits/", {}, "risk_limits", {}),
        ("data-quality/", {}, "data_quality", {}),
    ],
)
def test_each_api_data_pull_records_which_portfolio_and_which_data(
    bob, growth, snapshot, tail, params, data, details
):
    response = APIClient().get(
        f"/api/portfolios/{growth.pk}/{tail}",
        params,
        **token_header(bob),
        HTTP_USER_AGENT="quant-script/1.0",
    )
    assert response.status_code == 200, response.content
    event = reads_of(bob).get()
    assert event.portfolio_id == growth.pk
    assert (event.target_type, event.target_id) == ("analytics.Portfolio", str(growth.pk))
    assert event.details == {**details, "data": data}
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "quant-script/1.0"


def test_a_refused_or_failed_pull_records_no_read(bob, mallory, growth):
    client = APIClient()
    client.force_authenticate(mallory)
    assert client.get(f"/api/portfolios/{growth.pk}/holdings/").status_code == 404
    client.force_authenticate(bob)
    assert client.get(f"/api/portfolios/{growth.pk}/values/", {"start": "x"}).status_code == 400
    # No snapshot yet: nothing was pulled.
    assert client.get(f"/api/portfolios/{growth.pk}/analytics/metrics/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.API_READ).exists()


@pytest.fixture
def growth_rule(administrator, growth):
    return rule_create(
        user=administrator,
        name="Max 10% in one name",
        kind="max_instrument_weight",
        limit=0.1,
        scope=RuleScope.PORTFOLIO,
        portfolio=growth,
    )


def test_rule_changes_name_the_portfolio_of_a_portfolio_rule(administrator, growth, growth_rule):
    created = AuditEvent.objects.get(action=AuditAction.RULE_CREATED)
    assert created.portfolio_id == growth.pk
    assert (created.target_type, created.target_id) == ("compliance.Rule", str(growth_rule.pk))
    rule_deactivate(user=administrator, rule=growth_rule)
    assert AuditEvent.objects.get(action=AuditAction.RULE_DEACTIVATED).portfolio_id == growth.pk


def test_a_rule_for_every_portfolio_names_none(administrator):
    rule_create(user=administrator, name="Cash", kind="max_instrument_weight", limit=0.2)
    assert AuditEvent.objects.get(action=AuditAction.RULE_CREATED).portfolio_id is None


def test_an_alert_transition_names_its_portfolio(officer, growth, growth_rule):
    entitlement_grant(actor=None, portfolio=growth, user=officer, level=AccessLevel.VIEW)
    alert = Alert.objects.create(
        rule=growth_rule,
        portfolio=growth,
        severity="breach",
        opened_on=dt.date(2024, 3, 4),
        last_observed_on=dt.date(2024, 3, 4),
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
    )
    alert_acknowledge(alert=alert, user=officer, comment="Trimming tomorrow")
    event = AuditEvent.objects.get(action=AuditAction.ALERT_DECISION, actor=officer)
    assert event.portfolio_id == growth.pk
    assert event.details["transition"] == "acknowledged"
    assert Rule.objects.filter(pk=growth_rule.pk).exists()


def test_a_trading_permission_change_names_its_portfolio(administrator, growth):
    trading_permission_set(user=administrator, portfolio=growth, short_selling=True)
    event = AuditEvent.objects.get(action=AuditAction.RULE_CHANGED)
    assert event.portfolio_id == growth.pk
    assert event.details == {"short_selling": {"from": False, "to": True}}


def test_an_entitlement_grant_names_its_portfolio(administrator, carol, growth):
    entitlement_grant(actor=administrator, portfolio=growth, user=carol, level=AccessLevel.MANAGE)
    event = AuditEvent.objects.get(action=AuditAction.ENTITLEMENT_GRANTED, actor=administrator)
    assert event.portfolio_id == growth.pk


def test_a_role_or_superuser_change_in_the_admin_records_before_and_after(
    administrator, bob, client
):
    client.force_login(administrator)
    page = client.get(reverse("admin:portal_user_change", args=[bob.pk]))
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "bob",
            "role": Role.COMPLIANCE_OFFICER,
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": bob.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": bob.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
            "entitlements-TOTAL_FORMS": "0",
            "entitlements-INITIAL_FORMS": "0",
        }
    )
    data.pop("last_login", None)
    data.pop("password", None)
    response = client.post(reverse("admin:portal_user_change", args=[bob.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED, actor=administrator)
    assert event.details["changes"] == {
        "role": {"from": "trader", "to": "compliance_officer"},
        "is_superuser": {"from": False, "to": True},
    }


def test_logins_and_failures_are_recorded(alice, client):
    client.post(reverse("login"), {"username": "alice", "password": "not it"})
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 1
    client.force_login(alice)
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=alice).count() == 1


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/api/compliance/alerts/", "compliance.alerts"),
        ("/api/data-quality/findings/", "data_quality.findings"),
    ],
)
def test_a_list_across_portfolios_is_one_read_naming_the_portfolio_filter(bob, growth, url, data):
    client = APIClient()
    assert client.get(url, **token_header(bob)).status_code == 200
    across = reads_of(bob).get()
    assert (across.portfolio_id, across.details["data"], across.details["rows"]) == (None, data, 0)
    assert client.get(url, {"portfolio": growth.pk}, **token_header(bob)).status_code == 200
    narrowed = reads_of(bob).exclude(pk=across.pk).get()
    assert (narrowed.portfolio_id, narrowed.details["portfolio"]) == (growth.pk, str(growth.pk))
