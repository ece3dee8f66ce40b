"""Imports of instruments, trades, positions, prices, FX rates and cash flows from
files (CLI, upload API, admin), pushed JSON batches and pulled HTTP sources.
Every path ends in ``data_import``, so the rules are the same everywhere:

* **Validation** per row and field (``analytics.ingest.kinds``); every error
  names the row, the field and what was wrong. Rows that repeat a natural key of
  an earlier row of the same file are refused ("duplicate external id").
* **Atomic by default.** The input is parsed and validated chunk by chunk in a
  background thread, while each validated chunk goes through a staging table
  into the real table (``analytics.ingest.bulk``), all inside one transaction.
  If any row is bad, nothing is committed and the run's status is ``rejected``;
  with ``skip_invalid`` the good rows are committed (``partial``) and every
  rejected row is written to a CSV report. An exception half way rolls
  everything back (status ``failed``). ``dry_run`` does all of it, reports the
  counts a real import would have, and rolls back.
* **Idempotent** by natural key (``KindSpec.natural_key``): the same file twice
  creates nothing the second time; a row whose key exists with other values is
  updated (an amendment) and counted as such.
* **Entitlements.** A user may import trades, positions and cash flows only into
  portfolios they manage (``analytics.selectors.entitlements.portfolio_list_visible_to`` with
  ``manage=True``) and market data (instruments, prices, FX) only with the
  model's ``add`` permission. ``actor=None`` is the system (CLI, pull sources).
* **Afterwards**, in the same transaction: ``portfolio_data_changed_mark`` for
  the portfolios whose data changed, one ``data.imported`` audit event, and, once
  committed, a positions rebuild and a data-quality scan queued for them.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.ingest import bulk
from analytics.ingest.kinds import SPECS, Context, KindSpec, RowError
from analytics.ingest.parsers import ROW, FileError, read_chunks
from analytics.ingest.prefetch import prefetched
from analytics.ingest.seen_keys import SeenKeys
from analytics.models import (
    DataKind,
    DataSource,
    ImportOrigin,
    ImportRun,
    ImportStatus,
    Instrument,
    Portfolio,
    Trade,
)
from analytics.selectors.entitlements import portfolio_list_visible_to
from analytics.services.versions import portfolio_data_changed_mark
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from portal.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)

ERRORS_KEPT = 200  # errors stored on the run row; the report file has all of them
MARKET_DATA_KINDS = {DataKind.INSTRUMENTS, DataKind.PRICES, DataKind.FX}
RESERVED_SOURCES = {"derived"}  # owned by the positions rebuild


class ImportRejected(Exception):
    """Raised inside the transaction to roll it back when rows are bad."""


class _DryRunRollback(Exception):
    pass


@dataclass
class _Outcome:
    total: int = 0
    errors: int = 0
    rejected_rows: int = 0


def _context(*, spec: KindSpec, actor: User | None, source: str) -> Context:
    context = Context(source=source)
    if spec.kind in (DataKind.TRADES, DataKind.POSITIONS, DataKind.PRICES):
        for identifier, pk, currency in Instrument.objects.values_list(
            "identifier", "id", "currency"
        ):
            context.instrument_ids[identifier] = pk
            context.instrument_currencies[identifier] = currency
    if spec.portfolio_column:
        portfolios = (
            Portfolio.objects.all()
            if actor is None
            else portfolio_list_visible_to(user=actor, manage=True)
        )
        for code, pk, currency in portfolios.values_list("code", "id", "base_currency"):
            context.portfolio_ids[code] = pk
            context.portfolio_currencies[code] = currency
    if spec.kind == DataKind.INSTRUMENTS:
        context.isin_owner = dict(
            Instrument.objects.exclude(isin=None).values_list("isin", "identifier")
        )
    return context


def _authorise(*, spec: KindSpec, actor: User | None) -> None:
    if actor is None or spec.kind not in MARKET_DATA_KINDS:
        return
    permission = f"analytics.add_{spec.model._meta.model_name}"
    if not actor.has_perm(permission):
        raise PermissionDenied(
            f"importing {spec.kind} needs the permission {permission} (market data is shared)"
        )


def _report_path(run: ImportRun) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{run.pk}-rejected.csv"


class _Report:
    """The rejected rows as a CSV: the row number, its errors, then the row's own
    columns as the file had them (so it can be fixed and imported again)."""

    def __init__(self, run: ImportRun):
        self.run = run
        self.path: Path | None = None
        self.handle = None
        self.writer = None
        self.columns: list[str] = []

    def write(self, raw: pd.DataFrame, errors: list[RowError]) -> None:
        if not errors:
            return
        if self.writer is None:
            self.path = _report_path(self.run)
            self.handle = self.path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.columns = [c for c in raw.columns if c != ROW]
            self.writer.writerow(["row", "errors", *self.columns])
        by_row: dict[int, list[str]] = {}
        for error in errors:
            by_row.setdefault(error.row, []).append(
                f"{error.field}: {error.message}" if error.field else error.message
            )
        rows = raw.set_index(ROW, drop=False)
        for row, messages in sorted(by_row.items()):
            values = rows.loc[row, self.columns] if row in rows.index else []
            if isinstance(values, pd.DataFrame):
                values = values.iloc[0]
            cells = [_neutralise(str(v)) for v in list(values)]
            self.writer.writerow([row, "; ".join(messages), *cells])

    def close(self) -> str:
        if self.handle is not None:
            self.handle.close()
            return str(self.path.relative_to(settings.MEDIA_ROOT))
        return ""


def _neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote."""
    return (
        "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _numeric(cell) else cell
    )


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _duplicates(
    *, spec: KindSpec, good: pd.DataFrame, seen: SeenKeys
) -> tuple[pd.Series, list[RowError]]:
    """Rows whose natural key an earlier row of the same input already had."""
    key_columns = [
        spec.model._meta.get_field(name).column for name in spec.natural_key if name != "source"
    ]
    keys = good[key_columns[0]].astype(str)
    for column in key_columns[1:]:
        keys = keys + "\x1f" + good[column].astype(str)
    label_field = "external_id" if "external_id" in key_columns else spec.columns[0]
    rows = good[ROW].to_numpy()
    earlier = seen.add(keys, rows)
    duplicate = earlier >= 0
    errors = []
    for position in np.flatnonzero(duplicate):
        label = keys.iloc[position].replace("\x1f", " / ")
        errors.append(
            RowError(
                int(rows[position]),
                label_field,
                label,
                f"duplicate {spec.key_label} {label!r} (same as row {earlier[position]})",
            )
        )
    return pd.Series(duplicate, index=good.index, dtype=bool), errors


def _validated(
    chunks: Iterable[pd.DataFrame],
    *,
    spec: KindSpec,
    context: Context,
    outcome: _Outcome,
    report: _Report,
    kept_errors: list[dict],
    skip_invalid: bool,
) -> Iterator[pd.DataFrame]:
    """Validate the parsed chunks; yield the good rows of each chunk to store.

    Counts go to ``outcome``, errors to ``kept_errors`` and the report. Once a row
    is bad and ``skip_invalid`` is off, nothing more is yielded (nothing will be
    written) but every chunk is still validated, to report every bad row. Runs in
    the prefetch thread: it must not query the database.
    """
    seen = SeenKeys()
    checked_header = False
    for chunk in chunks:
        if not checked_header:
            missing = spec.missing_columns(chunk.columns)
            if missing:
                raise FileError(
                    f"missing column(s) {', '.join(missing)}; a {spec.kind} file has "
                    f"{', '.join(spec.columns)} (required: {', '.join(spec.required)})",
                    row=1,
                )
            checked_header = True
        outcome.total += len(chunk)
        good, errors = spec.validate(chunk, context)
        duplicate, duplicate_errors = _duplicates(spec=spec, good=good, seen=seen)
        if duplicate.any():
            good = good[~duplicate]
            errors = errors + duplicate_errors
        if errors:
            outcome.errors += len(errors)
            outcome.rejected_rows += len({e.row for e in errors})
            if len(kept_errors) < ERRORS_KEPT:
                kept_errors.extend(e.as_dict() for e in errors[: ERRORS_KEPT - len(kept_errors)])
            report.write(chunk, errors)
        if outcome.errors and not skip_invalid:
            continue
        if not good.empty:
            yield good


def _file_error_run(run: ImportRun, message: str, row: int | None) -> ImportRun:
    run.status = ImportStatus.REJECTED
    run.error_count = 1
    run.errors = [{"row": row or 0, "field": "", "value": "", "message": message}]
    run.message = f"Nothing imported: {message}."
    run.finished_at = timezone.now()
    run.save()
    return run


def import_run_create(
    *,
    kind: str,
    origin: str,
    source: str,
    actor: User | None,
    file_name: str = "",
    file_format: str = "csv",
    dry_run: bool = False,
    skip_invalid: bool = False,
    data_source: DataSource | None = None,
) -> ImportRun:
    """The row that records an import, created before any data is read."""
    if kind not in SPECS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(SPECS)}")
    return ImportRun.objects.create(
        kind=kind,
        origin=origin,
        source=source,
        actor=actor,
        file_name=file_name[:255],
        file_format=file_format,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        data_source=data_source,
    )


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


class _HashingReader:
    """Wraps a binary stream to count and hash what the parser reads."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return getattr(self.stream, "seekable", lambda: False)()

    def seek(self, offset: int, whence: int = 0) -> int:
        # Only zip readers (XLSX) seek; the hash is then taken over the whole
        # file separately (see ``digest``).
        self.rehash = True
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def digest(self) -> tuple[str, int]:
        if not getattr(self, "rehash", False):
            return self.sha256.hexdigest(), self.size
        position = self.stream.tell()
        self.stream.seek(0)
        sha256, size = hashlib.sha256(), 0
        while block := self.stream.read(1024 * 1024):
            sha256.update(block)
            size += len(block)
        self.stream.seek(position)
        return sha256.hexdigest(), size

    @property
    def closed(self) -> bool:
        return False

    def flush(self) -> None:
        return None


def data_import(
    *,
    kind: str,
    stream: IO[bytes] | None = None,
    rows: list | None = None,
    file_name: str = "",
    file_format: str = "csv",
    source: str = "file",
    actor: User | None = None,
    origin: str = ImportOrigin.CLI,
    dry_run: bool = False,
    skip_invalid: bool = False,
    column_mapping: dict | None = None,
    request_origin: RequestOrigin | None = None,
    data_source: DataSource | None = None,
    run: ImportRun | None = None,
    chunk_rows: int | None = None,
) -> ImportRun:
    """Import one file (``stream``, bytes) or one pushed batch (``rows``: a list of
    dicts) of ``kind``; return the ``ImportRun`` with its status and counts (see
    the module docstring). Raises ``PermissionDenied`` when ``actor`` may not
    import market data; every data problem ends in the run's status instead."""
    spec = SPECS[kind]
    _authorise(spec=spec, actor=actor)
    if run is None:
        run = import_run_create(
            kind=kind,
            origin=origin,
            source=source,
            actor=actor,
            file_name=file_name,
            file_format=file_format if rows is None else "json",
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            data_source=data_source,
        )
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])

    source = (source or "").strip()
    if not source or len(source) > 64 or source in RESERVED_SOURCES:
        return _file_error_run(
            run, f"source {source!r} is not allowed (1 to 64 characters, not 'derived')", None
        )

    reader = None
    if stream is not None:
        if file_format == "xlsx":
            stream = _seekable(stream)  # a workbook is a zip: read its directory first
        reader = _HashingReader(stream)
    report = _Report(run)
    outcome = _Outcome()
    kept_errors: list[dict] = []
    connection = connections[router.db_for_write(spec.model)]
    parse_kwargs = {"column_mapping": column_mapping}
    if chunk_rows:
        parse_kwargs["chunk_rows"] = chunk_rows
    counts = None
    try:
        with transaction.atomic(using=connection.alias):
            bulk.staging_lock(connection=connection, model=spec.model)
            context = _context(spec=spec, actor=actor, source=source)
            staging = bulk.staging_create(
                connection=connection,
                model=spec.model,
                field_names=spec.db_columns,
                natural_key=spec.natural_key,
            )
            if rows is not None:
                from analytics.ingest.parsers import read_json_rows

                chunks = read_json_rows(rows, **parse_kwargs)
            else:
                chunks = read_chunks(reader, file_format=file_format, **parse_kwargs)
            validated = _validated(
                chunks,
                spec=spec,
                context=context,
                outcome=outcome,
                report=report,
                kept_errors=kept_errors,
                skip_invalid=skip_invalid,
            )
            counts = bulk.UpsertCounts()
            currencies: set[str] = set()
            created_at = {"created_at": timezone.now()} if spec.model is Trade else None
            # The next chunks are parsed and validated in a thread while this one is stored.
            with prefetched(validated) as goods:
                for good in goods:
                    counts += bulk.chunk_store(
                        staging,
                        good,
                        extra_insert=created_at,
                        portfolio_column="portfolio_id" if spec.portfolio_column else None,
                        instrument_column="instrument_id" if spec.kind == DataKind.PRICES else None,
                    )
                    if spec.kind == DataKind.FX:
                        currencies.update(good["base_currency"], good["quote_currency"])
            if outcome.errors and not skip_invalid:
                raise ImportRejected
            portfolio_ids = set(counts.portfolio_ids)
            if spec.kind == DataKind.PRICES and counts.instrument_ids:
                portfolio_ids |= _portfolios_holding(counts.instrument_ids)
            if spec.kind == DataKind.FX and (counts.created or counts.updated):
                portfolio_ids |= _portfolios_in_currencies(currencies)
            bulk.staging_drop(staging)
            run.portfolio_ids = sorted(portfolio_ids)
            _finish_counts(run, outcome, counts, kept_errors)
            if dry_run:
                raise _DryRunRollback
            run.status = ImportStatus.PARTIAL if outcome.errors else ImportStatus.COMMITTED
            portfolio_data_changed_mark(portfolio_ids=portfolio_ids)
            run.finished_at = timezone.now()
            run.report = report.close()
            run.message = _summary(run)
            if reader is not None:
                run.sha256, run.file_size = reader.digest()
            run.save()
            audit_record(
                actor=actor,
                action=AuditAction.DATA_IMPORTED,
                target=run,
                origin=request_origin,
                details={
                    "kind": kind,
                    "origin": run.origin,
                    "source": source,
                    "file": run.file_name,
                    "sha256": run.sha256,
                    "size": run.file_size,
                    "rows": run.rows_total,
                    "created": run.rows_created,
                    "updated": run.rows_updated,
                    "unchanged": run.rows_unchanged,
                    "rejected": run.rows_rejected,
                    "portfolios": run.portfolio_ids,
                },
            )
            if portfolio_ids and kind == DataKind.POSITIONS:
                # Reported positions change no derived ones, only the reconciliation.
                _after_commit_refresh(portfolio_ids, rebuild=False)
            elif portfolio_ids and kind != DataKind.INSTRUMENTS:
                _after_commit_refresh(portfolio_ids)
    except _DryRunRollback:
        run.status = ImportStatus.DRY_RUN
    except ImportRejected:
        _finish_counts(run, outcome, None, kept_errors)
        run.status = ImportStatus.REJECTED
    except FileError as error:
        report.close()
        return _file_error_run(run, str(error), error.row)
    except Exception as error:
        logger.exception("import %s failed", run.pk)
        run.status = ImportStatus.FAILED
        run.message = f"Nothing imported: the import failed ({type(error).__name__}: {error})."
        run.finished_at = timezone.now()
        run.report = report.close()
        run.save()
        raise
    if run.status in (ImportStatus.DRY_RUN, ImportStatus.REJECTED):
        run.finished_at = timezone.now()
        run.report = report.close()
        if reader is not None:
            run.sha256, run.file_size = reader.digest()
        run.message = _summary(run)
        run.save()
    return run


def _finish_counts(run, outcome: _Outcome, counts, kept_errors) -> None:
    run.rows_total = outcome.total
    run.rows_rejected = outcome.rejected_rows
    run.error_count = outcome.errors
    run.errors = kept_errors
    if counts is not None:
        run.rows_created, run.rows_updated, run.rows_unchanged = (
            counts.created,
            counts.updated,
            counts.unchanged,
        )


def _summary(run: ImportRun) -> str:
    if run.status == ImportStatus.REJECTED:
        return (
            f"Nothing imported: {run.rows_rejected} of {run.rows_total} rows have errors "
            f"({run.error_count} in all). Fix them, or import with skip-invalid to load "
            f"the other rows."
        )
    prefix = "Dry run, nothing committed: would have" if run.dry_run else "Imported"
    text = (
        f"{prefix} {run.rows_created} new, {run.rows_updated} updated, "
        f"{run.rows_unchanged} unchanged of {run.rows_total} rows"
    )
    if run.rows_rejected:
        text += f"; {run.rows_rejected} rows rejected (see the report)"
    return text + "."


def _portfolios_holding(instrument_ids: Iterable[int]) -> set[int]:
    return set(
        Trade.objects.filter(instrument_id__in=list(instrument_ids))
        .values_list("portfolio_id", flat=True)
        .distinct()
    )


def _portfolios_in_currencies(currencies: set[str]) -> set[int]:
    return set(
        Portfolio.objects.filter(
            Q(base_currency__in=currencies) | Q(trades__currency__in=currencies)
        )
        .values_list("id", flat=True)
        .distinct()
    )


def _after_commit_refresh(portfolio_ids: Iterable[int], *, rebuild: bool = True) -> None:
    """Once committed, re-derive positions (unless ``rebuild=False``) and re-scan
    data quality of the portfolios whose inputs changed (tasks are safe twice)."""
    task = "analytics.positions_rebuild_and_scan" if rebuild else "analytics.portfolio_quality_scan"
    for portfolio_id in sorted(portfolio_ids):
        task_send_on_commit(task, portfolio_id)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def import_upload(
    *,
    kind: str,
    upload,
    file_format: str,
    source: str,
    actor: User,
    dry_run: bool = False,
    skip_invalid: bool = False,
    request_origin: RequestOrigin | None = None,
) -> ImportRun:
    """An uploaded file: imported in the request when it is at most
    ``INGEST_INLINE_MAX_BYTES``, otherwise kept under ``MEDIA_ROOT/imports/`` and
    imported by ``analytics.import_run_execute`` (the run is created first, so a
    duplicated task finds it claimed)."""
    spec = SPECS[kind]
    _authorise(spec=spec, actor=actor)
    if upload.size <= settings.INGEST_INLINE_MAX_BYTES:
        return data_import(
            kind=kind,
            stream=upload.file,
            file_name=upload.name,
            file_format=file_format,
            source=source,
            actor=actor,
            origin=ImportOrigin.UPLOAD,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            request_origin=request_origin,
        )
    with transaction.atomic():
        run = import_run_create(
            kind=kind,
            origin=ImportOrigin.UPLOAD,
            source=source,
            actor=actor,
            file_name=upload.name,
            file_format=file_format,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
        folder = Path(settings.MEDIA_ROOT) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"import-{run.pk}.{file_format}"
        with stored.open("wb") as handle:
            for block in upload.chunks():
                handle.write(block)
        run.stored_file = str(stored.relative_to(settings.MEDIA_ROOT))
        run.file_size = upload.size
        run.save(update_fields=["stored_file", "file_size"])
        task_send_on_commit("analytics.import_run_execute", run.pk)
    return run


def import_run_execute_queued(*, run_id: int) -> ImportRun | None:
    """Run a queued upload. Claimed with a conditional update, so a duplicated
    task does nothing; the stored file is removed once imported."""
    claimed = ImportRun.objects.filter(id=run_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return None
    run = ImportRun.objects.select_related("actor").get(id=run_id)
    path = Path(settings.MEDIA_ROOT) / run.stored_file
    with path.open("rb") as handle:
        run = data_import(
            kind=run.kind,
            stream=handle,
            file_name=run.file_name,
            file_format=run.file_format,
            source=run.source,
            actor=run.actor,
            origin=run.origin,
            dry_run=run.dry_run,
            skip_invalid=run.skip_invalid,
            run=run,
        )
    path.unlink(missing_ok=True)
    return run


@dataclass(frozen=True)
class PushOutcome:
    status: int
    body: dict
    replayed: bool = False


def push_batch(
    *,
    kind: str,
    user: User,
    body: bytes,
    idempotency_key: str,
    validate: Callable[[object], dict],
    render: Callable[[ImportRun], tuple[int, dict]],
    request_origin: RequestOrigin | None = None,
) -> PushOutcome:
    """Import a pushed JSON batch once per ``Idempotency-Key``.

    The key row is committed *before* the import starts, so a concurrent retry
    sees it (409 while running); the first answer is stored on it and replayed to
    every retry with the same body; the same key with another body is refused
    (422). A batch that crashes releases its key so that the client may retry.
    Numbers are parsed as decimals (never through binary floats).
    """
    import json

    from django.db import IntegrityError
    from rest_framework.exceptions import ValidationError

    from analytics.models import IdempotencyKey

    try:
        payload = json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError({"detail": f"the body is not valid JSON: {error}"}) from None
    data = validate(payload)
    key = idempotency_key.strip()
    if len(key) > 255:
        raise ValidationError({"Idempotency-Key": "at most 255 characters"})
    record = None
    if key:
        digest = hashlib.sha256(body).hexdigest()
        endpoint = f"push.{kind}"
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, endpoint=endpoint, key=key, request_sha256=digest
                )
        except IntegrityError:
            existing = IdempotencyKey.objects.get(user=user, endpoint=endpoint, key=key)
            if existing.request_sha256 != digest:
                return PushOutcome(
                    422,
                    {"detail": "This Idempotency-Key was used for a different batch."},
                )
            if existing.response_status is None:
                return PushOutcome(
                    409, {"detail": "A request with this Idempotency-Key is still running."}
                )
            return PushOutcome(existing.response_status, existing.response_body, replayed=True)
    try:
        run = data_import(
            kind=kind,
            rows=data["rows"],
            file_name=f"push ({len(data['rows'])} rows)",
            source=data["source"],
            actor=user,
            origin=ImportOrigin.PUSH,
            skip_invalid=data["skip_invalid"],
            request_origin=request_origin,
        )
    except BaseException:
        if record is not None:
            record.delete()
        raise
    outcome = PushOutcome(*render(run))
    if record is not None:
        record.response_status = outcome.status
        record.response_body = json.loads(json.dumps(outcome.body, default=str))
        record.import_run = run
        record.save(update_fields=["response_status", "response_body", "import_run"])
    return outcome
