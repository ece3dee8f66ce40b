"""The compliance pages as an officer works in them: decision errors at the
decision's form, only the decisions the alert's state allows, names instead of
slugs, dicts and enums, and the cross-portfolio headroom view."""

import pytest
from django.template import Context, Template

from compliance.models import Alert, AlertState, Rule
from compliance.services.alerts import ACTION_ALLOWED_STATES, alert_actions_allowed
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import template_apply
from tests.compliance.conftest import BUY, book, business_days
from tests.factories import UserFactory


@pytest.fixture
def breach(growth, olivia):
    """AAA 90 × 100 rising 10 % a day against a 10 % instrument limit, with BBB
    5,000 and cash 86,000: 9,000 / 100,000 = 90 % of the limit on day 0 (a warning),
    then 9,900 / 100,900 = 98.1 %, 10,890 / 101,890 = 106.9 % (a breach) and
    11,979 / 102,979 = 116.3 %."""
    days = business_days(4)
    closes = {"AAA": [100, 110, 121, 133.1], "BBB": [50] * 4}
    book(growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 90), (0, "BBB", BUY, 100)])
    rule = Rule.objects.create(
        name="Max 10% per instrument",
        kind="max_instrument_weight",
        limit=0.1,
        params={"exclude_asset_classes": ["cash"]},
    )
    for day in days:
        evaluate_now(portfolio=growth, as_of=day)
    return Alert.objects.get(rule=rule)


def test_acknowledging_without_a_comment_shows_the_error_at_the_form(client, breach, olivia):
    client.force_login(olivia)
    response = client.post(
        f"/compliance/alerts/{breach.id}/", {"action": "acknowledge", "acknowledge-comment": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    form_start = html.index('id="action-acknowledge"')
    form_html = html[form_start : html.index("</form>", form_start)]
    # The summary (focused and scrolled to by form_errors.js) is inside the form.
    assert 'class="error-summary"' in form_html
    assert "Acknowledging an alert requires a comment." in form_html
    # And the top of the page says what happened and links to the form.
    banner = html[html.index('id="decision-banner"') : form_start]
    assert "Not acknowledged." in banner and 'href="#action-acknowledge"' in banner
    breach.refresh_from_db()
    assert breach.state == AlertState.OPEN


def test_waiving_without_a_reason_shows_the_error_at_the_waive_form(client, breach, olivia):
    client.force_login(olivia)
    response = client.post(f"/compliance/alerts/{breach.id}/", {"action": "waive"})
    html = response.content.decode()
    form_start = html.index('id="action-waive"')
    assert "Waiving an alert requires a reason." in html[form_start:]
    assert 'class="failed"' in html[form_start - 80 : form_start + 80]


def test_the_panel_offers_only_what_the_state_allows(client, breach, olivia):
    from compliance.services.alerts import alert_acknowledge

    client.force_login(olivia)
    html = client.get(f"/compliance/alerts/{breach.id}/").content.decode()
    # Open and still in breach: no resolve (not cured), no reopen (not decided).
    assert alert_actions_allowed(breach) == ["acknowledge", "waive", "snooze", "assign"]
    for action in ("acknowledge", "waive", "snooze", "assign"):
        assert f'id="action-{action}"' in html
    assert 'id="action-resolve"' not in html and 'id="action-reopen"' not in html

    alert_acknowledge(alert=breach, user=olivia, comment="Seen")
    breach.refresh_from_db()
    html = client.get(f"/compliance/alerts/{breach.id}/").content.decode()
    assert 'id="action-acknowledge"' not in html
    assert 'id="action-reopen"' in html
    assert set(alert_actions_allowed(breach)) <= {
        action for action, states in ACTION_ALLOWED_STATES.items() if breach.state in states
    }


def test_a_refused_transition_posted_anyway_is_an_error_at_its_form(client, breach, olivia):
    client.force_login(olivia)
    response = client.post(
        f"/compliance/alerts/{breach.id}/", {"action": "reopen", "reopen-comment": "again"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    form_start = html.index('id="action-reopen"')
    assert "An open alert cannot be reopened." in html[form_start:]


def test_assign_defaults_to_the_current_assignee_and_people_are_shown_by_name(
    client, breach, olivia, admin_user
):
    olivia.first_name, olivia.last_name = "Olivia", "Officer"
    olivia.save()
    breach.assignee = olivia
    breach.save()
    client.force_login(olivia)
    html = client.get(f"/compliance/alerts/{breach.id}/").content.decode()
    assert f'<option value="{olivia.id}" selected>Olivia Officer</option>' in html
    assert "Olivia Officer" in html[html.index('id="alert-assignee"') :][:200]


def test_rules_a_user_may_not_edit_show_no_edit_save_or_deactivate(
    client, growth, olivia, admin_user
):
    everyone = Rule.objects.create(name="Min cash 1%", kind="min_cash", limit=0.01)
    client.force_login(olivia)  # an officer: may not change an all-portfolio rule
    html = client.get(f"/compliance/rules/{everyone.id}/").content.decode()
    assert "rule-edit-form" not in html and "Deactivate" not in html
    assert (
        client.post(f"/compliance/rules/{everyone.id}/", {"action": "deactivate"}).status_code
        == 403
    )
    client.force_login(admin_user)
    html = client.get(f"/compliance/rules/{everyone.id}/").content.decode()
    assert "rule-edit-form" in html and "Deactivate" in html


def test_template_rules_are_named_with_their_portfolio_and_show_no_slug_or_dict(
    client, growth, income, admin_user, bob
):
    for portfolio in (growth, income):
        template_apply(
            user=admin_user, template="ucits_5_10_40", scope="portfolio", portfolio=portfolio
        )
    client.force_login(admin_user)
    queue = client.get("/compliance/").content.decode()
    assert "UCITS: at most 10% of net assets per issuer · GROWTH" in queue
    assert "UCITS: at most 10% of net assets per issuer · INCOME" in queue
    rules = client.get("/compliance/rules/").content.decode()
    table = rules[rules.index('id="rule-table"') : rules.index("</table>")]
    assert "ucits_5_10_40" not in table and "UCITS 5/10/40" in table
    rule = Rule.objects.filter(template="ucits_5_10_40", portfolio=growth).first()
    client.force_login(bob)  # a trader reads the rule; there is no edit form for him
    detail = client.get(f"/compliance/rules/{rule.id}/").content.decode()
    assert "rule-edit-form" not in detail
    assert "{'" not in detail and "exclude_asset_classes" not in detail
    assert "issuer group (consolidated accounts)" in detail


@pytest.mark.parametrize(
    ("utilisation", "shown"),
    [
        (0.2999 / 0.30, "99.97%"),  # 29.99 % against 30 %: inside, never "100.0%"
        (0.953, "95.3%"),
        (1.0, "100.0%"),
        (0.30004 / 0.30, "100.01%"),
        (float("inf"), "unbounded"),
    ],
)
def test_a_utilisation_just_inside_the_limit_keeps_its_decimals(utilisation, shown):
    rendered = Template("{% load compliance_tags %}{{ u|utilisation }}").render(
        Context({"u": utilisation})
    )
    assert rendered == shown


def test_a_watch_list_alert_reads_as_a_hit(client, growth, olivia):
    days = business_days(1)
    book(growth, days=days, closes={"AAA": [100]}, trades=[(0, "AAA", BUY, 23)])
    Rule.objects.create(
        name="Watch ACME", kind="watch_list", limit=0.0, params={"identifiers": ["AAA"]}
    )
    evaluate_now(portfolio=growth, as_of=days[0])
    alert = Alert.objects.get(rule__kind="watch_list")
    client.force_login(olivia)
    html = client.get(f"/compliance/alerts/{alert.id}/").content.decode()
    # 23 × 100 = 2,300 of 100,000: 2.30 % of net assets.
    assert "Watch-list hit: AAA (2.30% of net assets)" in html
    assert "limit 0.00" not in html.lower()
    queue = client.get("/compliance/").content.decode()
    assert "watch-list hit" in queue and "unbounded" not in queue


def test_the_headroom_view_sorts_by_utilisation_and_by_any_column(
    client, breach, growth, income, olivia
):
    days = business_days(4)
    cash_rule = Rule.objects.create(name="Min cash 1%", kind="min_cash", limit=0.01)
    evaluate_now(portfolio=growth, as_of=days[3])
    client.force_login(olivia)
    html = client.get("/compliance/headroom/").content.decode()
    # Day 3: AAA 90 × 133.1 = 11,979 of 102,979 net assets (cash 86,000 + BBB 5,000):
    # 11.63 %, 116.3 % of the 10 % limit, 16.3 % beyond. Cash 86,000 / 102,979 = 83.51 %:
    # the 1 % minimum is used 0.01 / 0.8351 = 1.2 %, 98.8 % left.
    rows = html[html.index("<tbody>") :]
    assert rows.index("Max 10% per instrument") < rows.index("Min cash 1%")
    assert "16.3% beyond" in rows and "98.8% left" in rows
    api = client.get("/api/compliance/headroom/?sort=utilisation").json()
    assert [row["rule"] for row in api] == ["Min cash 1%", "Max 10% per instrument"]
    assert api[1]["utilisation"] == pytest.approx(11_979 / 102_979 / 0.10)
    assert api[1]["headroom"] == pytest.approx(1 - 11_979 / 102_979 / 0.10)
    assert api[0]["utilisation"] == pytest.approx(0.01 / (86_000 / 102_979))
    assert api[0]["rule_id"] == cash_rule.id
    assert client.get("/compliance/headroom/?sort=nonsense").status_code == 400
    assert client.get("/api/compliance/headroom/?sort=nonsense").status_code == 400


def test_the_headroom_view_shows_only_entitled_portfolios(client, breach, hidden):
    outsider = UserFactory(username="mallory2", role="compliance_officer")
    client.force_login(outsider)
    assert client.get("/api/compliance/headroom/").json() == []


def test_the_api_names_the_decisions_the_state_allows(client, breach, olivia):
    client.force_login(olivia)
    data = client.get(f"/api/compliance/alerts/{breach.id}/").json()
    assert data["allowed_actions"] == ["acknowledge", "waive", "snooze", "assign"]
    refused = client.post(
        f"/api/compliance/alerts/{breach.id}/reopen/",
        {"comment": "again"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["state"] == ["An open alert cannot be reopened."]
