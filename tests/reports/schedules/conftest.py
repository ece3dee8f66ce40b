"""Fixtures shared by the schedule tests.

The personas are the suite's (``tests/conftest.py``): alice owns GROWTH (which
bob sees through the equity desk) and INCOME (granted personally to carol);
mallory sees nothing; HIDDEN belongs to dave.

* ``schedule_template``: alice's template over the holdings block;
* ``make_schedule(owner, template, **fields)``: a schedule through the real
  service, with fields in the API's shape over sensible defaults (a daily 08:00
  London cron, the previous month, PDF, inbox to the owner);
* ``tasks_sent``: the tasks the schedule, dispatch and run services send (at once
  or after commit), recorded instead of sent, as ``(name, args)``;
* ``allow``: ``allow(kind, value)`` puts an entry on the external allow-list;
* ``clock``: ``clock.set(moment)`` fixes ``django.utils.timezone.now``;
* ``data_status``: ``data_status(portfolio, date, completeness=1.0,
  data_as_of=None)`` stores the data-quality status of one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from analytics.models import PortfolioDataStatus
from reports.models import ExternalRecipient, ReportTemplate, Schedule
from reports.services import dispatch, runs, schedules
from reports.services.schedules import schedule_create
from reports.services.templates import report_template_create

LONDON = "Europe/London"


@pytest.fixture
def schedule_template(alice) -> ReportTemplate:
    return report_template_create(
        user=alice,
        name="Monthly pack",
        blocks=["holdings"],
        parameters={"scope": "entitled", "period": "ytd"},
    )


def schedule_data(template: ReportTemplate, /, **fields: Any) -> dict[str, Any]:
    """API-shaped data for a schedule of ``template`` (see the module)."""
    data: dict[str, Any] = {
        "template": template.slug,
        "cron": "0 8 * * *",
        "timezone": LONDON,
        "period": "previous_month",
        "formats": ["pdf"],
        "channels": ["inbox"],
        "recipients": {"users": [template.owner.username] if template.owner else []},
    }
    data.update(fields)
    return data


@pytest.fixture
def make_schedule() -> Callable[..., Schedule]:
    def make(owner, template: ReportTemplate, /, **fields: Any) -> Schedule:
        return schedule_create(user=owner, data=schedule_data(template, **fields))

    return make


@pytest.fixture
def tasks_sent(monkeypatch) -> list[tuple[str, tuple]]:
    sent: list[tuple[str, tuple]] = []

    def record(name: str, *args: Any) -> None:
        sent.append((name, args))

    for module in (schedules, dispatch, runs):
        for function in ("task_send", "task_send_on_commit"):
            if hasattr(module, function):
                monkeypatch.setattr(module, function, record)
    return sent


@pytest.fixture
def allow(db) -> Callable[[str, str], ExternalRecipient]:
    def add(kind: str, value: str) -> ExternalRecipient:
        return ExternalRecipient.objects.create(kind=kind, value=value)

    return add


class Clock:
    def __init__(self, monkeypatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, moment: dt.datetime) -> dt.datetime:
        if timezone.is_naive(moment):
            raise ValueError("set the clock to an aware moment")
        self._monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def data_status(db) -> Callable[..., PortfolioDataStatus]:
    def store(
        portfolio,
        date: dt.date,
        *,
        completeness: float = 1.0,
        data_as_of: dt.date | None = None,
        holdings: int = 10,
    ) -> PortfolioDataStatus:
        valued = round(holdings * completeness)
        return PortfolioDataStatus.objects.create(
            portfolio=portfolio,
            date=date,
            holdings=holdings,
            priced=valued,
            valued=valued,
            completeness=completeness,
            data_as_of=data_as_of or date,
            computed_at=dt.datetime.combine(date, dt.time(22), tzinfo=dt.UTC),
        )

    return store
