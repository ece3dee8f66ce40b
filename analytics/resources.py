"""django-import-export resources for the admin's import (with its dry-run
preview) and export of instruments, trades, positions, prices, FX and flows.

They apply the *same* rules as every other path: before the first row,
``before_import`` runs the kind's vectorised validation
(``analytics.ingest.kinds``) and the in-file duplicate check over the whole
dataset, with the importing user's entitlements; each bad row then fails with
its field errors in the preview, and import-export commits nothing while any
row is invalid. Defaults the validation fills in (settle date, currency, fees,
normalised side and dates) are written back into the row before it is saved.
Natural keys are the ``import_id_fields``, so the same file twice is reported as
skipped (unchanged). A committed import marks the portfolios' data changed and
writes one ``data.imported`` audit event; an export writes an ``export.downloaded``
event (see ``analytics.admin``).

The ``source`` column is optional: without it rows get ``file``, the same
default as ``manage.py import_data``, so a file imported both ways is one copy.
"""

from __future__ import annotations

import pandas as pd
from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from analytics.ingest.kinds import SPECS, RowError
from analytics.ingest.parsers import ROW, _cell_text
from analytics.ingest.seen_keys import SeenKeys
from analytics.models import (
    CashFlow,
    DataKind,
    FxRate,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
)
from analytics.services.imports import _authorise, _context, _duplicates
from analytics.services.versions import portfolio_data_changed_mark
from portal.models import AuditAction
from portal.services import audit_record

DEFAULT_SOURCE = "file"


class _ValidatedResource(resources.ModelResource):
    kind: str = ""

    def before_import(self, dataset, **kwargs):
        user = kwargs.get("user")
        spec = SPECS[self.kind]
        _authorise(spec=spec, actor=user)
        headers = [str(h or "").strip().lower() for h in dataset.headers or []]
        dataset.headers = headers
        missing = spec.missing_columns(headers)
        if missing:
            raise ValueError(
                f"missing column(s) {', '.join(missing)}; a {self.kind} file has "
                f"{', '.join(spec.columns)} (required: {', '.join(spec.required)})"
            )
        if "source" in headers and "source" in spec.db_columns:
            sources = {str(v or "").strip() or DEFAULT_SOURCE for v in dataset["source"]}
            if len(sources) != 1:
                raise ValueError("one import has one source; split the file by source")
            source = sources.pop()
        else:
            source = DEFAULT_SOURCE
            if "source" in spec.db_columns:
                dataset.append_col([source] * len(dataset), header="source")
        if source == "derived":
            raise ValueError("the source 'derived' belongs to the positions rebuild")
        columns = [h for h in dataset.headers if h in spec.columns]
        frame = pd.DataFrame(
            [
                [_cell_text(row[dataset.headers.index(c)]).strip() for c in columns]
                for row in dataset
            ],
            columns=columns,
            dtype=object,
        )
        frame[ROW] = range(2, len(frame) + 2)
        context = _context(spec=spec, actor=user, source=source)
        good, errors = spec.validate(frame, context)
        duplicate, duplicate_errors = _duplicates(spec=spec, good=good, seen=SeenKeys())
        good = good[~duplicate]
        self._row_errors: dict[int, dict[str, list[str]]] = {}
        for error in [*errors, *duplicate_errors]:
            self._add_error(error)
        # Values the validation normalised or defaulted, by 1-based data row.
        foreign = {"portfolio_id", "instrument_id"}
        self._normalised = {
            int(values[ROW]) - 1: {
                column: values[column]
                for column in good.columns
                if column not in foreign and column != ROW
            }
            for values in good.to_dict("records")
        }
        self._portfolio_ids = (
            set(good["portfolio_id"].dropna().astype(int)) if "portfolio_id" in good else set()
        )
        self._instrument_ids = (
            set(good["instrument_id"].dropna().astype(int)) if "instrument_id" in good else set()
        )

    def _add_error(self, error: RowError) -> None:
        field_errors = self._row_errors.setdefault(error.row - 1, {})
        field_errors.setdefault(error.field or "__all__", []).append(
            f"row {error.row}: {error.message}"
        )

    def before_import_row(self, row, row_number=None, **kwargs):
        errors = self._row_errors.get(row_number)
        if errors:
            raise ValidationError(errors)
        for column, value in self._normalised.get(row_number, {}).items():
            if column in row or column in self.fields:
                row[column] = "" if value is None else value

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        totals = result.totals
        changed = totals.get("new", 0) + totals.get("update", 0)
        portfolio_ids = set(self._portfolio_ids) if changed else set()
        if changed and self.kind == DataKind.PRICES:
            portfolio_ids |= set(
                Trade.objects.filter(instrument_id__in=self._instrument_ids)
                .values_list("portfolio_id", flat=True)
                .distinct()
            )
        portfolio_data_changed_mark(portfolio_ids=portfolio_ids)
        audit_record(
            actor=kwargs.get("user"),
            action=AuditAction.DATA_IMPORTED,
            details={
                "kind": self.kind,
                "origin": "admin",
                "file": kwargs.get("file_name") or "",
                "rows": result.total_rows,
                "created": totals.get("new", 0),
                "updated": totals.get("update", 0),
                "unchanged": totals.get("skip", 0),
                "portfolios": sorted(portfolio_ids),
            },
        )


def _portfolio_field():
    return fields.Field(
        attribute="portfolio", column_name="portfolio", widget=ForeignKeyWidget(Portfolio, "code")
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
