"""django-import-export resources for the admin's import (with its dry-run
preview) and export of instruments, trades, positions, prices, FX and flows.

They go through the *same* steps as every other import path
(``analytics.services.imports``): before the first row, ``before_import``
authorises the user (``import_authorise``: a user who may manage none of the
dataset's portfolios is refused as a whole), checks the header and the source,
and runs the kind's vectorised validation and the in-file duplicate check over
the whole dataset with the user's entitlements (``rows_validate``), so a
portfolio the user may not manage reads as unknown. Each bad row then fails with
its field errors in the preview, and import-export commits nothing while any row
is invalid. Defaults the validation fills in (settle date, currency, fees,
normalised side and dates) are written back into the row before it is saved.
Natural keys are the ``import_id_fields``, so the same file twice is reported as
skipped (unchanged). A committed import marks the affected portfolios' data
changed and, once committed, queues their positions rebuild and data-quality
scan (``import_changes_record``), and writes one ``data.imported`` audit event;
an export writes an ``export.downloaded`` event (see ``analytics.admin``), and
every exported cell and header goes through the formula neutralising of
``portal.resources.NeutralisedExportResource``, their base.

The ``source`` column is optional: without it rows get ``file``, the same
default as ``manage.py import_data``, so a file imported both ways is one copy.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import tablib
from django.core.exceptions import ValidationError
from import_export import fields
from import_export.results import Result
from import_export.widgets import ForeignKeyWidget

from analytics.ingest.kinds import SPECS, RowError
from analytics.ingest.parsers import ROW, cell_text
from analytics.ingest.seen_keys import SeenKeys
from analytics.models import (
    CashFlow,
    DataKind,
    FxRate,
    ImportOrigin,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
)
from analytics.services.imports.after_commit import import_changes_record, portfolios_affected
from analytics.services.imports.authorisation import import_authorise
from analytics.services.imports.validation import (
    header_problem,
    rows_validate,
    source_problem,
    validation_context_load,
)
from portal.models import AuditAction, User
from portal.resources import NeutralisedExportResource
from portal.services import audit_record

DEFAULT_SOURCE = "file"


class _ValidatedResource(NeutralisedExportResource):
    kind: str = ""

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        user = kwargs.get("user")
        spec = SPECS[self.kind]
        rows = (dict(zip(dataset.headers or [], row, strict=False)) for row in dataset)
        import_authorise(spec=spec, actor=user, rows=rows)
        headers = [str(h or "").strip().lower() for h in dataset.headers or []]
        dataset.headers = headers
        problem = header_problem(spec=spec, columns=headers)
        if problem:
            raise ValueError(problem)
        source = self._source(dataset, headers)
        columns = [h for h in dataset.headers if h in spec.columns]
        frame = pd.DataFrame(
            [
                [cell_text(row[dataset.headers.index(c)]).strip() for c in columns]
                for row in dataset
            ],
            columns=columns,
            dtype=object,
        )
        frame[ROW] = range(2, len(frame) + 2)
        context = validation_context_load(spec=spec, actor=user, source=source)
        good, errors = rows_validate(spec=spec, chunk=frame, context=context, seen=SeenKeys())
        self._row_errors: dict[int, dict[str, list[str]]] = {}
        for error in errors:
            self._add_error(error)
        # Values the validation normalised or defaulted, by 1-based data row.
        foreign = {"portfolio_id", "instrument_id", "trader_id"}
        self._normalised = {
            int(values[ROW]) - 1: {
                column: values[column]
                for column in good.columns
                if column not in foreign and column != ROW
            }
            for values in good.to_dict("records")
        }
        self._portfolio_ids = _ids(good, "portfolio_id")
        self._instrument_ids = _ids(good, "instrument_id")
        self._currencies = (
            set(good["base_currency"]) | set(good["quote_currency"])
            if self.kind == DataKind.FX
            else set()
        )

    def _source(self, dataset: tablib.Dataset, headers: list[str]) -> str:
        """The one source of the dataset's rows (``DEFAULT_SOURCE`` without the
        column, which is then added)."""
        spec = SPECS[self.kind]
        if "source" in headers and "source" in spec.db_columns:
            sources = {str(v or "").strip() or DEFAULT_SOURCE for v in dataset["source"]}
            if len(sources) != 1:
                raise ValueError("one import has one source; split the file by source")
            source = sources.pop()
        else:
            source = DEFAULT_SOURCE
            if "source" in spec.db_columns:
                dataset.append_col([source] * len(dataset), header="source")
        problem = source_problem(source)
        if problem:
            raise ValueError(problem)
        return source

    def _add_error(self, error: RowError) -> None:
        field_errors = self._row_errors.setdefault(error.row - 1, {})
        field_errors.setdefault(error.field or "__all__", []).append(
            f"row {error.row}: {error.message}"
        )

    def before_import_row(self, row: Any, row_number: int | None = None, **kwargs: Any) -> None:
        errors = self._row_errors.get(row_number or 0)
        if errors:
            raise ValidationError(errors)
        for column, value in self._normalised.get(row_number or 0, {}).items():
            if column in row or column in self.fields:
                row[column] = "" if value is None else value

    def after_import(self, dataset: tablib.Dataset, result: Result, **kwargs: Any) -> None:
        """A committed import: the same afterwards as every other path (inside
        import-export's transaction, so nothing is queued for a rollback)."""
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        totals = result.totals
        changed = bool(totals.get("new", 0) + totals.get("update", 0))
        portfolio_ids = (
            portfolios_affected(
                kind=self.kind,
                portfolio_ids=self._portfolio_ids,
                instrument_ids=self._instrument_ids,
                currencies=self._currencies,
            )
            if changed
            else set()
        )
        import_changes_record(kind=self.kind, portfolio_ids=portfolio_ids)
        audit_record(
            actor=kwargs.get("user"),
            action=AuditAction.DATA_IMPORTED,
            details={
                "kind": self.kind,
                "origin": ImportOrigin.ADMIN,
                "file": kwargs.get("file_name") or "",
                "rows": result.total_rows,
                "created": totals.get("new", 0),
                "updated": totals.get("update", 0),
                "unchanged": totals.get("skip", 0),
                "portfolios": sorted(portfolio_ids),
            },
        )


def _ids(good: pd.DataFrame, column: str) -> set[int]:
    return set(good[column].dropna().astype(int)) if column in good else set()


def _portfolio_field():
    return fields.Field(
        attribute="portfolio", column_name="portfolio", widget=ForeignKeyWidget(Portfolio, "code")
    )


def _trader_field():
    """A trade's optional trader, by username (an unknown one is a row error of
    the validation, before this widget sees it)."""
    return fields.Field(
        attribute="trader", column_name="trader", widget=ForeignKeyWidget(User, "username")
    )


def _instrument_field():
    return fields.Field(
        attribute="instrument",
        column_name="instrument",
        widget=ForeignKeyWidget(Instrument, "identifier"),
    )


class InstrumentResource(_ValidatedResource):
    kind = DataKind.INSTRUMENTS

    class Meta:
        model = Instrument
        fields = SPECS[DataKind.INSTRUMENTS].columns
        import_id_fields = ("identifier",)
        skip_unchanged = True
        report_skipped = True


class TradeResource(_ValidatedResource):
    kind = DataKind.TRADES
    portfolio = _portfolio_field()
    instrument = _instrument_field()
    trader = _trader_field()

    class Meta:
        model = Trade
        fields = (*SPECS[DataKind.TRADES].columns, "source")
        import_id_fields = ("source", "external_id")
        skip_unchanged = True
        report_skipped = True


class PositionSnapshotResource(_ValidatedResource):
    kind = DataKind.POSITIONS
    portfolio = _portfolio_field()
    instrument = _instrument_field()

    class Meta:
        model = PositionSnapshot
        fields = (*SPECS[DataKind.POSITIONS].columns, "source")
        import_id_fields = ("portfolio", "date", "instrument", "source")
        skip_unchanged = True
        report_skipped = True


class PriceResource(_ValidatedResource):
    kind = DataKind.PRICES
    instrument = _instrument_field()

    class Meta:
        model = Price
        fields = (*SPECS[DataKind.PRICES].columns, "source")
        import_id_fields = ("instrument", "date", "source")
        skip_unchanged = True
        report_skipped = True


class FxRateResource(_ValidatedResource):
    kind = DataKind.FX

    class Meta:
        model = FxRate
        fields = (*SPECS[DataKind.FX].columns, "source")
        import_id_fields = ("base_currency", "quote_currency", "date", "source")
        skip_unchanged = True
        report_skipped = True


class CashFlowResource(_ValidatedResource):
    kind = DataKind.CASHFLOWS
    portfolio = _portfolio_field()

    class Meta:
        model = CashFlow
        fields = (*SPECS[DataKind.CASHFLOWS].columns, "source")
        import_id_fields = ("source", "external_id")
        skip_unchanged = True
        report_skipped = True
