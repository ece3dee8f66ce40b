"""The audit page: administrators and compliance officers read the log, filter it
by user, action, object, portfolio and date (inclusive days in the portal's time
zone), and export exactly the filtered events as CSV or XLSX, each export itself
audited once and sent with its checksum."""

import csv
import datetime as dt
import hashlib
import io
import re
from unittest import mock

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse

from portal.audit_selectors import audit_events_filtered
from portal.models import AuditAction, AuditEvent, Role
from portal.services import audit_record
from tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("zurich")]

UTC = dt.UTC


@pytest.fixture
def zurich():
    # Zurich is on summer time (UTC+2) from 2026-03-29: 2026-03-31 22:30 UTC is
    # already 1 April there.
    with override_settings(TIME_ZONE="Europe/Zurich"):
        yield


@pytest.fixture
def olivia(db):
    return UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)


@pytest.fixture
def adam(db):
    return UserFactory(username="adam", role=Role.ADMIN)


def event_at(when: dt.datetime, **kwargs) -> AuditEvent:
    """An audit event written at ``when`` (the clock is set; rows cannot be edited)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        return audit_record(**kwargs)


@pytest.fixture
def events(alice, bob, carol, growth, income):
    """Four hand-made events (the fixtures' own entitlement grants are today's)."""
    formula_team = TeamFactory(name='=HYPERLINK("http://evil.example","x")')
    return {
        "export": event_at(
            dt.datetime(2026, 3, 30, 10, 0, tzinfo=UTC),
            actor=alice,
            action=AuditAction.EXPORT,
            target=growth,
            details={"format": "csv", "size": 2048, "sha256": "ab" * 32},
        ),
        "login": event_at(
            dt.datetime(2026, 3, 31, 21, 30, tzinfo=UTC),  # 23:30 on 31 March in Zurich
            actor=bob,
            action=AuditAction.LOGIN,
        ),
        "share": event_at(
            dt.datetime(2026, 3, 31, 22, 30, tzinfo=UTC),  # 00:30 on 1 April in Zurich
            actor=alice,
            action=AuditAction.TEAM_MEMBERSHIP_CHANGED,
            target=formula_team,
            portfolio=income,
            details={"added": ["bob"]},
        ),
        "read": event_at(
            dt.datetime(2026, 4, 2, 8, 0, tzinfo=UTC),
            actor=carol,
            action=AuditAction.API_READ,
            target=growth,
            details={"data": "holdings"},
        ),
    }


def ids(*events) -> list[int]:
    return [event.pk for event in events]


def listed(viewer, **filters) -> list[int]:
    """The ids the selector answers, in its order."""
    return [e.pk for e in audit_events_filtered(viewer=viewer, **filters)]


def test_a_portfolio_manager_may_not_read_the_log(alice, client, events):
    client.force_login(alice)
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("audit-export", args=["csv"])).status_code == 403
    assert client.get(reverse("audit-export", args=["xlsx"])).status_code == 403
    with pytest.raises(PermissionDenied):
        audit_events_filtered(viewer=alice)
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("audit"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["olivia", "adam", "superuser"])
def test_compliance_officers_and_administrators_see_every_event(persona, request, client, events):
    viewer = (
        UserFactory(username="root", is_superuser=True)
        if persona == "superuser"
        else request.getfixturevalue(persona)
    )
    client.force_login(viewer)
    response = client.get(reverse("audit"))
    assert response.status_code == 200
    page = response.content.decode()
    shown = {int(i) for i in re.findall(r'data-event="(\d+)"', page)}
    assert set(ids(*events.values())) <= shown
    assert 'href="/audit/"' in page  # the navigation's link
    assert "Export CSV" in page and "Export Excel" in page


def test_the_navigation_offers_the_log_to_its_readers_only(alice, olivia, client):
    client.force_login(alice)
    assert 'href="/audit/"' not in client.get(reverse("inbox")).content.decode()
    client.force_login(olivia)
    assert 'href="/audit/"' in client.get(reverse("inbox")).content.decode()


def test_a_row_reads_as_who_did_what_to_which_object(olivia, client, events, growth):
    client.force_login(olivia)
    page = client.get(reverse("audit"), {"action": AuditAction.EXPORT}).content.decode()
    row = re.search(rf'<tr data-event="{events["export"].pk}">(.*?)</tr>', page, re.S).group(1)
    assert "2026-03-30 12:00:00" in row  # 10:00 UTC is noon in Zurich
    assert "alice" in row
    assert "Export downloaded" in row
    assert "GROWTH" in row and f"analytics.Portfolio #{growth.pk}" in row
    assert "CSV · 2.0 KiB · SHA-256 abababababab…" in row


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"user": "alice"}, ["share", "export"]),
        ({"user": "nobody"}, []),
        ({"action": AuditAction.API_READ}, ["read"]),
        ({"target_type": "portal.Team"}, ["share"]),
        ({"target_type": "analytics.Portfolio", "action": AuditAction.EXPORT}, ["export"]),
        ({"date_from": dt.date(2026, 3, 31), "date_to": dt.date(2026, 3, 31)}, ["login"]),
        ({"date_from": dt.date(2026, 4, 1), "date_to": dt.date(2026, 4, 30)}, ["read", "share"]),
        ({"date_to": dt.date(2026, 3, 30)}, ["export"]),
        (
            {"date_from": dt.date(2026, 3, 30), "date_to": dt.date(2026, 4, 2)},
            ["read", "share", "login", "export"],
        ),
    ],
)
def test_each_filter_narrows_the_log(olivia, events, filters, expected):
    assert listed(olivia, **filters) == ids(*(events[name] for name in expected))


def test_the_object_filter_finds_one_object(olivia, events, growth):
    found = listed(olivia, target_type="analytics.Portfolio", target_id=str(growth.pk))
    assert set(ids(events["export"], events["read"])) <= set(found)
    assert events["share"].pk not in found and events["login"].pk not in found
    assert all(
        e.target_id == str(growth.pk)
        for e in audit_events_filtered(viewer=olivia, target_id=str(growth.pk))
    )


def test_the_portfolio_filter_finds_what_concerns_the_portfolio(olivia, events, growth, income):
    on_income = set(listed(olivia, portfolio_id=income.pk))
    assert events["share"].pk in on_income  # a team change recorded against INCOME
    assert events["export"].pk not in on_income
    on_growth = audit_events_filtered(viewer=olivia, portfolio_id=growth.pk)
    assert set(ids(events["export"], events["read"])) <= {e.pk for e in on_growth}
    assert {e.portfolio_id for e in on_growth} == {growth.pk}


def test_the_page_applies_the_filters_from_the_url(olivia, client, events, income):
    client.force_login(olivia)
    response = client.get(
        reverse("audit"),
        {
            "user": "alice",
            "portfolio": income.pk,
            "date_from": "2026-04-01",
            "date_to": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert re.findall(r'data-event="(\d+)"', response.content.decode()) == [str(events["share"].pk)]


def test_the_page_pages_on_the_server(olivia, alice, client):
    for minute in range(55):
        event_at(
            dt.datetime(2026, 5, 1, 9, minute, tzinfo=UTC), actor=alice, action=AuditAction.LOGIN
        )
    client.force_login(olivia)
    first = client.get(reverse("audit"), {"user": "alice"})
    second = client.get(reverse("audit"), {"user": "alice", "page": 2})
    first_ids = re.findall(r'data-event="(\d+)"', first.content.decode())
    second_ids = re.findall(r'data-event="(\d+)"', second.content.decode())
    assert (len(first_ids), len(second_ids)) == (50, 5)
    assert not set(first_ids) & set(second_ids)
    assert "Page 1 of 2" in first.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-04-02", "date_to": "2026-04-01"}, "To"),
        ({"date_from": "yesterday"}, "valid date"),
        ({"action": "nonsense"}, "Select a valid choice"),
        ({"sort": "colour"}, "Unknown sort"),
    ],
)
def test_bad_filters_get_a_400_that_says_why(olivia, client, params, field):
    client.force_login(olivia)
    response = client.get(reverse("audit"), params)
    assert response.status_code == 400
    assert field in response.content.decode()
    export = client.get(reverse("audit-export", args=["csv"]), params)
    assert export.status_code == 400


def test_an_unknown_export_format_is_a_400(olivia, client):
    client.force_login(olivia)
    response = client.get(reverse("audit-export", args=["pdf"]))
    assert response.status_code == 400
    assert "csv or xlsx" in response.content.decode()


EXPECTED_HEADER = [
    "Time (Europe/Zurich)",
    "User",
    "Action",
    "Action label",
    "Object type",
    "Object id",
    "Object",
    "Portfolio id",
    "Portfolio",
    "IP address",
    "User agent",
    "Details",
]


def test_the_csv_export_holds_exactly_the_filtered_events(olivia, client, events, growth, income):
    client.force_login(olivia)
    response = client.get(reverse("audit-export", args=["csv"]), {"user": "alice"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert response["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == EXPECTED_HEADER
    share, export = rows[1:]
    assert len(rows) == 3
    assert share == [
        "2026-04-01T00:30:00+02:00",
        "alice",
        "team.membership_changed",
        "Team membership changed",
        "portal.Team",
        events["share"].target_id,
        '\'=HYPERLINK("http://evil.example","x")',  # neutralised: text, not a formula
        str(income.pk),
        "INCOME",
        "",
        "",
        '{"added": ["bob"]}',
    ]
    assert export[:3] == ["2026-03-30T12:00:00+02:00", "alice", "export.downloaded"]
    assert export[7:9] == [str(growth.pk), "GROWTH"]


def test_the_xlsx_export_has_real_dates_and_neutralised_text(olivia, client, events):
    client.force_login(olivia)
    response = client.get(
        reverse("audit-export", args=["xlsx"]),
        {"date_from": "2026-03-31", "date_to": "2026-04-01"},
    )
    assert response.status_code == 200
    body = response.content
    assert response["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_HEADER
    assert [row[1] for row in rows[1:]] == ["alice", "bob"]  # share (1 April), login (31 March)
    # Date-time cells holding the Zurich wall clock (Excel has no time zones).
    zurich_wall_clock = dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC).replace(tzinfo=None)
    assert rows[1][0] == zurich_wall_clock
    assert rows[2][0] == zurich_wall_clock - dt.timedelta(hours=1)
    object_cell = sheet.cell(row=2, column=7)
    assert object_cell.data_type == "s"
    assert object_cell.value == '\'=HYPERLINK("http://evil.example","x")'
    assert sheet.cell(row=2, column=8).value == events["share"].portfolio_id  # a number


def test_an_export_is_audited_once_with_its_filters_rows_and_checksum(olivia, client, events):
    client.force_login(olivia)
    before = AuditEvent.objects.count()
    response = client.get(
        reverse("audit-export", args=["csv"]),
        {"action": AuditAction.API_READ, "date_from": "2026-04-01"},
    )
    assert AuditEvent.objects.count() == before + 1
    exported = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert exported.actor == olivia
    assert exported.ip_address == "127.0.0.1"
    assert exported.details == {
        "filters": {"action": "api.read", "date_from": "2026-04-01"},
        "rows": 1,
        "format": "csv",
        "size": len(response.content),
        "sha256": hashlib.sha256(response.content).hexdigest(),
    }
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=olivia).exists()


def test_the_export_buttons_carry_the_filters(olivia, client, events):
    client.force_login(olivia)
    page = client.get(reverse("audit"), {"user": "alice", "page": "1"}).content.decode()
    assert 'href="/audit/export.csv?user=alice"' in page
    assert 'href="/audit/export.xlsx?user=alice"' in page
