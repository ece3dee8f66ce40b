"""The IDOR sweep's world: alice owns one of every object a route can name, bob is
an ordinary user of the same role who owns a portfolio of his own and has no
entitlement to alice's, and carol is the third party alice shares things with.

Every name, description, subject and message of alice's objects carries
``MARKER`` ("Zephyr"); a response to bob that contains it (after removing what bob
sent himself) shows him alice's data. Objects are made through the services where
those are plain calls and with the ORM where a service would send a task or needs
a running pipeline (runs, occurrences, deliveries, alerts), in the shape those
pipelines leave them."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from analytics.models import (
    AnalyticsSnapshot,
    DataQualityFinding,
    ImportRun,
    Instrument,
    Portfolio,
    PortfolioDataStatus,
    PositionSnapshot,
    RiskLimit,
    SnapshotStatus,
)
from compliance.models import Alert, Notification, Rule, RuleScope
from dashboards import services as dashboard_services
from portal.channels.inbox import inbox_send
from portal.models import AccessLevel, ApiToken, ApiTokenScope, Role, User
from portal.services import entitlement_grant
from reports.delivery_links import delivery_link_token
from reports.models import (
    Delivery,
    DeliveryChannel,
    OccurrenceState,
    ReportFile,
    ReportRun,
    ReportTemplate,
    RunStatus,
    Schedule,
    ScheduleOccurrence,
)
from reports.services.runs import report_run_request
from reports.services.shares import report_template_share
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory, UserFactory

MARKER = "Zephyr"
AS_OF = dt.date(2024, 3, 28)
FILE_BYTES = b"code,name\r\nPFALICE,Zephyr Secret Fund\r\n"


@dataclass
class World:
    alice: User
    bob: User
    carol: User
    objects: dict[str, Any] = field(default_factory=dict)
    delivery_token: str = ""

    def __getitem__(self, name: str) -> Any:
        return self.objects[name]


def world_build() -> World:
    """Create the world (see the module) and return it."""
    alice = cast(User, UserFactory(username="idor_alice", role=Role.PORTFOLIO_MANAGER))
    bob = cast(User, UserFactory(username="idor_bob", role=Role.PORTFOLIO_MANAGER))
    carol = cast(User, UserFactory(username="idor_carol", role=Role.PORTFOLIO_MANAGER))
    world = World(alice=alice, bob=bob, carol=carol)
    put = world.objects.__setitem__

    portfolio = cast(
        Portfolio, PortfolioFactory(code="PFALICE", name="Zephyr Secret Fund", owner=alice)
    )
    put("portfolio", portfolio)
    # Who may see it: the admin-only entitlements API names this one.
    put(
        "entitlement",
        entitlement_grant(actor=None, portfolio=portfolio, user=carol, level=AccessLevel.VIEW),
    )
    put("bobs_portfolio", PortfolioFactory(code="BOBOWN", name="Bob's own fund", owner=bob))
    instrument = cast(Instrument, InstrumentFactory(identifier="IDORX", name="Idor Widgets"))
    put("instrument", instrument)
    put("trade", TradeFactory(portfolio=portfolio, instrument=instrument, external_id="ZT-1"))
    put("cash_flow", CashFlowFactory(portfolio=portfolio, external_id="ZF-1"))
    put("price", PriceFactory(instrument=instrument, date=AS_OF, close=Decimal("12.5")))
    put(
        "position",
        PositionSnapshot.objects.create(
            portfolio=portfolio,
            instrument=instrument,
            date=AS_OF,
            quantity=Decimal(100),
            price=Decimal("12.5"),
            market_value_local=Decimal(1250),
            market_value_base=Decimal(1250),
        ),
    )
    put(
        "snapshot",
        AnalyticsSnapshot.objects.create(
            portfolio=portfolio,
            as_of=AS_OF,
            data_version=portfolio.data_version,
            status=SnapshotStatus.DONE,
            result={"metrics": {"available": True, "note": f"{MARKER} metrics"}},
        ),
    )
    put(
        "data_status",
        PortfolioDataStatus.objects.create(
            portfolio=portfolio,
            date=AS_OF,
            holdings=1,
            priced=1,
            valued=1,
            completeness=1.0,
            data_as_of=AS_OF,
            computed_at=timezone.now(),
        ),
    )
    put(
        "finding",
        DataQualityFinding.objects.create(
            kind="stale_price",
            severity="warning",
            portfolio=portfolio,
            instrument=instrument,
            date=AS_OF,
            message=f"{MARKER} price is stale",
            fingerprint="idor:zephyr:stale",
            last_seen_at=timezone.now(),
        ),
    )
    put(
        "risk_limit",
        RiskLimit.objects.create(portfolio=portfolio, metric="var_95", limit=0.05, note=MARKER),
    )
    put("import_run", _import_run(alice, portfolio))

    rule = Rule.objects.create(
        name=f"{MARKER} issuer cap",
        kind="max_instrument_weight",
        limit=0.1,
        params={"exclude_asset_classes": ["cash"]},
        scope=RuleScope.PORTFOLIO,
        portfolio=portfolio,
        description=f"{MARKER} only",
    )
    put("rule", rule)
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
    put("alert", alert)
    put(
        "notification",
        Notification.objects.create(
            alert=alert,
            recipient=alice,
            kind="opened",
            key="idor",
            message=inbox_send(
                recipient=alice, subject=f"{MARKER} breach", dedupe_key="idor:zephyr:alert"
            ),
        ),
    )

    template = report_template_create(
        user=alice,
        name=f"{MARKER} pack",
        description=f"{MARKER} board pack",
        blocks=["holdings"],
        parameters={"scope": "portfolios", "portfolios": [portfolio.code], "period": "ytd"},
    )
    put("template", template)
    put("template_version", template.versions.order_by("-number").first())
    put(
        "report_share",
        report_template_share(actor=alice, template=template, user=carol, level="view"),
    )
    run = _run_with_file(alice, template)
    put("run", run)
    put("run_file", run.files.get())

    schedule = Schedule.objects.create(
        owner=alice,
        template=template,
        name=f"{MARKER} monthly",
        cron="0 8 1 * *",
        timezone="Europe/London",
        period="previous_month",
        formats=["csv"],
        channels=["inbox"],
        enabled=True,
        next_run_at=timezone.now() + timedelta(days=30),
    )
    schedule.recipient_users.add(alice)
    put("schedule", schedule)
    occurrence = ScheduleOccurrence.objects.create(
        schedule=schedule,
        slot_at=dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC),
        period_start=dt.date(2024, 2, 1),
        period_end=dt.date(2024, 2, 29),
        period_label="February 2024",
        state=OccurrenceState.DONE,
        ready_by=dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC),
    )
    put("occurrence", occurrence)
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
    put("delivery", delivery)
    world.delivery_token = delivery_link_token(delivery=delivery, file=run.files.get())

    dashboard = dashboard_services.dashboard_create(
        owner=alice,
        name=f"{MARKER} board",
        description=f"{MARKER} desk",
        widgets=[{"kind": "holdings", "x": 0, "y": 0}],
    )
    put("dashboard", dashboard)
    put("widget", dashboard.widgets.get())
    put(
        "dashboard_share",
        dashboard_services.dashboard_share(
            dashboard=dashboard, actor=alice, user=carol, level="view"
        ),
    )

    put(
        "message",
        inbox_send(
            recipient=alice,
            subject=f"{MARKER} report is ready",
            body=f"{MARKER} body",
            dedupe_key="idor:zephyr",
        ),
    )
    token, _secret = ApiToken.objects.create(
        user=alice, expiry=timedelta(days=7), name=f"{MARKER} laptop", scope=ApiTokenScope.READ
    )
    put("token", token)
    return world


def _import_run(alice: User, portfolio: Portfolio) -> ImportRun:
    run = ImportRun.objects.create(
        kind="trades",
        origin="upload",
        source="file",
        file_name="zephyr-trades.csv",
        file_format="csv",
        actor=alice,
        status="failed",
        rows_total=1,
        rows_rejected=1,
        error_count=1,
        errors=[{"row": 2, "field": "quantity", "message": f"{MARKER} row"}],
        portfolio_ids=[portfolio.pk],
        message=f"{MARKER} import",
    )
    media = FileSystemStorage(location=settings.MEDIA_ROOT)
    run.report = media.save(f"imports/idor/{run.pk}-report.csv", ContentFile(FILE_BYTES))
    run.save(update_fields=["report"])
    return run


def _run_with_file(alice: User, template: ReportTemplate) -> ReportRun:
    run = report_run_request(user=alice, template=template, formats=["csv"], queue=False)
    storage_name = report_storage().save(f"runs/{run.pk}/1/report.csv", ContentFile(FILE_BYTES))
    ReportFile.objects.create(
        run=run,
        name="report.csv",
        format="csv",
        storage_name=storage_name,
        content_type="text/csv",
        size=len(FILE_BYTES),
        sha256=hashlib.sha256(FILE_BYTES).hexdigest(),
    )
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, lease_holder="", lease_expires_at=None
    )
    run.refresh_from_db()
    return run
