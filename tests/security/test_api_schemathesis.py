"""The OpenAPI schema at ``/api/schema/`` is complete and valid, and the API keeps
to it: schemathesis generates requests for every operation and checks each answer.

* ``test_schema_generates_without_warnings``: drf-spectacular's own
  ``spectacular --validate --fail-on-warn`` (the schema is valid OpenAPI 3 and no
  view, serializer or authenticator is guessed at).
* ``test_every_operation_keeps_to_the_schema``: the schema as served (fetched from
  the WSGI application with a token, as a client would) is loaded by schemathesis;
  every operation gets ``EXAMPLES_PER_OPERATION`` generated cases, sent through
  the WSGI application as alice (who owns one of every object,
  ``api_world_build``) with a write token. Path parameters are
  alice's real ids about half of the time (else every case would be a 404 and no
  200 body would be checked) and schemathesis's own values otherwise. Each answer
  must pass ``CHECKS``: no 5xx, a documented status code, a documented content
  type, a body and headers that match the documented ones.

Every case runs in a savepoint rolled back after it, so a DELETE in one case does
not take the object away from the next and the world stays the same for all
operations. Generation is derandomized (the same cases on every run, so CI is
reproducible), with no deadline (the first request of an analytics section
computes it). Failures are collected rather than raised at the first one (so
Hypothesis does not spend minutes shrinking) and reported together, with the
figures (operations, cases, failures) printed and kept in
``test-artifacts/schemathesis.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from analytics.models import ImportRun, PositionSnapshot, RiskLimit
from compliance.models import Alert, Rule, RuleScope
from dashboards.services import dashboard_create, dashboard_share
from portal.api.schema_hooks import error_responses_add
from portal.models import ApiToken, ApiTokenScope, Role
from portal.wsgi import application
from reports.models import (
    Delivery,
    DeliveryChannel,
    OccurrenceState,
    ReportFile,
    ReportRun,
    RunStatus,
    Schedule,
    ScheduleOccurrence,
)
from reports.services.runs import report_run_request
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.analytics.factories import PriceFactory, TradeFactory
from tests.api_tokens import token_for
from tests.factories import InstrumentFactory, PortfolioFactory, UserFactory

EXAMPLES_PER_OPERATION = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
AS_OF = dt.date(2024, 3, 28)
FILE_BYTES = b"code,name\r\nALPHA,Alpha Fund\r\n"
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis.json"


@dataclass
class Tally:
    """What the run did: cases per operation and the first failures of each."""

    operations: int = 0
    cases: Counter[str] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def failed(self, label: str, message: str) -> None:
        found = self.failures.setdefault(label, [])
        if len(found) < 3 and message not in found:
            found.append(message)

    def summary(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "cases": sum(self.cases.values()),
            "failures": sum(len(m) for m in self.failures.values()),
            "failing_operations": sorted(self.failures),
        }


def api_world_build() -> dict[str, Any]:
    """Alice (a portfolio manager) and one of each object the API names: a
    portfolio with a trade, a priced position and a risk limit, an import run, a
    rule and its open alert, a report template and a finished run with a file, a
    schedule with an occurrence and a failed delivery, a dashboard with a widget
    shared with carol, and a token. Runs, occurrences, deliveries and alerts are
    written in the shape their pipelines leave them (those would send tasks)."""
    alice = UserFactory(username="st_alice", role=Role.PORTFOLIO_MANAGER)
    carol = UserFactory(username="st_carol", role=Role.PORTFOLIO_MANAGER)
    portfolio = PortfolioFactory(code="ALPHA", name="Alpha Fund", owner=alice)
    instrument = InstrumentFactory(identifier="STX", name="Schema Widgets")
    TradeFactory(portfolio=portfolio, instrument=instrument, external_id="ST-1")
    PriceFactory(instrument=instrument, date=AS_OF, close=Decimal("12.5"))
    PositionSnapshot.objects.create(
        portfolio=portfolio,
        instrument=instrument,
        date=AS_OF,
        quantity=Decimal(100),
        price=Decimal("12.5"),
        market_value_local=Decimal(1250),
        market_value_base=Decimal(1250),
    )
    RiskLimit.objects.create(portfolio=portfolio, metric="var_95", limit=0.05)
    import_run = ImportRun.objects.create(
        kind="trades",
        origin="upload",
        source="file",
        file_name="trades.csv",
        file_format="csv",
        actor=alice,
        status="failed",
        rows_total=1,
        rows_rejected=1,
        error_count=1,
        errors=[{"row": 2, "field": "quantity", "value": "ten", "message": "not a number"}],
        portfolio_ids=[portfolio.pk],
    )
    rule = Rule.objects.create(
        name="Issuer cap",
        kind="max_instrument_weight",
        limit=0.1,
        scope=RuleScope.PORTFOLIO,
        portfolio=portfolio,
    )
    alert = Alert.objects.create(
        rule=rule,
        portfolio=portfolio,
        severity="breach",
        opened_on=AS_OF,
        last_observed_on=AS_OF,
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
    )
    template = report_template_create(
        user=alice,
        name="Board pack",
        blocks=["holdings"],
        parameters={"scope": "portfolios", "portfolios": [portfolio.code], "period": "ytd"},
    )
    run = report_run_request(user=alice, template=template, formats=["csv"], queue=False)
    run_file = ReportFile.objects.create(
        run=run,
        name="report.csv",
        format="csv",
        storage_name=report_storage().save(f"runs/{run.pk}/1/report.csv", ContentFile(FILE_BYTES)),
        content_type="text/csv",
        size=len(FILE_BYTES),
        sha256=hashlib.sha256(FILE_BYTES).hexdigest(),
    )
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, lease_holder="", lease_expires_at=None
    )
    schedule = Schedule.objects.create(
        owner=alice,
        template=template,
        name="Monthly",
        cron="0 8 1 * *",
        timezone="Europe/London",
        period="previous_month",
        formats=["csv"],
        channels=["inbox"],
        enabled=True,
        next_run_at=timezone.now() + timedelta(days=30),
    )
    schedule.recipient_users.add(alice)
    occurrence = ScheduleOccurrence.objects.create(
        schedule=schedule,
        slot_at=dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC),
        period_start=dt.date(2024, 2, 1),
        period_end=dt.date(2024, 2, 29),
        period_label="February 2024",
        state=OccurrenceState.DONE,
        ready_by=dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC),
    )
    delivery = Delivery.objects.create(
        key=f"{schedule.pk}:20240301T0800Z:u{alice.pk}:email:*",
        occurrence=occurrence,
        schedule=schedule,
        channel=DeliveryChannel.EMAIL,
        recipient=alice,
        address=alice.email,
        run=run,
        state="failed",
        attempts=3,
    )
    dashboard = dashboard_create(
        owner=alice, name="Desk", widgets=[{"kind": "holdings", "x": 0, "y": 0}]
    )
    share = dashboard_share(dashboard=dashboard, actor=alice, user=carol, level="view")
    token, _secret = ApiToken.objects.create(
        user=alice, expiry=timedelta(days=7), name="laptop", scope=ApiTokenScope.READ
    )
    return {
        "alice": alice,
        "portfolio": portfolio,
        "import_run": import_run,
        "rule": rule,
        "alert": alert,
        "template": template,
        "run": run,
        "run_file": run_file,
        "schedule": schedule,
        "delivery": delivery,
        "dashboard": dashboard,
        "widget": dashboard.widgets.get(),
        "dashboard_share": share,
        "token": token,
    }


def test_schema_generates_without_warnings(db, tmp_path):
    """``manage.py spectacular --validate --fail-on-warn``: raises on any warning."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.")


def test_error_responses_are_added_without_replacing_an_operations_own():
    own_403 = {"description": "The export policy forbids this file."}
    rejected = {"$ref": "#/components/schemas/ImportRunOutput"}
    schema = {
        "paths": {
            "/api/things/": {
                "get": {"responses": {"200": {"description": "ok"}, "403": own_403}},
                "post": {
                    "responses": {"400": {"content": {"application/json": {"schema": rejected}}}}
                },
            }
        }
    }
    result = error_responses_add(schema)
    get, post = result["paths"]["/api/things/"]["get"], result["paths"]["/api/things/"]["post"]
    assert sorted(get["responses"]) == ["200", "400", "401", "403", "404", "429"]
    assert get["responses"]["403"] is own_403
    assert get["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert sorted(post["responses"]) == ["400", "401", "403", "404", "413", "429"]
    assert post["responses"]["400"]["content"]["application/json"]["schema"] == {
        "anyOf": [rejected, {"$ref": "#/components/schemas/ValidationError"}]
    }
    assert result["components"]["schemas"]["Error"]["required"] == ["detail"]


@pytest.fixture
def wsgi_requests_share_the_test_transaction() -> Iterator[None]:
    """Django closes a connection left in a transaction at the end of a request;
    the test client switches that off, and so must a bare WSGI call, else the
    first response would throw the test's transaction (and the world) away."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def real_path_parameters(world: dict[str, Any], path: str) -> dict[str, Any]:
    """Alice's ids for the path parameters of ``path``."""
    run_id = world["import_run"].pk if path.startswith("/api/imports/") else world["run"].pk
    known: dict[str, Any] = {
        "alert_id": world["alert"].pk,
        "rule_id": world["rule"].pk,
        "dashboard_id": world["dashboard"].pk,
        "share_id": world["dashboard_share"].pk,
        "widget_id": world["widget"].pk,
        "delivery_id": world["delivery"].pk,
        "run_id": run_id,
        "portfolio_id": world["portfolio"].pk,
        "name": world["run_file"].name,
        "template": str(world["template"].pk),
        "schedule_id": world["schedule"].pk,
        "token_key": world["token"].token_key,
    }
    return {name: value for name, value in known.items() if "{" + name + "}" in path}


def cases_run(strategy: Any, *, label: str, headers: dict[str, str], tally: Tally) -> None:
    """Send ``EXAMPLES_PER_OPERATION`` cases of ``strategy``, each in a savepoint
    rolled back after it, and record each failure in ``tally``."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run_case(case: Any) -> None:
        tally.cases[label] += 1
        with transaction.atomic():
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as error:
                tally.failed(label, f"{type(error).__name__}: {error}"[:1500])
            transaction.set_rollback(True)

    run_case()


def test_every_operation_keeps_to_the_schema(db, wsgi_requests_share_the_test_transaction):
    world = api_world_build()
    headers = {"Authorization": "Token " + token_for(world["alice"])}
    # The audit log is for compliance officers and admins: alice would only get 403s.
    officer = UserFactory(username="st_olivia", role=Role.COMPLIANCE_OFFICER)
    officer_headers = {"Authorization": "Token " + token_for(officer)}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    tally = Tally()

    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        real = real_path_parameters(world, operation.path)
        strategy = operation.as_strategy()
        if real:
            strategy = st.one_of(operation.as_strategy(path_parameters=real), strategy)

        audit = operation.path.startswith("/api/audit-events/")
        cases_run(strategy, label=label, headers=officer_headers if audit else headers, tally=tally)

    summary = tally.summary()
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps({**summary, "details": tally.failures}, indent=2))
    print("schemathesis:", json.dumps(summary))
    assert not tally.failures, "\n\n".join(
        f"{label}:\n" + "\n---\n".join(messages) for label, messages in tally.failures.items()
    )
