# ruff: noqa: PERF401 - the finding drafts are built with readable multi-line messages
"""Data-quality scans: they load frames, call ``analytics.engine.quality`` and
store the results as ``DataQualityFinding`` rows and per-date
``PortfolioDataStatus`` rows.

* ``market_data_quality_scan``: per instrument (no portfolio) — stale prices,
  gaps and spikes over the last ``DATA_QUALITY_LOOKBACK_DAYS``. A price is stale
  when no new close has come for ``DATA_QUALITY_STALE_SESSIONS`` sessions, and
  also when the same close comes back unchanged on
  ``DATA_QUALITY_UNCHANGED_SESSIONS`` consecutive closes (a vendor repeating its
  last value; one finding per run, naming its first and last date). A gap is a
  session of the instrument's exchange on which other instruments of that
  exchange have a close and it has none. Staleness is
  measured in sessions of the instrument's exchange up to the *reference date*:
  the ``as_of`` given, else the newest close the portal holds for any instrument
  of the same exchange (so one feed that stopped while its peers moved on is
  stale; the demo's history, which ends in 2018, is not).
* ``portfolio_quality_scan``: per portfolio — position breaks against the trade
  history (every non-derived source, on the source's trade- or settle-date
  basis; a difference that the other basis explains is an info-level
  settlement-timing finding, apart from the true breaks), possible duplicate trades, trades dated on
  a non-session day of the instrument's exchange (info: OTC and other venues
  trade on exchange holidays), holdings without a price or
  without an FX rate into the base currency, then the completeness rows. It runs
  the market scan of the portfolio's instruments first.
* Findings are synced, not appended: a finding seen again is refreshed, one not
  seen any more is resolved (``resolved_at``), so a scan twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from analytics.engine import quality as engine
from analytics.models import (
    DERIVED_SOURCE,
    AssetClass,
    CorporateAction,
    DataQualityFinding,
    FindingKind,
    ImportRun,
    ImportStatus,
    Instrument,
    Portfolio,
    PortfolioDataStatus,
    PositionBasis,
    PositionSnapshot,
    Price,
    Severity,
    Trade,
)
from analytics.services.positions import position_breaks

MARKET_KINDS = (FindingKind.STALE_PRICE, FindingKind.PRICE_GAP, FindingKind.PRICE_SPIKE)
PORTFOLIO_KINDS = (
    FindingKind.POSITION_BREAK,
    FindingKind.SETTLEMENT_TIMING,
    FindingKind.DUPLICATE_TRADE,
    FindingKind.NON_TRADING_DAY_TRADE,
    FindingKind.MISSING_PRICE,
    FindingKind.MISSING_FX,
)
# Findings of one kind about one holding on many days are capped per scan, so a
# feed that has been down for a year makes a readable list, not 250 rows.
MAX_DAILY_FINDINGS = 20


@dataclass
class FindingDraft:
    kind: str
    severity: str
    date: dt.date
    message: str
    portfolio_id: int | None = None
    instrument_id: int | None = None
    details: dict = field(default_factory=dict)
    key: str = ""

    @property
    def fingerprint(self) -> str:
        return ":".join(
            str(part)
            for part in (
                self.kind,
                self.portfolio_id or "-",
                self.instrument_id or "-",
                self.date.isoformat(),
                self.key,
            )
        )[:200]


@dataclass(frozen=True)
class ScanResult:
    opened: int
    refreshed: int
    resolved: int


def _findings_sync(*, scope: Q, drafts: Iterable[FindingDraft]) -> ScanResult:
    """Make the open findings in ``scope`` equal to ``drafts``."""
    now = timezone.now()
    wanted = {d.fingerprint: d for d in drafts}
    existing = {f.fingerprint: f for f in DataQualityFinding.objects.filter(scope)}
    # A fingerprint may exist outside the scope (e.g. a resolved finding of another scan).
    outside = {
        f.fingerprint: f
        for f in DataQualityFinding.objects.filter(fingerprint__in=set(wanted) - set(existing))
    }
    existing.update(outside)
    new, changed = [], []
    for fingerprint, draft in wanted.items():
        finding = existing.get(fingerprint)
        if finding is None:
            new.append(
                DataQualityFinding(
                    kind=draft.kind,
                    severity=draft.severity,
                    portfolio_id=draft.portfolio_id,
                    instrument_id=draft.instrument_id,
                    date=draft.date,
                    message=draft.message[:500],
                    details=draft.details,
                    fingerprint=fingerprint,
                    last_seen_at=now,
                )
            )
            continue
        finding.severity, finding.message, finding.details = (
            draft.severity,
            draft.message[:500],
            draft.details,
        )
        finding.last_seen_at, finding.resolved_at = now, None
        changed.append(finding)
    gone = [f for fp, f in existing.items() if fp not in wanted and f.resolved_at is None]
    for finding in gone:
        finding.resolved_at = now
    DataQualityFinding.objects.bulk_create(new, batch_size=500)
    DataQualityFinding.objects.bulk_update(
        changed + gone,
        ["severity", "message", "details", "last_seen_at", "resolved_at"],
        batch_size=500,
    )
    return ScanResult(opened=len(new), refreshed=len(changed), resolved=len(gone))


def _held_instrument_ids(portfolio: Portfolio | None = None) -> set[int]:
    trades = Trade.objects.exclude(instrument__asset_class=AssetClass.CASH)
    positions = PositionSnapshot.objects.exclude(instrument__asset_class=AssetClass.CASH)
    if portfolio is not None:
        trades, positions = (
            trades.filter(portfolio=portfolio),
            positions.filter(portfolio=portfolio),
        )
    return set(trades.values_list("instrument_id", flat=True).distinct()) | set(
        positions.exclude(source=DERIVED_SOURCE).values_list("instrument_id", flat=True).distinct()
    )


@dataclass(frozen=True)
class MarketHistory:
    """What the market scan of some instruments reads (``_market_history_load``).

    ``references`` is the reference date of each exchange (see the module
    docstring), ``start`` the first date looked at (``DATA_QUALITY_LOOKBACK_DAYS``
    before the latest reference); ``closes`` holds each instrument's closes since
    ``start`` (one per date, the source sorting first), ``last_close`` its latest
    close date ever, ``splits`` its ``(ex_date, ratio)`` splits, and ``peer_days``
    the dates since ``start`` on which any instrument of an exchange has a close.
    """

    instruments: dict[int, Instrument]
    references: dict[str, dt.date]
    start: dt.date
    closes: dict[int, pd.DataFrame]
    last_close: dict[int, dt.date]
    splits: dict[int, list[tuple[dt.date, Decimal]]]
    peer_days: dict[str, pd.DatetimeIndex]


@transaction.atomic
def market_data_quality_scan(
    *, instrument_ids: Iterable[int] | None = None, as_of: dt.date | None = None
) -> ScanResult:
    """Stale prices, gaps and spikes of the given instruments (default: every
    non-cash instrument any portfolio trades or reports): load their history,
    compute the findings, sync the stored ones."""
    ids = sorted(set(instrument_ids) if instrument_ids is not None else _held_instrument_ids())
    if not ids:
        return ScanResult(0, 0, 0)
    history = _market_history_load(instrument_ids=ids, as_of=as_of)
    drafts = _market_drafts(history) if history is not None else []
    return _findings_sync(
        scope=Q(portfolio=None, instrument_id__in=ids, kind__in=MARKET_KINDS), drafts=drafts
    )


def _market_history_load(
    *, instrument_ids: list[int], as_of: dt.date | None
) -> MarketHistory | None:
    """The prices and splits the market scan needs, or None when no instrument of
    their exchanges has any price (nothing to measure against)."""
    instruments = {
        i.id: i
        for i in Instrument.objects.filter(id__in=instrument_ids).exclude(
            asset_class=AssetClass.CASH
        )
    }
    exchanges = {i.exchange for i in instruments.values()}
    references: dict[str, dt.date] = {}
    for exchange in exchanges:
        reference = (
            as_of
            if as_of is not None
            else Price.objects.filter(instrument__exchange=exchange).aggregate(latest=Max("date"))[
                "latest"
            ]
        )
        if reference is not None:
            references[exchange] = reference
    if not references:
        return None
    start = max(references.values()) - dt.timedelta(days=settings.DATA_QUALITY_LOOKBACK_DAYS)
    prices = pd.DataFrame.from_records(
        Price.objects.filter(instrument_id__in=list(instruments), date__gte=start)
        .order_by("instrument_id", "date", "source")
        .values_list("instrument_id", "date", "close"),
        columns=["instrument_id", "date", "close"],
    ).drop_duplicates(["instrument_id", "date"])
    last_close = dict(
        Price.objects.filter(instrument_id__in=list(instruments))
        .values("instrument_id")
        .annotate(last=Max("date"))
        .values_list("instrument_id", "last")
    )
    splits: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for action in CorporateAction.objects.filter(instrument_id__in=list(instruments)):
        splits[action.instrument_id].append((action.ex_date, action.ratio))
    # Sessions on which some instrument of the exchange has a close: a gap is a
    # session its peers were priced on. A session nobody on the exchange has a
    # price for is more often a closure the calendar does not know (or a feed
    # that mirrors another market's days) than a gap in one instrument.
    peer_days = {
        exchange: pd.DatetimeIndex(
            pd.to_datetime(
                list(
                    Price.objects.filter(instrument__exchange=exchange, date__gte=start)
                    .values_list("date", flat=True)
                    .distinct()
                )
            )
        )
        for exchange in exchanges
    }
    return MarketHistory(
        instruments=instruments,
        references=references,
        start=start,
        closes=dict(tuple(prices.groupby("instrument_id"))) if len(prices) else {},
        last_close=last_close,
        splits=splits,
        peer_days=peer_days,
    )


def _market_drafts(history: MarketHistory) -> list[FindingDraft]:
    """The stale-price, gap and spike findings of every instrument (no queries)."""
    latest = max(history.references.values())
    drafts: list[FindingDraft] = []
    for instrument_id, instrument in history.instruments.items():
        reference = history.references.get(instrument.exchange) or latest
        stale = _stale_draft(instrument, reference, history.last_close.get(instrument_id))
        if stale is not None:
            drafts.append(stale)
        if instrument_id not in history.last_close:
            continue
        series = history.closes.get(instrument_id)
        if series is None or series.empty:
            continue
        sessions = engine.trading_sessions(instrument.exchange, history.start, reference)
        priced_sessions = sessions[
            sessions.isin(history.peer_days.get(instrument.exchange, sessions))
        ]
        drafts += _unchanged_drafts(instrument, series)
        drafts += _gap_drafts(instrument, series, sessions, priced_sessions)
        drafts += _spike_drafts(instrument, series, history.splits.get(instrument_id, []))
    return drafts


def _stale_draft(
    instrument: Instrument, reference: dt.date, last: dt.date | None
) -> FindingDraft | None:
    """An instrument with no price at all, or none for ``DATA_QUALITY_STALE_SESSIONS``
    sessions of its exchange up to ``reference``."""
    stale_after = settings.DATA_QUALITY_STALE_SESSIONS
    if last is None:
        return FindingDraft(
            kind=FindingKind.STALE_PRICE,
            severity=Severity.ERROR,
            date=reference,
            instrument_id=instrument.id,
            message=f"{instrument.identifier} has no price at all",
            details={"last_close": None, "reference_date": reference.isoformat()},
        )
    age = engine.sessions_since(
        last, reference, engine.trading_sessions(instrument.exchange, last, reference)
    )
    if age < stale_after:
        return None
    mic = instrument.exchange or "weekdays"
    return FindingDraft(
        kind=FindingKind.STALE_PRICE,
        severity=Severity.ERROR if age >= 3 * stale_after else Severity.WARNING,
        date=reference,
        instrument_id=instrument.id,
        message=(
            f"{instrument.identifier}: no new price for {age} sessions on {mic} "
            f"(last close {last.isoformat()}, reference {reference.isoformat()})"
        ),
        details={
            "last_close": last.isoformat(),
            "sessions": age,
            "exchange": mic,
            "reference_date": reference.isoformat(),
            "threshold": stale_after,
        },
        key=last.isoformat(),
    )


def _unchanged_drafts(instrument: Instrument, series: pd.DataFrame) -> list[FindingDraft]:
    """One stale-price finding per run of at least ``DATA_QUALITY_UNCHANGED_SESSIONS``
    consecutive equal closes (the latest ``MAX_DAILY_FINDINGS`` runs; 0 turns the
    check off)."""
    threshold = settings.DATA_QUALITY_UNCHANGED_SESSIONS
    runs = engine.unchanged_runs(series["date"], series["close"], sessions=threshold)
    return [
        FindingDraft(
            kind=FindingKind.STALE_PRICE,
            severity=Severity.WARNING,
            date=run.last,
            instrument_id=instrument.id,
            message=(
                f"{instrument.identifier}: the same close {run.close:g} on {run.count} "
                f"consecutive sessions from {run.first.isoformat()} to {run.last.isoformat()}"
            ),
            details={
                "reason": "unchanged",
                "close": run.close,
                "sessions": run.count,
                "first": run.first.isoformat(),
                "last": run.last.isoformat(),
                "threshold": threshold,
            },
            key=f"unchanged:{run.first.isoformat()}",
        )
        for run in runs[-MAX_DAILY_FINDINGS:]
    ]


def _gap_drafts(
    instrument: Instrument,
    series: pd.DataFrame,
    sessions: pd.DatetimeIndex,
    priced_sessions: pd.DatetimeIndex,
) -> list[FindingDraft]:
    """One finding per run of consecutive sessions its peers were priced on and
    it was not (the latest ``MAX_DAILY_FINDINGS`` runs)."""
    mic = instrument.exchange or "weekdays"
    missing = engine.missing_sessions(series["date"], priced_sessions)
    return [
        FindingDraft(
            kind=FindingKind.PRICE_GAP,
            severity=Severity.WARNING,
            date=run[0],
            instrument_id=instrument.id,
            message=(
                f"{instrument.identifier}: no price on {len(run)} session"
                f"{'s' if len(run) > 1 else ''} of {mic} from {run[0].isoformat()}"
                f" to {run[-1].isoformat()}"
            ),
            details={"missing": [d.isoformat() for d in run], "exchange": mic},
        )
        for run in engine.contiguous_runs(missing, sessions)[-MAX_DAILY_FINDINGS:]
    ]


def _spike_drafts(
    instrument: Instrument, series: pd.DataFrame, splits: list[tuple[dt.date, Decimal]]
) -> list[FindingDraft]:
    """Split-adjusted log moves beyond ``DATA_QUALITY_SPIKE_SIGMAS`` rolling standard
    deviations (the latest ``MAX_DAILY_FINDINGS``)."""
    closes = engine.split_adjusted(series["date"], series["close"].astype(float), splits)
    spikes = engine.price_spikes(
        series["date"],
        closes,
        window=settings.DATA_QUALITY_SPIKE_WINDOW,
        sigmas=settings.DATA_QUALITY_SPIKE_SIGMAS,
    )
    return [
        FindingDraft(
            kind=FindingKind.PRICE_SPIKE,
            severity=Severity.WARNING,
            date=spike.date,
            instrument_id=instrument.id,
            message=(
                f"{instrument.identifier}: price moved {spike.log_return:+.1%} (log) on "
                f"{spike.date.isoformat()}, {abs(spike.z_score):.1f} standard deviations"
            ),
            details={
                "log_return": round(spike.log_return, 6),
                "z_score": round(spike.z_score, 2),
                "threshold": settings.DATA_QUALITY_SPIKE_SIGMAS,
            },
        )
        for spike in spikes[-MAX_DAILY_FINDINGS:]
    ]


def _portfolio_drafts(portfolio: Portfolio, *, since: dt.date) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    identifiers = dict(Instrument.objects.values_list("id", "identifier"))
    bases = dict(PositionBasis.choices)
    for item in position_breaks(portfolio=portfolio):
        name = identifiers.get(item.instrument_id, item.instrument_id)
        basis = bases[item.basis].lower()
        other = bases[next(b for b in PositionBasis.values if b != item.basis)].lower()
        # A difference that the other basis explains is trades in flight, not an error.
        timing = item.settlement_timing
        drafts.append(
            FindingDraft(
                kind=FindingKind.SETTLEMENT_TIMING if timing else FindingKind.POSITION_BREAK,
                severity=Severity.INFO if timing else Severity.ERROR,
                date=item.date,
                portfolio_id=portfolio.pk,
                instrument_id=item.instrument_id,
                message=(
                    f"{name} on {item.date.isoformat()}: {item.source} reports {item.reported}, "
                    f"the trades give {item.expected} on its {basis} basis "
                    f"(difference {item.difference})"
                    + (
                        f"; it matches the {other} quantity: settlement timing only"
                        if timing
                        else f"; on a {other} basis {item.other_basis_expected}"
                    )
                ),
                details={
                    "source": item.source,
                    "basis": item.basis,
                    "expected": str(item.expected),
                    "reported": str(item.reported),
                    "difference": str(item.difference),
                    "other_basis_expected": str(item.other_basis_expected),
                    "settlement_timing": timing,
                },
                key=item.source,
            )
        )

    trades = pd.DataFrame.from_records(
        Trade.objects.filter(portfolio=portfolio).values_list(
            "id",
            "portfolio_id",
            "instrument_id",
            "trade_date",
            "side",
            "quantity",
            "price",
            "external_id",
            "source",
            "instrument__exchange",
            "instrument__asset_class",
        ),
        columns=[
            "id",
            "portfolio_id",
            "instrument_id",
            "trade_date",
            "side",
            "quantity",
            "price",
            "external_id",
            "source",
            "exchange",
            "asset_class",
        ],
    )
    if not trades.empty:
        labels = trades.set_index("id")
        for group in engine.duplicate_trade_groups(trades):
            first = labels.loc[group[0]]
            refs = [f"{labels.loc[i, 'source']}/{labels.loc[i, 'external_id']}" for i in group]
            drafts.append(
                FindingDraft(
                    kind=FindingKind.DUPLICATE_TRADE,
                    severity=Severity.WARNING,
                    date=first["trade_date"],
                    portfolio_id=portfolio.pk,
                    instrument_id=int(first["instrument_id"]),
                    message=(
                        f"{len(group)} identical {first['side']} trades of "
                        f"{first['quantity']} {identifiers.get(first['instrument_id'])} at "
                        f"{first['price']} on {first['trade_date'].isoformat()}: "
                        f"{', '.join(refs)}"
                    ),
                    details={"trades": refs},
                    key="-".join(str(i) for i in group),
                )
            )
        securities = trades[trades["asset_class"] != AssetClass.CASH]
        for exchange, rows in securities.groupby("exchange"):
            sessions = engine.trading_sessions(
                exchange, rows["trade_date"].min(), rows["trade_date"].max()
            )
            off = rows[engine.non_session_days(rows["trade_date"], sessions)]
            for row in off.itertuples(index=False):
                drafts.append(
                    FindingDraft(
                        kind=FindingKind.NON_TRADING_DAY_TRADE,
                        severity=Severity.INFO,
                        date=row.trade_date,
                        portfolio_id=portfolio.pk,
                        instrument_id=int(row.instrument_id),
                        message=(
                            f"trade {row.source}/{row.external_id} in "
                            f"{identifiers.get(row.instrument_id)} is dated "
                            f"{row.trade_date:%a %Y-%m-%d}, not a session of "
                            f"{exchange or 'a weekday calendar'}"
                        ),
                        details={"trade": f"{row.source}/{row.external_id}"},
                        key=f"{row.source}/{row.external_id}",
                    )
                )

    unvalued = (
        PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE, date__gte=since)
        .exclude(quantity=0)
        .filter(market_value_base__isnull=True)
        .values_list("date", "instrument_id", "price", "instrument__currency")
        .order_by("-date")
    )
    per_kind: dict[tuple[str, int | str], int] = defaultdict(int)
    for day, instrument_id, price, currency in unvalued:
        name = identifiers.get(instrument_id, instrument_id)
        key: tuple[str, int | str]
        if price is None:
            key = (FindingKind.MISSING_PRICE, instrument_id)
            if per_kind[key] >= MAX_DAILY_FINDINGS:
                continue
            per_kind[key] += 1
            drafts.append(
                FindingDraft(
                    kind=FindingKind.MISSING_PRICE,
                    severity=Severity.ERROR,
                    date=day,
                    portfolio_id=portfolio.pk,
                    instrument_id=instrument_id,
                    message=f"{name} is held on {day.isoformat()} but has no close that day",
                )
            )
        else:
            key = (FindingKind.MISSING_FX, currency)
            if per_kind[key] >= MAX_DAILY_FINDINGS:
                continue
            per_kind[key] += 1
            drafts.append(
                FindingDraft(
                    kind=FindingKind.MISSING_FX,
                    severity=Severity.ERROR,
                    date=day,
                    portfolio_id=portfolio.pk,
                    message=(
                        f"no {currency}/{portfolio.base_currency} rate on {day.isoformat()}: "
                        f"holdings in {currency} are not valued in {portfolio.base_currency}"
                    ),
                    details={"currency": currency, "base_currency": portfolio.base_currency},
                    key=currency,
                )
            )
    return drafts


def _status_rows(portfolio: Portfolio, *, now) -> list[PortfolioDataStatus]:
    """Completeness and data-as-of of every date with derived positions."""
    positions = PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE).exclude(
        quantity=0
    )
    per_day = (
        positions.values("date")
        .annotate(
            holdings=Count("id"),
            priced=Count("id", filter=Q(price__isnull=False)),
            valued=Count("id", filter=Q(market_value_base__isnull=False)),
        )
        .order_by("date")
    )
    frame = pd.DataFrame.from_records(
        list(per_day), columns=["date", "holdings", "priced", "valued"]
    )
    if frame.empty:
        return []
    frame["completeness"] = engine.completeness(frame["holdings"], frame["valued"])
    frame["data_as_of"] = frame["date"]
    late_days = set(frame.loc[frame["priced"] < frame["holdings"], "date"])
    if late_days:
        held = pd.DataFrame.from_records(
            positions.filter(date__in=late_days, price__isnull=True)
            .exclude(instrument__asset_class=AssetClass.CASH)
            .values_list("date", "instrument_id"),
            columns=["date", "instrument_id"],
        )
        prices = pd.DataFrame.from_records(
            Price.objects.filter(
                instrument_id__in=set(held["instrument_id"]), date__lte=max(late_days)
            ).values_list("instrument_id", "date"),
            columns=["instrument_id", "price_date"],
        )
        last_before: dict = {}
        if not held.empty:
            held["ts"] = pd.to_datetime(held["date"])
            prices["ts"] = pd.to_datetime(prices["price_date"])
            held = held.astype({"instrument_id": "int64"})
            prices = prices.astype({"instrument_id": "int64"})
            merged = pd.merge_asof(
                held.sort_values("ts"),
                prices.sort_values("ts")[["ts", "instrument_id", "price_date"]],
                on="ts",
                by="instrument_id",
                direction="backward",
                allow_exact_matches=True,
            )
            last_before = (
                merged.groupby("date")["price_date"]
                .agg(lambda s: None if s.isna().any() else s.min())
                .to_dict()
            )
        frame["data_as_of"] = [
            last_before.get(day, day) if day in late_days else day for day in frame["date"]
        ]
    open_by_day = dict(
        DataQualityFinding.objects.filter(portfolio=portfolio, resolved_at=None)
        .values("date")
        .annotate(n=Count("id"))
        .values_list("date", "n")
    )
    loaded_at = _last_loaded_at(portfolio)
    return [
        PortfolioDataStatus(
            portfolio=portfolio,
            date=row.date,
            holdings=row.holdings,
            priced=row.priced,
            valued=row.valued,
            completeness=float(row.completeness),
            data_as_of=None if pd.isna(row.data_as_of) else row.data_as_of,
            open_findings=open_by_day.get(row.date, 0),
            computed_at=now,
            loaded_at=loaded_at,
        )
        for row in frame.itertuples(index=False)
    ]


def _last_loaded_at(portfolio: Portfolio):
    """When the latest committed import that touched the portfolio finished."""
    for run in ImportRun.objects.filter(
        status__in=[ImportStatus.COMMITTED, ImportStatus.PARTIAL]
    ).order_by("-finished_at")[:500]:
        if portfolio.pk in (run.portfolio_ids or []):
            return run.finished_at
    return None


@transaction.atomic
def portfolio_quality_scan(
    *, portfolio: Portfolio, as_of: dt.date | None = None, market: bool = True
) -> ScanResult:
    """Scan one portfolio (see the module docstring) and rewrite its
    ``PortfolioDataStatus`` rows. ``market=False`` skips the instruments' own
    scan (the nightly job runs it once for all instruments)."""
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
    if market:
        market_data_quality_scan(instrument_ids=_held_instrument_ids(portfolio), as_of=as_of)
    latest = PositionSnapshot.objects.filter(portfolio=portfolio).aggregate(latest=Max("date"))[
        "latest"
    ]
    since = (as_of or latest or timezone.localdate()) - dt.timedelta(
        days=settings.DATA_QUALITY_LOOKBACK_DAYS
    )
    result = _findings_sync(
        scope=Q(portfolio=portfolio, kind__in=PORTFOLIO_KINDS),
        drafts=_portfolio_drafts(portfolio, since=since),
    )
    rows = _status_rows(portfolio, now=timezone.now())
    PortfolioDataStatus.objects.filter(portfolio=portfolio).delete()
    PortfolioDataStatus.objects.bulk_create(rows, batch_size=2000)
    return result


def data_quality_scan_all(*, as_of: dt.date | None = None) -> int:
    """The nightly job: every instrument once, then every active portfolio."""
    market_data_quality_scan(as_of=as_of)
    count = 0
    for portfolio in Portfolio.objects.filter(is_active=True).order_by("id"):
        portfolio_quality_scan(portfolio=portfolio, as_of=as_of, market=False)
        count += 1
    return count
