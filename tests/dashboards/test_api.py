"""The dashboards API: the list with built-ins, widgets with their positions, widget
data with an ETag and 304, the data-version endpoint, and entitlement scoping of a
shared dashboard (alice owns GROWTH and INCOME; bob sees GROWTH through his desk;
mallory sees nothing)."""

import datetime as dt

import pytest
from django.urls import reverse

from analytics.services.versions import portfolio_data_changed_mark
from compliance.models import Alert, AlertState, Evaluation, EvaluationStatus, Rule
from dashboards import selectors, services
from dashboards.models import Dashboard
from portal.models import AuditAction, AuditEvent
from portal.services import entitlement_revoke
from tests.api_tokens import token_header
from tests.dashboards.conftest import hold, snapshot_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(alice):
    return services.dashboard_create(
        owner=alice,
        name="Alice's desk",
        widgets=[
            {"kind": "cumulative", "x": 0, "y": 0, "w": 6, "h": 4},
            {"kind": "data_quality", "x": 6, "y": 0},
            {"kind": "holdings", "x": 0, "y": 4, "w": 12, "h": 5},
        ],
    )


def widget_of(board, kind):
    return board.widgets.get(kind=kind)


def data_url(board, kind):
    return reverse("dashboard-api-widget-data", args=[board.pk, widget_of(board, kind).pk])


def test_the_list_holds_the_built_in_dashboards_and_ones_own(client, alice, mallory, board):
    client.force_login(mallory)
    names = {d["name"] for d in client.get(reverse("dashboard-api-list")).json()}
    assert {"Portfolio manager", "Trader", "Risk", "Compliance", "Executive"} <= names
    assert "Alice's desk" not in names
    client.force_login(alice)
    names = {d["name"] for d in client.get(reverse("dashboard-api-list")).json()}
    assert "Alice's desk" in names


def test_the_detail_lists_each_widget_with_kind_position_and_size(client, alice, board):
    client.force_login(alice)
    body = client.get(reverse("dashboard-api-detail", args=[board.pk])).json()
    first = body["widgets"][0]
    assert {k: first[k] for k in ("kind", "x", "y", "w", "h")} == {
        "kind": "cumulative",
        "x": 0,
        "y": 0,
        "w": 6,
        "h": 4,
    }
    assert first["id"] == widget_of(board, "cumulative").pk
    # A size left out is the kind's default (data quality: 6 × 3).
    quality = next(w for w in body["widgets"] if w["kind"] == "data_quality")
    assert (quality["w"], quality["h"]) == (6, 3)


def test_an_outsider_gets_404_for_the_dashboard_and_its_widgets(client, mallory, board):
    client.force_login(mallory)
    assert client.get(reverse("dashboard-api-detail", args=[board.pk])).status_code == 404
    assert client.get(data_url(board, "cumulative")).status_code == 404
    assert (
        client.patch(
            reverse("dashboard-api-detail", args=[board.pk]),
            {"name": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_a_view_share_may_not_edit(client, alice, bob, board):
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    client.force_login(bob)
    url = reverse("dashboard-api-detail", args=[board.pk])
    assert client.get(url).status_code == 200
    assert (
        client.patch(url, {"name": "Mine now"}, content_type="application/json").status_code == 403
    )


def test_widget_data_has_an_etag_answers_304_and_changes_with_the_data(
    client, alice, growth, board
):
    snapshot_for(growth)
    client.force_login(alice)
    url = data_url(board, "cumulative")
    first = client.get(url, {"portfolio": growth.pk, "period": "SI"})
    assert first.status_code == 200
    etag = first["ETag"]
    trace = first.json()["figure"]["data"][0]
    assert trace["y"] == pytest.approx([0.0, 0.10, 0.21])
    assert first.json()["as_of"] == "2024-03-28"

    again = client.get(url, {"portfolio": growth.pk, "period": "SI"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    portfolio_data_changed_mark(portfolio_ids=[growth.pk], announce=False)
    changed = client.get(url, {"portfolio": growth.pk, "period": "SI"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_a_shorter_period_restates_the_cumulative_return_from_its_start(
    client, alice, growth, board
):
    snapshot_for(growth)
    client.force_login(alice)
    # 1M back from 28 March 2024 starts on 29 February: growth 1.10 → 1.21 is +10 %.
    body = client.get(
        data_url(board, "cumulative"), {"portfolio": growth.pk, "period": "1M"}
    ).json()
    trace = body["figure"]["data"][0]
    assert trace["x"] == ["2024-02-29", "2024-03-28"]
    assert trace["y"][0] == 0.0
    assert trace["y"][1] == pytest.approx(0.10)


def test_a_bad_filter_is_a_400_with_the_field(client, alice, board):
    client.force_login(alice)
    response = client.get(data_url(board, "cumulative"), {"period": "7Y"})
    assert response.status_code == 400
    assert "period" in response.json()


def test_a_shared_dashboard_shows_the_recipient_only_their_own_portfolios(
    client, alice, bob, growth, income, board
):
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    url = data_url(board, "data_quality")
    client.force_login(alice)
    assert sorted(client.get(url).json()["portfolios"]) == sorted([growth.pk, income.pk])

    client.force_login(bob)
    body = client.get(url).json()
    assert body["portfolios"] == [growth.pk]
    assert [item["code"] for item in body["items"]] == ["GROWTH"]
    # The sharer's other portfolio is not reachable by naming it either.
    assert client.get(url, {"portfolio": income.pk}).status_code == 404
    versions = client.get(reverse("dashboard-api-versions", args=[board.pk])).json()
    assert list(versions["portfolios"]) == [str(growth.pk)]


def test_no_user_is_served_another_users_cache_entry(alice, bob, growth, board):
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    widget = widget_of(board, "cumulative")
    filters = selectors.filters_parse({"portfolio": str(growth.pk)})
    for_alice = selectors.widget_data(user=alice, widget=widget, filters=filters)
    for_bob = selectors.widget_data(user=bob, widget=widget, filters=filters)
    assert for_alice.key != for_bob.key


def test_the_data_version_endpoint_answers_304_until_something_changes(
    client, alice, growth, board
):
    client.force_login(alice)
    url = reverse("dashboard-api-versions", args=[board.pk])
    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    snapshot_for(growth)  # a snapshot finished
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["portfolios"][str(growth.pk)] != first.json()["portfolios"][str(growth.pk)]


def test_the_holdings_widget_searches_sorts_pages_and_filters_by_sector(
    client, alice, growth, board
):
    hold(growth, "OIL", 500, sector="Energy")
    hold(growth, "GAS", 300, sector="Energy")
    hold(growth, "PWR", 200, sector="Utilities")
    client.force_login(alice)
    url = data_url(board, "holdings")
    table = client.get(url, {"portfolio": growth.pk}).json()["table"]
    assert [r["identifier"] for r in table["rows"]] == ["OIL", "GAS", "PWR"]
    assert table["rows"][0]["weight"] == pytest.approx(0.5)  # 500 of 1,000
    energy = client.get(url, {"portfolio": growth.pk, "sector": "Energy", "sort": "identifier"})
    assert [r["identifier"] for r in energy.json()["table"]["rows"]] == ["GAS", "OIL"]
    found = client.get(url, {"portfolio": growth.pk, "q": "pwr"}).json()["table"]
    assert [r["identifier"] for r in found["rows"]] == ["PWR"]
    paged = client.get(url, {"portfolio": growth.pk, "size": 2, "page": 2}).json()["table"]
    assert (paged["page"], paged["pages"], [r["identifier"] for r in paged["rows"]]) == (
        2,
        2,
        ["PWR"],
    )


def test_create_clone_and_share_through_the_api(client, alice, bob, board):
    client.force_login(alice)
    created = client.post(
        reverse("dashboard-api-list"),
        {"name": "Risk view", "widgets": [{"kind": "kpis"}]},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert [w["kind"] for w in created.json()["widgets"]] == ["kpis"]
    clone = client.post(
        reverse("dashboard-api-clone", args=[board.pk]), {}, content_type="application/json"
    )
    assert clone.status_code == 201
    assert clone.json()["name"] == "Copy of Alice's desk"
    assert len(clone.json()["widgets"]) == 3
    share = client.post(
        reverse("dashboard-api-shares", args=[board.pk]),
        {"user": "bob", "level": "edit"},
        content_type="application/json",
    )
    assert share.status_code == 201
    client.force_login(bob)
    assert Dashboard.objects.filter(name="Alice's desk").count() == 1
    # An edit share may rename, but sharing stays with the owner.
    assert (
        client.patch(
            reverse("dashboard-api-detail", args=[board.pk]),
            {"name": "Desk"},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert (
        client.post(
            reverse("dashboard-api-shares", args=[board.pk]),
            {"user": "alice"},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_an_unknown_widget_kind_is_a_400(client, alice, board):
    client.force_login(alice)
    response = client.post(
        reverse("dashboard-api-widgets", args=[board.pk]),
        {"kind": "crystal_ball"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_warm_widget_request_costs_two_queries_beyond_the_login(
    client, alice, growth, board, django_assert_num_queries
):
    snapshot_for(growth)
    client.force_login(alice)
    url = data_url(board, "cumulative")
    assert client.get(url).status_code == 200  # builds and caches
    # The session and its user, then one query authorising the dashboard and the
    # widget together and one reading the entitled portfolios' versions.
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200


def test_a_revoked_entitlement_hides_the_portfolio_from_the_next_widget_request(
    client, alice, bob, growth, board
):
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    snapshot_for(growth)
    client.force_login(bob)
    url = data_url(board, "cumulative")
    assert client.get(url, {"portfolio": growth.pk}).status_code == 200
    entitlement_revoke(actor=alice, entitlement=growth.entitlements.get())  # the desk's
    assert client.get(url, {"portfolio": growth.pk}).status_code == 404
    assert client.get(url).json()["portfolios"] == []


def test_another_users_own_addition_is_a_404_for_everyone_else(client, alice, bob, board):
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    services.widget_add(dashboard=board, user=bob, kind="kpis")
    mine = board.widgets.get(added_by=bob)
    url = reverse("dashboard-api-widget-data", args=[board.pk, mine.pk])
    client.force_login(bob)
    assert client.get(url).status_code == 200
    client.force_login(alice)
    assert client.get(url).status_code == 404


def test_a_token_pull_of_widget_data_is_audited_and_the_pages_polling_is_not(
    client, alice, growth, board
):
    snapshot_for(growth)
    url = data_url(board, "cumulative")
    params = {"portfolio": growth.pk, "period": "SI"}
    client.force_login(alice)
    assert client.get(url, params).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.API_READ).exists()

    pulled = client.get(url, params, **token_header(alice))
    assert pulled.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.API_READ)
    widget = widget_of(board, "cumulative")
    assert (event.actor, event.target_type, event.target_id) == (
        alice,
        "dashboards.Widget",
        str(widget.pk),
    )
    assert event.details == {
        "data": "dashboards.widget.cumulative",
        "dashboard": board.pk,
        "portfolio": str(growth.pk),
        "period": "SI",
    }
    # The same data again, not modified: nothing new left the portal.
    again = client.get(url, params, HTTP_IF_NONE_MATCH=pulled["ETag"], **token_header(alice))
    assert again.status_code == 304
    assert AuditEvent.objects.filter(action=AuditAction.API_READ).count() == 1


def test_the_poll_moves_on_when_an_evaluation_finishes_or_an_alert_changes_state(
    client, alice, growth, board
):
    client.force_login(alice)
    url = reverse("dashboard-api-versions", args=[board.pk])

    def compliance_version():
        return client.get(url).json()["compliance"]

    assert compliance_version() == "0.0.0"  # nothing evaluated, no alert
    evaluation = Evaluation.objects.create(
        portfolio=growth,
        as_of=dt.date(2024, 3, 28),
        data_version=1,
        rules_fingerprint="f",
        trigger="daily",
        status=EvaluationStatus.DONE,
    )
    assert compliance_version() == f"{evaluation.pk}.0.0"
    rule = Rule.objects.create(name="Single name", kind="max_instrument_weight", limit=0.1)
    alert = Alert.objects.create(
        rule=rule,
        portfolio=growth,
        severity="breach",
        state=AlertState.OPEN,
        opened_on=dt.date(2024, 3, 28),
        last_observed_on=dt.date(2024, 3, 28),
        last_utilisation=1.2,
    )
    assert compliance_version() == f"{evaluation.pk}.1.{alert.pk}"
    before = client.get(url)
    Alert.objects.filter(pk=alert.pk).update(state=AlertState.RESOLVED)
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json()["compliance"] == f"{evaluation.pk}.0.0"
