"""The analytics API reads stored snapshots, scoped by entitlements, and lets the
portfolio's managers set its risk limits."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from analytics.models import AnalyticsSnapshot, RiskLimit, SnapshotStatus
from portal.models import AuditAction, AuditEvent

AS_OF = dt.date(2024, 6, 28)
RESULT = {
    "data": {"valuations": 120, "gaps": [{"date": "2024-05-01", "reason": "no valuation"}]},
    "metrics": {
        "definitions": {"sharpe": "mean / std × √N"},
        "windows": {
            "SI": {"portfolio": {"sharpe": 1.1}, "benchmark": None, "notes": []},
            "YTD": {"portfolio": {"sharpe": 0.7}, "benchmark": None, "notes": []},
        },
    },
    "exposures": {
        "dimensions": {
            "sector": [{"sector": "Energy", "net": 0.4}],
            "country": [{"country": "US", "net": 0.9}],
        }
    },
    "attribution": {"available": False, "reason": "The portfolio has no benchmark."},
    "risk_values": {"var_95": 0.018, "gross_exposure": 1.25, "beta": None},
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def snapshot(growth):
    return AnalyticsSnapshot.objects.create(
        portfolio=growth,
        as_of=AS_OF,
        data_version=growth.data_version,
        status=SnapshotStatus.DONE,
        result=RESULT,
    )


def url(portfolio, tail=""):
    return f"/api/portfolios/{portfolio.pk}/analytics/{tail}"


def test_summary_carries_the_key_freshness_and_gaps(bob, growth, snapshot):
    response = client_for(bob).get(url(growth))
    assert response.status_code == 200
    body = response.json()
    assert body["snapshot"]["as_of"] == "2024-06-28"
    assert body["snapshot"]["stale"] is False
    assert body["snapshot"]["current_status"] == "done"
    assert body["data"]["gaps"] == RESULT["data"]["gaps"]
    assert "metrics" in body["sections"]


def test_a_section_can_be_narrowed_to_one_window(bob, growth, snapshot):
    response = client_for(bob).get(url(growth, "metrics/"), {"window": "YTD"})
    assert response.status_code == 200
    assert list(response.json()["metrics"]["windows"]) == ["YTD"]
    exposures = client_for(bob).get(url(growth, "exposures/"), {"by": "country"}).json()
    assert exposures["exposures"]["dimensions"] == {"country": [{"country": "US", "net": 0.9}]}


@pytest.mark.parametrize(
    ("tail", "params", "field"),
    [
        ("metrics/", {"window": "2Y"}, "window"),
        ("metrics/", {"window": "5Y"}, "window"),  # valid name, not in this snapshot
        ("exposures/", {"by": "colour"}, "by"),
        ("nonsense/", {}, "section"),
    ],
)
def test_bad_parameters_get_field_errors(bob, growth, snapshot, tail, params, field):
    response = client_for(bob).get(url(growth, tail), params)
    assert response.status_code == 400
    assert field in response.json()


def test_unavailable_sections_say_why(bob, growth, snapshot):
    body = client_for(bob).get(url(growth, "attribution/")).json()
    assert body["attribution"] == {"available": False, "reason": "The portfolio has no benchmark."}


def test_outsiders_get_404_for_existing_portfolios(mallory, growth, snapshot):
    for tail in ("", "metrics/", "refresh/"):
        method = "post" if tail == "refresh/" else "get"
        assert getattr(client_for(mallory), method)(url(growth, tail)).status_code == 404
    limits = client_for(mallory).get(f"/api/portfolios/{growth.pk}/risk-limits/")
    assert limits.status_code == 404


def test_no_snapshot_yet_is_a_404_with_the_status(bob, growth):
    response = client_for(bob).get(url(growth, "metrics/"))
    assert response.status_code == 404
    assert response.json()["snapshot"]["current_status"] is None


def test_data_changed_since_the_snapshot_is_reported_stale(bob, growth, snapshot):
    type(growth).objects.filter(pk=growth.pk).update(data_version=growth.data_version + 1)
    body = client_for(bob).get(url(growth)).json()
    assert body["snapshot"]["stale"] is True


def test_managers_set_limits_and_see_utilisation(alice, bob, growth, snapshot):
    limits = [
        {"metric": "var_95", "limit": 0.02, "warning_level": 0.85},
        {"metric": "gross_exposure", "limit": 1.2},
        {"metric": "beta", "limit": 1.1},
    ]
    response = client_for(alice).put(
        f"/api/portfolios/{growth.pk}/risk-limits/", limits, format="json"
    )
    assert response.status_code == 200, response.json()
    used = {row["metric"]: row for row in response.json()}
    assert used["var_95"]["utilisation"] == pytest.approx(0.9)
    assert used["var_95"]["status"] == "warning"  # 90 % ≥ its 85 % warning level
    assert used["gross_exposure"]["status"] == "breach"
    assert used["beta"]["status"] == "no_value"  # never a silent "ok"
    seen_by_bob = client_for(bob).get(f"/api/portfolios/{growth.pk}/risk-limits/").json()
    assert [row["metric"] for row in seen_by_bob] == ["beta", "gross_exposure", "var_95"]
    summary = client_for(bob).get(url(growth)).json()
    assert len(summary["risk_limits"]) == 3
    event = AuditEvent.objects.get(action=AuditAction.RISK_LIMITS_CHANGED)
    assert (event.actor, event.target_id) == (alice, str(growth.pk))
    assert [row["metric"] for row in event.details["after"]] == [
        "var_95",
        "gross_exposure",
        "beta",
    ]


def test_viewers_cannot_change_limits(bob, growth, snapshot):
    response = client_for(bob).put(
        f"/api/portfolios/{growth.pk}/risk-limits/",
        [{"metric": "var_95", "limit": 0.5}],
        format="json",
    )
    assert response.status_code == 403
    assert not RiskLimit.objects.exists()


@pytest.mark.parametrize(
    "limits",
    [
        [{"metric": "var_95", "limit": 0}],
        [{"metric": "var_95", "limit": -1}],
        [{"metric": "var_95", "limit": 0.02, "warning_level": 1.5}],
        [{"metric": "shoe_size", "limit": 1}],
        [{"metric": "var_95", "limit": 0.02}, {"metric": "var_95", "limit": 0.03}],
    ],
)
def test_bad_limits_are_rejected_and_change_nothing(alice, growth, limits):
    RiskLimit.objects.create(portfolio=growth, metric="var_99", limit=0.05)
    response = client_for(alice).put(
        f"/api/portfolios/{growth.pk}/risk-limits/", limits, format="json"
    )
    assert response.status_code == 400
    assert list(RiskLimit.objects.values_list("metric", "limit")) == [("var_99", 0.05)]


def test_refresh_queues_the_current_key_once(alice, growth, django_capture_on_commit_callbacks):
    from analytics.models import PositionSnapshot
    from tests.factories import InstrumentFactory

    PositionSnapshot.objects.create(
        portfolio=growth, instrument=InstrumentFactory(), date=AS_OF, quantity=1
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = client_for(alice).post(url(growth, "refresh/"))
        second = client_for(alice).post(url(growth, "refresh/"))
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["current_status"] == "pending"
    assert len(sent) == 1
