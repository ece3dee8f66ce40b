"""Models of the analytics app, one module per concern:

* ``market``: instruments, benchmarks, portfolios, trades, positions, prices, FX,
  cash flows and factor returns (the data the portal reports on);
* ``snapshots``: stored analytics results and per-portfolio risk limits;
* ``ingest``: import runs, HTTP pull sources and their fetch log, push
  idempotency keys, corporate actions (splits);
* ``quality``: data-quality findings and per-portfolio, per-date completeness.
"""

from analytics.models.ingest import (
    CorporateAction,
    CorporateActionKind,
    DataFetch,
    DataFormat,
    DataKind,
    DataSource,
    FetchOutcome,
    IdempotencyKey,
    ImportOrigin,
    ImportRun,
    ImportStatus,
)
from analytics.models.market import (
    DERIVED_SOURCE,
    MONEY,
    QUANTITY,
    RATE,
    AssetClass,
    Benchmark,
    BenchmarkReturn,
    BenchmarkWeight,
    CashFlow,
    CashFlowKind,
    FactorReturn,
    FxRate,
    Instrument,
    IssuerType,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
    TradeSide,
)
from analytics.models.quality import (
    DataQualityFinding,
    FindingKind,
    PortfolioDataStatus,
    Severity,
)
from analytics.models.snapshots import AnalyticsSnapshot, RiskLimit, RiskLimitMetric, SnapshotStatus

__all__ = [
    "DERIVED_SOURCE",
    "MONEY",
    "QUANTITY",
    "RATE",
    "AnalyticsSnapshot",
    "AssetClass",
    "Benchmark",
    "BenchmarkReturn",
    "BenchmarkWeight",
    "CashFlow",
    "CashFlowKind",
    "CorporateAction",
    "CorporateActionKind",
    "DataFetch",
    "DataFormat",
    "DataKind",
    "DataQualityFinding",
    "DataSource",
    "FactorReturn",
    "FetchOutcome",
    "FindingKind",
    "FxRate",
    "IdempotencyKey",
    "ImportOrigin",
    "ImportRun",
    "ImportStatus",
    "Instrument",
    "IssuerType",
    "Portfolio",
    "PortfolioDataStatus",
    "PositionSnapshot",
    "Price",
    "RiskLimit",
    "RiskLimitMetric",
    "Severity",
    "SnapshotStatus",
    "Trade",
    "TradeSide",
]
