"""The alert queue and the rules list sort by any column in the database and page
on the server, with the sort, the page and the filters in the URL."""

import datetime as dt
import re

import pytest

from compliance.models import Alert, AlertState, Rule, RuleScope
from portal.models import AccessLevel
from portal.services import entitlement_grant
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

OPENED = dt.date(2024, 3, 1)


def rule(name, *, limit=0.1, **fields):
    return Rule.objects.create(name=name, kind="max_instrument_weight", limit=limit, **fields)


def alert(portfolio, *, name, utilisation, severity="breach", assignee=None, opened=OPENED):
    return Alert.objects.create(
        rule=rule(name),
        portfolio=portfolio,
        severity=severity,
        state=AlertState.OPEN,
        opened_on=opened,
        last_observed_on=opened,
        last_utilisation=utilisation,
        assignee=assignee,
    )


def shown(response):
    return [row.rule.name for row in response.context["page"]]


@pytest.fixture
def queue(growth, income, olivia):
    """Three alerts: A at 105 % assigned to Zoe Adams, B at 120 % assigned to
    Anna Young, C a 95 % warning assigned to nobody."""
    zoe = UserFactory(username="zadams", first_name="Zoe", last_name="Adams")
    anna = UserFactory(username="ayoung", first_name="Anna", last_name="Young")
    alert(growth, name="A", utilisation=1.05, assignee=zoe)
    alert(income, name="B", utilisation=1.20, assignee=anna)
    alert(growth, name="C", utilisation=0.95, severity="warning")


def test_the_queue_sorts_by_utilisation_both_ways(client, queue, olivia):
    client.force_login(olivia)
    assert shown(client.get("/compliance/", {"sort": "utilisation"})) == ["C", "A", "B"]
    assert shown(client.get("/compliance/", {"sort": "-utilisation"})) == ["B", "A", "C"]


def test_the_queue_sorts_by_the_assignee_s_full_name_nobody_last(client, queue, olivia):
    client.force_login(olivia)
    # "Anna Young" before "Zoe Adams": the name as shown, not the username or surname.
    assert shown(client.get("/compliance/", {"sort": "assignee"})) == ["B", "A", "C"]
    assert shown(client.get("/compliance/", {"sort": "-assignee"})) == ["A", "B", "C"]
    html = client.get("/compliance/", {"sort": "assignee"}).content.decode()
    assert "Anna Young" in html and "ayoung" not in html


def test_the_queue_keeps_its_filters_when_sorted_and_its_sort_when_filtered(
    client, queue, olivia, growth
):
    client.force_login(olivia)
    response = client.get(
        "/compliance/", {"portfolio": growth.id, "state": "active", "sort": "-utilisation"}
    )
    assert shown(response) == ["A", "C"]  # INCOME's B is filtered out
    html = response.content.decode()
    # Every header link keeps the filters; the filter form keeps the sort.
    headers = re.findall(
        r'<th scope="col" aria-sort="[a-z]+" class="sortable[^"]*"><a href="([^"]+)"', html
    )
    assert len(headers) == 8
    assert all(f"portfolio={growth.id}" in href and "state=active" in href for href in headers)
    assert '<input type="hidden" name="sort" value="-utilisation">' in html
    # The active column says so, and its link reverses it.
    assert 'aria-sort="descending" class="sortable num"><a href="?portfolio=' in html
    assert "sort=utilisation" in html


def test_the_queue_pages_on_the_server_with_the_sort_in_the_links(client, growth, olivia):
    for number in range(55):
        alert(growth, name=f"R{number:02d}", utilisation=1.0 + number / 100)
    client.force_login(olivia)
    first = client.get("/compliance/", {"sort": "-utilisation"})
    assert shown(first)[:2] == ["R54", "R53"]
    assert len(shown(first)) == 50
    second = client.get("/compliance/", {"sort": "-utilisation", "page": 2})
    assert shown(second) == ["R04", "R03", "R02", "R01", "R00"]
    html = second.content.decode()
    assert "Page 2 of 2" in html
    assert 'href="?sort=-utilisation&amp;page=1" rel="prev"' in html


def test_an_unknown_queue_sort_is_a_bad_request_naming_the_valid_ones(client, queue, olivia):
    client.force_login(olivia)
    response = client.get("/compliance/", {"sort": "password"})
    assert response.status_code == 400
    assert "utilisation" in response.content.decode()


def rule_names(response):
    return [r.name for r in response.context["page"]]


@pytest.fixture
def rules(growth, olivia):
    """Three rules: "Cash" 5 % on every portfolio, "Issuer" 10 % on GROWTH, and
    "Sector" 25 % on the Compliance team's portfolios (olivia's team)."""
    team = TeamFactory(name="Compliance")
    rule("Cash", limit=0.05)
    rule("Issuer", limit=0.10, scope=RuleScope.PORTFOLIO, portfolio=growth)
    rule("Sector", limit=0.25, scope=RuleScope.TEAM, team=team)


def test_the_rules_sort_by_limit_both_ways(client, rules, olivia):
    client.force_login(olivia)
    assert rule_names(client.get("/compliance/rules/", {"sort": "limit"})) == [
        "Cash",
        "Issuer",
        "Sector",
    ]
    assert rule_names(client.get("/compliance/rules/", {"sort": "-limit"})) == [
        "Sector",
        "Issuer",
        "Cash",
    ]


def test_the_rules_sort_by_their_scope_as_shown(client, rules, olivia):
    client.force_login(olivia)
    # "All portfolios" < "GROWTH" < "Team Compliance"
    assert rule_names(client.get("/compliance/rules/", {"sort": "scope"})) == [
        "Cash",
        "Issuer",
        "Sector",
    ]
    assert rule_names(client.get("/compliance/rules/", {"sort": "-scope"})) == [
        "Sector",
        "Issuer",
        "Cash",
    ]


def test_the_rules_page_on_the_server_and_a_team_rule_is_listed_once(client, growth, olivia):
    # A team rule reachable through two paths (membership and entitlement) is one row.
    team = TeamFactory(name="Compliance")
    entitlement_grant(actor=None, portfolio=growth, team=team, level=AccessLevel.VIEW)
    rule("Team rule", scope=RuleScope.TEAM, team=team)
    for number in range(54):
        rule(f"Rule {number:02d}", limit=0.01 * (number + 1))
    client.force_login(olivia)
    second = client.get("/compliance/rules/", {"sort": "name", "page": 2})
    assert rule_names(second) == ["Rule 50", "Rule 51", "Rule 52", "Rule 53", "Team rule"]
    html = second.content.decode()
    assert "Page 2 of 2" in html and "(51–55 of 55)" in html
    assert 'href="?sort=name&amp;page=1" rel="prev"' in html


def test_an_unknown_rules_sort_is_a_bad_request(client, rules, olivia):
    client.force_login(olivia)
    assert client.get("/compliance/rules/", {"sort": "secret"}).status_code == 400
