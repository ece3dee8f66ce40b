"""``GET /api/audit-events/``: the audit log for administrators and compliance
officers, with the audit page's filters as query parameters, paged with limit and
offset; nothing can be written through it."""

import datetime as dt
from unittest import mock

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from portal.models import ApiTokenScope, AuditAction, AuditEvent, Role
from portal.services import audit_record
from tests.api_tokens import token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/audit-events/"


@pytest.fixture
def olivia(db):
    return UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def event_at(when: dt.datetime, **kwargs) -> AuditEvent:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return audit_record(**kwargs)


@pytest.fixture
def events(alice, bob, growth, income):
    return [
        event_at(
            dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),
            actor=alice,
            action=AuditAction.EXPORT,
            target=growth,
            details={"format": "xlsx", "size": 10, "sha256": "cd" * 32},
        ),
        event_at(
            dt.datetime(2026, 1, 6, 9, 0, tzinfo=dt.UTC),
            actor=bob,
            action=AuditAction.API_READ,
            target=growth,
            details={"data": "holdings"},
        ),
        event_at(
            dt.datetime(2026, 1, 7, 9, 0, tzinfo=dt.UTC),
            actor=alice,
            action=AuditAction.API_READ,
            target=income,
            details={"data": "values"},
        ),
    ]


@pytest.mark.parametrize("role", [Role.PORTFOLIO_MANAGER, Role.TRADER, Role.RISK_MANAGER])
def test_other_roles_get_403(role, events):
    user = UserFactory(username=f"user-{role}", role=role)
    response = client_for(user).get(URL)
    assert response.status_code == 403
    assert "administrators and compliance officers" in response.json()["detail"]


def test_anonymous_callers_are_refused(events):
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_compliance_officer_reads_events_newest_first(olivia, events, growth):
    response = client_for(olivia).get(URL, {"user": "alice"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert newest["id"] == events[2].pk
    assert oldest == {
        "id": events[0].pk,
        "created_at": "2026-01-05T09:00:00Z",
        "actor_id": events[0].actor_id,
        "actor_username": "alice",
        "action": "export.downloaded",
        "action_label": "Export downloaded",
        "target_type": "analytics.Portfolio",
        "target_id": str(growth.pk),
        "target_repr": str(growth),
        "portfolio_id": growth.pk,
        "ip_address": None,
        "user_agent": "",
        "details": {"format": "xlsx", "size": 10, "sha256": "cd" * 32},
    }


def test_an_administrator_reads_with_a_token(events):
    admin = UserFactory(username="adam", role=Role.ADMIN)
    response = APIClient().get(
        URL, {"action": AuditAction.API_READ}, **token_header(admin, scope=ApiTokenScope.READ)
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [events[2].pk, events[1].pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"portfolio_id": "PORTFOLIO_GROWTH"}, [1, 0]),
        ({"action": AuditAction.API_READ, "portfolio_id": "PORTFOLIO_GROWTH"}, [1]),
        ({"target_type": "analytics.Portfolio", "target_id": "PORTFOLIO_INCOME"}, [2]),
        ({"date_from": "2026-01-06", "date_to": "2026-01-06"}, [1]),
        ({"date_from": "2026-01-06", "date_to": "2026-01-31"}, [2, 1]),
        ({"date_to": "2026-01-05"}, [0]),
    ],
)
def test_the_filters_narrow_the_answer(olivia, events, growth, income, params, expected):
    ids = {"PORTFOLIO_GROWTH": str(growth.pk), "PORTFOLIO_INCOME": str(income.pk)}
    query = {key: ids.get(value, value) for key, value in params.items()}
    query.setdefault("date_to", "2026-06-30")  # not the fixtures' grants, made today
    results = client_for(olivia).get(URL, query).json()["results"]
    assert [row["id"] for row in results] == [events[i].pk for i in expected]


@override_settings(TIME_ZONE="America/New_York")
def test_days_are_the_portals_days(olivia, events):
    # bob's 2026-01-06 09:00 UTC is 04:00 on the 6th in New York; alice's events
    # fall on the 5th and the 7th there.
    event_at(dt.datetime(2026, 1, 7, 3, 0, tzinfo=dt.UTC), actor=olivia, action=AuditAction.LOGIN)
    results = client_for(olivia).get(URL, {"date_to": "2026-01-06", "date_from": "2026-01-06"})
    # 03:00 UTC on the 7th is 22:00 on the 6th in New York: that day's.
    assert [row["actor_username"] for row in results.json()["results"]] == ["olivia", "bob"]


def test_limit_and_offset_page_the_answer(olivia, events):
    client = client_for(olivia)
    first = client.get(URL, {"user": "alice", "limit": 1}).json()
    second = client.get(URL, {"user": "alice", "limit": 1, "offset": 1}).json()
    assert first["count"] == 2
    assert [first["results"][0]["id"], second["results"][0]["id"]] == [
        events[2].pk,
        events[0].pk,
    ]
    assert first["next"] and second["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "last week"}, "date_from"),
        ({"date_from": "2026-01-07", "date_to": "2026-01-06"}, "date_to"),
        ({"action": "nonsense"}, "action"),
        ({"portfolio_id": "growth"}, "portfolio_id"),
    ],
)
def test_bad_filters_get_a_400_naming_the_field(olivia, params, field):
    response = client_for(olivia).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_non_reader_gets_403_even_with_bad_filters(alice):
    assert client_for(alice).get(URL, {"date_from": "last week"}).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nothing_can_be_written_through_the_api(method, olivia, events):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (olivia, admin):
        response = getattr(client_for(user), method)(
            URL, {"action": "auth.login", "id": events[0].pk}, format="json"
        )
        assert response.status_code == 405
        detail = getattr(client_for(user), method)(
            f"{URL}{events[0].pk}/", {"action": "auth.login"}, format="json"
        )
        assert detail.status_code == 404  # there is no per-event resource to change
    stored = AuditEvent.objects.get(pk=events[0].pk)
    assert stored.action == AuditAction.EXPORT
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in events]).count() == 3


def test_the_schema_documents_the_filters_and_no_write_method():
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    schema = client_for(admin).get("/api/schema/", {"format": "json"}).json()
    operations = schema["paths"][URL]
    assert set(operations) == {"get"}
    names = {parameter["name"] for parameter in operations["get"]["parameters"]}
    assert {
        "user",
        "action",
        "target_type",
        "target_id",
        "portfolio_id",
        "date_from",
        "date_to",
        "limit",
        "offset",
    } <= names
