"""Validation of incoming rows, shared by every import path (files, pushes,
pulls and the admin's resources).

* ``validation_context_load`` reads the reference data once per import: the
  instruments, the portfolios the actor may import into (so a portfolio the
  actor may not manage reads as unknown: ids and codes leak nothing) and, for
  trades, the usernames of the active users (a trade's optional ``trader``).
* ``rows_validate`` runs the kind's vectorised per-field checks
  (``analytics.ingest.kinds``) and refuses rows whose natural key an earlier row
  of the same input already had.
* ``validated_chunks`` does that chunk by chunk, counting and reporting every
  error, and yields the good rows to store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.ingest.bulk_insert import concrete_field, field_column
from analytics.ingest.kinds import Context, KindSpec, RowError
from analytics.ingest.parsers import ROW, FileError
from analytics.ingest.seen_keys import SeenKeys
from analytics.ingest.text import text_printable
from analytics.models import DERIVED_SOURCE, DataKind, Instrument
from analytics.services.imports.authorisation import import_portfolios
from analytics.services.imports.report import RejectedRowsReport
from portal.models import User

ERRORS_KEPT = 200  # errors stored on the run row; the report file has all of them
SOURCE_MAX_LENGTH = 64
KEY_SEPARATOR = "\x1f"  # joins the parts of a natural key; no imported text has it


def source_problem(source: str) -> str | None:
    """Why ``source`` (already stripped) may not name imported rows, or None.
    ``derived`` belongs to the positions rebuild; a character text storage
    refuses (``analytics.ingest.text``) is refused here too."""
    if (
        not source
        or len(source) > SOURCE_MAX_LENGTH
        or source == DERIVED_SOURCE
        or text_printable(source) != source
    ):
        # repr() shows a NUL or a lone surrogate as an escape: the message stores.
        return (
            f"source {source!r} is not allowed "
            f"(1 to {SOURCE_MAX_LENGTH} characters, not {DERIVED_SOURCE!r}, no NUL)"
        )
    return None


def header_problem(*, spec: KindSpec, columns: Iterable[str]) -> str | None:
    """Why a header of ``columns`` cannot be a file of ``spec``'s kind, or None."""
    missing = spec.missing_columns(list(columns))
    if not missing:
        return None
    return (
        f"missing column(s) {', '.join(missing)}; a {spec.kind} file has "
        f"{', '.join(spec.columns)} (required: {', '.join(spec.required)})"
    )


def validation_context_load(*, spec: KindSpec, actor: User | None, source: str) -> Context:
    """The reference data ``spec``'s validation needs, read once per import."""
    context = Context(source=source)
    if spec.kind in (DataKind.TRADES, DataKind.POSITIONS, DataKind.PRICES):
        for identifier, pk, currency in Instrument.objects.values_list(
            "identifier", "id", "currency"
        ):
            context.instrument_ids[identifier] = pk
            context.instrument_currencies[identifier] = currency
    if spec.portfolio_column:
        for code, pk, currency in import_portfolios(actor=actor).values_list(
            "code", "id", "base_currency"
        ):
            context.portfolio_ids[code] = pk
            context.portfolio_currencies[code] = currency
    if spec.kind == DataKind.TRADES:
        context.user_ids = dict(User.objects.filter(is_active=True).values_list("username", "id"))
    if spec.kind == DataKind.INSTRUMENTS:
        context.isin_owner = {
            isin: identifier
            for isin, identifier in Instrument.objects.exclude(isin=None).values_list(
                "isin", "identifier"
            )
            if isin is not None
        }
    return context


def rows_validate(
    *, spec: KindSpec, chunk: pd.DataFrame, context: Context, seen: SeenKeys
) -> tuple[pd.DataFrame, list[RowError]]:
    """The good rows of ``chunk`` as database values, and the errors of the others
    (field errors first, then repeated natural keys). ``seen`` holds the keys of
    the input's earlier chunks and learns this chunk's."""
    good, errors = spec.validate(chunk, context)
    duplicate, duplicate_errors = _duplicates(spec=spec, good=good, seen=seen)
    if duplicate.any():
        good = good[~duplicate]
    return good, errors + duplicate_errors


def _duplicates(
    *, spec: KindSpec, good: pd.DataFrame, seen: SeenKeys
) -> tuple[pd.Series, list[RowError]]:
    """Rows whose natural key an earlier row of the same input already had."""
    key_columns = [
        field_column(concrete_field(spec.model, name))
        for name in spec.natural_key
        if name != "source"
    ]
    keys = good[key_columns[0]].astype(str)
    for column in key_columns[1:]:
        keys = keys + KEY_SEPARATOR + good[column].astype(str)
    label_field = "external_id" if "external_id" in key_columns else spec.columns[0]
    rows = good[ROW].to_numpy()
    earlier = seen.add(keys, rows)
    duplicate = earlier >= 0
    errors = []
    for position in np.flatnonzero(duplicate):
        label = keys.iloc[position].replace(KEY_SEPARATOR, " / ")
        errors.append(
            RowError(
                int(rows[position]),
                label_field,
                label,
                f"duplicate {spec.key_label} {label!r} (same as row {earlier[position]})",
            )
        )
    return pd.Series(duplicate, index=good.index, dtype=bool), errors


@dataclass
class ValidationTally:
    """What the validation of one input found: rows read, errors (all of them
    counted, the first ``ERRORS_KEPT`` kept as dicts) and rows with any error."""

    total: int = 0
    errors: int = 0
    rejected_rows: int = 0
    errors_kept: list[dict] = field(default_factory=list)

    def add(self, errors: list[RowError]) -> None:
        self.errors += len(errors)
        self.rejected_rows += len({e.row for e in errors})
        room = ERRORS_KEPT - len(self.errors_kept)
        if room > 0:
            self.errors_kept.extend(e.as_dict() for e in errors[:room])


def validated_chunks(
    chunks: Iterable[pd.DataFrame],
    *,
    spec: KindSpec,
    context: Context,
    tally: ValidationTally,
    report: RejectedRowsReport,
    skip_invalid: bool,
) -> Iterator[pd.DataFrame]:
    """Validate the parsed chunks; yield the good rows of each chunk to store.

    Counts and errors go to ``tally``, rejected rows to ``report``. Once a row is
    bad and ``skip_invalid`` is off, nothing more is yielded (nothing will be
    written) but every chunk is still validated, to report every bad row. Runs in
    the prefetch thread: it must not query the database.
    """
    seen = SeenKeys()
    checked_header = False
    for chunk in chunks:
        if not checked_header:
            problem = header_problem(spec=spec, columns=chunk.columns)
            if problem:
                raise FileError(problem, row=1)
            checked_header = True
        tally.total += len(chunk)
        good, errors = rows_validate(spec=spec, chunk=chunk, context=context, seen=seen)
        if errors:
            tally.add(errors)
            report.write(chunk, errors)
        if tally.errors and not skip_invalid:
            continue
        if not good.empty:
            yield good
