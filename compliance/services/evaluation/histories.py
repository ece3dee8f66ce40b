"""Loading the return histories that the risk rules (VaR, relative VaR, the VaR
backtest) read, once per evaluation run, so that every set of holdings evaluated
on the same date — today's book, the book before today's trades, a proposed
trade's book — is measured over the same history.

Conventions: returns are daily and simple, in the portfolio's base currency;
a gap is NaN (see :mod:`compliance.services.frames`), never zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.models import Benchmark, Portfolio
from analytics.selectors.frames import latest_position_dates
from compliance.engine.kinds import KINDS, RuleKind
from compliance.engine.specs import RiskInputs, RuleSpec
from compliance.services import frames


@dataclass(frozen=True)
class ReturnHistories:
    """The return histories of one evaluation date.

    * ``end``, ``days``: the last date and the number of daily returns loaded;
    * ``instrument_returns``: per base currency, dates × instrument;
    * ``reference_returns``: dates × reference key (``"benchmark:CODE"``,
      ``"portfolio:CODE"``) for relative VaR;
    * ``reference_of``: (rule id, portfolio id) → reference key;
    * ``realised``: dates × portfolio, the flow-adjusted returns of net assets
      measured across valuation gaps (the series of the snapshot's Risk tab) that
      the VaR backtest compares its forecasts with.
    """

    end: dt.date
    days: int
    instrument_returns: dict[str, pd.DataFrame]
    reference_returns: pd.DataFrame
    reference_of: dict[tuple[int, int], str]
    realised: pd.DataFrame


def history_days(specs: Sequence[RuleSpec]) -> int:
    """Daily returns the rules need: the longest ``min_history_days`` of a rule
    that reads returns (for a backtest, its forecasts' window) plus a backtest's
    ``observations``, plus one (the first return needs the previous close); 0 when
    no rule reads returns. The specs' params are cleaned, so every such rule has
    ``min_history_days``."""
    days = 0
    for spec in specs:
        needs = KINDS[RuleKind(spec.kind)].needs
        if needs in ("returns", "realised"):
            extra = int(spec.params["observations"]) if needs == "realised" else 0
            days = max(days, int(spec.params["min_history_days"]) + extra + 1)
    return days


def _reference_keys(
    *, specs: Sequence[RuleSpec], portfolios: Mapping[int, Portfolio]
) -> dict[tuple[int, int], str]:
    """(rule, portfolio) → reference key of each relative-VaR rule. The reference
    is the portfolio's own benchmark (``"benchmark"``, the default), a named
    benchmark (``"benchmark:CODE"``) or another portfolio (``"portfolio:CODE"``);
    one that does not exist (no benchmark set, an unknown code) gets no key, and
    the rule then reports no value."""
    relative = [spec for spec in specs if spec.kind == RuleKind.MAX_RELATIVE_VAR]
    if not relative:
        return {}
    references = {str(spec.params.get("reference", "benchmark")) for spec in relative}
    own_benchmark_code = dict(
        Benchmark.objects.filter(
            id__in={p.benchmark_id for p in portfolios.values() if p.benchmark_id}
        ).values_list("id", "code")
    )
    known = {
        f"benchmark:{code}"
        for code in Benchmark.objects.filter(
            code__in=[r.split(":", 1)[1] for r in references if r.startswith("benchmark:")]
        ).values_list("code", flat=True)
    } | {
        f"portfolio:{code}"
        for code in Portfolio.objects.filter(
            code__in=[r.split(":", 1)[1] for r in references if r.startswith("portfolio:")]
        ).values_list("code", flat=True)
    }
    keys: dict[tuple[int, int], str] = {}
    for spec in relative:
        reference = str(spec.params.get("reference", "benchmark"))
        for portfolio_id in spec.portfolios or ():
            portfolio = portfolios.get(portfolio_id)
            if portfolio is None:
                continue
            if reference == "benchmark":
                code = (
                    own_benchmark_code.get(portfolio.benchmark_id)
                    if portfolio.benchmark_id
                    else None
                )
                key = f"benchmark:{code}" if code else None
            else:
                key = reference if reference in known else None
            if key:
                keys[(spec.rule_id, portfolio_id)] = key
    return keys


def _reference_returns(*, keys: Iterable[str], end: dt.date, days: int) -> pd.DataFrame:
    """Dates × reference key: a benchmark's returns, or another portfolio's
    hypothetical returns (its latest holdings over the history)."""
    keys = set(keys)
    benchmark_codes = [key.split(":", 1)[1] for key in keys if key.startswith("benchmark:")]
    portfolio_codes = [key.split(":", 1)[1] for key in keys if key.startswith("portfolio:")]
    parts = []
    if benchmark_codes:
        benchmark_ids = Benchmark.objects.filter(code__in=benchmark_codes).values_list(
            "id", flat=True
        )
        parts.append(frames.benchmark_returns(benchmark_ids=benchmark_ids, end=end, days=days))
    if portfolio_codes:
        code_of = dict(Portfolio.objects.filter(code__in=portfolio_codes).values_list("id", "code"))
        dates = latest_position_dates(portfolio_ids=list(code_of), on_or_before=end)
        holdings, _ = frames.holdings_frame(dates=dates)
        returns = frames.hypothetical_returns(holdings=holdings, end=end, days=days)
        key_of = {pk: f"portfolio:{code}" for pk, code in code_of.items()}
        parts.append(returns.rename(columns=key_of))
    parts = [part for part in parts if not part.empty]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame()


def return_histories_load(
    *,
    specs: Sequence[RuleSpec],
    portfolios: Mapping[int, Portfolio],
    instrument_ids: Iterable[int],
    as_of: dt.date,
) -> ReturnHistories | None:
    """The histories ``specs`` need up to ``as_of`` for these portfolios and the
    instruments of every book that will be evaluated; ``None`` when no rule reads
    returns (nothing is loaded)."""
    days = history_days(specs)
    if not days:
        return None
    instrument_ids = set(instrument_ids)
    reference_of = _reference_keys(specs=specs, portfolios=portfolios)
    return ReturnHistories(
        end=as_of,
        days=days,
        instrument_returns={
            base: frames.instrument_returns(
                instrument_ids=instrument_ids, end=as_of, days=days, base=base
            )
            for base in {p.base_currency for p in portfolios.values()}
        },
        reference_returns=_reference_returns(keys=reference_of.values(), end=as_of, days=days),
        reference_of=reference_of,
        realised=frames.realised_returns(portfolio_ids=list(portfolios), end=as_of, days=days),
    )


def risk_inputs(*, holdings: pd.DataFrame, histories: ReturnHistories | None) -> RiskInputs | None:
    """The engine's risk inputs for ``holdings``: the returns of these holdings'
    weights over the loaded history (hypothetical P&L, the regulatory VaR
    convention), with the references and realised returns; ``None`` without
    histories."""
    if histories is None:
        return None
    return RiskInputs(
        returns=frames.hypothetical_returns(
            holdings=holdings,
            end=histories.end,
            days=histories.days,
            returns_by_base=histories.instrument_returns,
        ),
        reference_returns=histories.reference_returns,
        reference_of=histories.reference_of,
        realised=histories.realised,
    )
