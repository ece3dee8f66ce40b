"""An import run: the ``ImportRun`` row that records one import, and
``data_import``, which every file, push and pull goes through (the rules are in
the package docstring). It reads load → compute → store: the reference data and
the parsed chunks are loaded, validated in a background thread a chunk ahead,
and each good chunk is staged while the next is validated; then, under the
table's import lock (taken only now, so a slow parse never blocks another
client), the staged rows are stored, and the run, the audit event and the
changed portfolios are recorded in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from analytics.ingest import bulk
from analytics.ingest.kinds import SPECS, KindSpec
from analytics.ingest.limits import ReadLimits
from analytics.ingest.parsers import FileError, read_chunks, read_json_rows
from analytics.ingest.prefetch import prefetched
from analytics.ingest.text import text_printable
from analytics.models import (
    DataKind,
    DataSource,
    ImportOrigin,
    ImportRun,
    ImportStatus,
    Trade,
)
from analytics.services.imports.after_commit import import_changes_record, portfolios_affected
from analytics.services.imports.authorisation import import_authorise
from analytics.services.imports.reading import HashingReader, seekable_stream
from analytics.services.imports.report import RejectedRowsReport
from analytics.services.imports.validation import (
    ValidationTally,
    source_problem,
    validated_chunks,
    validation_context_load,
)
from portal.leases import LEASE_CLEARED, lease_holder_name, lease_kept, lease_until
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record

logger = logging.getLogger(__name__)

IMPORT_LEASE = "import"
"""The lease kind of a running import (its length: ``settings.LEASE_SECONDS``).
Every run holds one from the moment it is ``running`` until the save that
finishes it; a run whose process died is found by the lease sweeper
(``recovery``)."""


class ImportLeaseLost(Exception):
    """Another process took the run over (this one's lease expired and was
    claimed): what this process did is not stored; the one that took over imports
    the input again."""


class _RejectedRollback(Exception):
    """Raised inside the transaction to roll it back when rows are bad."""


class _DryRunRollback(Exception):
    """Raised inside the transaction to roll a dry run back once it has counted."""


@dataclass
class StoredRows:
    """What storing the good rows of one input wrote: the upsert counts, with the
    portfolios and instruments whose rows changed, and (FX) the currencies met."""

    counts: bulk.UpsertCounts = field(default_factory=bulk.UpsertCounts)
    currencies: set[str] = field(default_factory=set)


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
    """The row that records an import, created before any data is read. The
    source and file name are stored as ``text_printable`` shows them (a NUL in an
    uploaded file's name must not fail the insert); a bad source is refused later."""
    if kind not in SPECS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(SPECS)}")
    return ImportRun.objects.create(
        kind=kind,
        origin=origin,
        source=text_printable(source),
        actor=actor,
        file_name=text_printable(file_name)[:255],
        file_format=file_format,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        data_source=data_source,
    )


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
    column_mapping: dict[str, str] | None = None,
    request_origin: RequestOrigin | None = None,
    data_source: DataSource | None = None,
    run: ImportRun | None = None,
    chunk_rows: int | None = None,
) -> ImportRun:
    """Import one file (``stream``, bytes) or one pushed batch (``rows``: a list of
    dicts) of ``kind``; return the ``ImportRun`` with its status and counts (see
    the package docstring). Raises ``PermissionDenied`` before any run row is
    created when ``actor`` may import nothing of this input (``authorisation``);
    every data problem ends in the run's status instead. ``run`` is a run created
    beforehand (a queued upload: a refusal at run time is recorded on it);
    ``chunk_rows`` overrides the parser's chunk size."""
    spec = SPECS[kind]
    try:
        import_authorise(spec=spec, actor=actor, rows=rows, column_mapping=column_mapping)
    except PermissionDenied as error:
        if run is None:
            raise  # refused before anything is recorded
        return _run_refused(run, str(error), None)  # the actor lost the right since queuing
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
    run.lease_holder, run.lease_expires_at = lease_holder_name(), lease_until(IMPORT_LEASE)
    run.save(update_fields=["status", "started_at", "lease_holder", "lease_expires_at"])

    source = (source or "").strip()
    problem = source_problem(source)
    if problem:
        return _run_refused(run, problem, None)
    given = _ImportInput(
        spec=spec,
        source=source,
        actor=actor,
        reader=_input_reader(stream, file_format=file_format),
        rows=rows,
        file_format=file_format,
        column_mapping=column_mapping,
        chunk_rows=chunk_rows,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        request_origin=request_origin,
    )
    report = RejectedRowsReport(run)
    tally = ValidationTally()
    try:
        with lease_kept(ImportRun.objects.filter(pk=run.pk), kind=IMPORT_LEASE):
            _import_in_transaction(run, given=given, report=report, tally=tally)
    except _DryRunRollback:
        run.status = ImportStatus.DRY_RUN
    except _RejectedRollback:
        _run_counts(run, tally, None)
        run.status = ImportStatus.REJECTED
    except FileError as error:
        report.close()
        return _run_refused(run, str(error), error.row)
    except ImportLeaseLost:
        raise  # the process that took the run over records it
    except Exception as error:
        logger.exception("import %s failed", run.pk)
        run.status = ImportStatus.FAILED
        run.message = f"Nothing imported: the import failed ({type(error).__name__}: {error})."
        run.finished_at = timezone.now()
        run.report = report.close()
        _run_finished_save(run)
        raise
    if run.status in (ImportStatus.DRY_RUN, ImportStatus.REJECTED):
        _run_finish(run, report=report, reader=given.reader)
    return run


@dataclass(frozen=True)
class _ImportInput:
    """One call of ``data_import``: what to import, from where, and how."""

    spec: KindSpec
    source: str
    actor: User | None
    reader: HashingReader | None
    rows: list | None
    file_format: str
    column_mapping: dict[str, str] | None
    chunk_rows: int | None
    skip_invalid: bool
    dry_run: bool
    request_origin: RequestOrigin | None


def _input_reader(stream: IO[bytes] | None, *, file_format: str) -> HashingReader | None:
    if stream is None:
        return None
    if file_format == "xlsx":
        stream = seekable_stream(stream)  # a workbook is a zip: read its directory first
    return HashingReader(stream)


def _import_in_transaction(
    run: ImportRun, *, given: _ImportInput, report: RejectedRowsReport, tally: ValidationTally
) -> None:
    """Load → compute → store in one transaction, which ``_RejectedRollback``
    (bad rows, ``skip_invalid`` off) or ``_DryRunRollback`` rolls back."""
    spec = given.spec
    connection = connections[router.db_for_write(spec.model)]
    with transaction.atomic(using=connection.alias):
        # Load: the reference data once, the input chunk by chunk (lazily).
        context = validation_context_load(spec=spec, actor=given.actor, source=given.source)
        chunks = _chunks_read(given)
        # Compute and stage: the next chunks are parsed and validated in a thread
        # while this one is copied into the transaction's staging table.
        validated = validated_chunks(
            chunks,
            spec=spec,
            context=context,
            tally=tally,
            report=report,
            skip_invalid=given.skip_invalid,
        )
        with prefetched(validated) as goods:
            staged = _chunks_stage(goods, spec=spec, connection=connection)
        if tally.errors and not given.skip_invalid:
            raise _RejectedRollback
        # Store: only now, the whole input read, is the table's lock taken.
        bulk.staging_lock(connection=connection, model=spec.model)
        stored = _chunks_store(staged, spec=spec)
        _run_record(run, given=given, stored=stored, tally=tally, report=report)


def _read_limits() -> ReadLimits:
    """The caps on one input, from the settings (``INGEST_MAX_ROWS``, ...)."""
    return ReadLimits(
        max_rows=settings.INGEST_MAX_ROWS,
        xlsx_part_bytes=settings.INGEST_XLSX_MAX_PART_BYTES,
        xlsx_sheet_bytes=settings.INGEST_XLSX_MAX_SHEET_BYTES,
    )


def _chunks_read(given: _ImportInput) -> Iterator[pd.DataFrame]:
    """The parsed chunks of the input: a pushed batch of rows or the file, within
    the configured ``ReadLimits``."""
    sizes: dict[str, Any] = {"limits": _read_limits()}
    if given.chunk_rows:
        sizes["chunk_rows"] = given.chunk_rows
    if given.rows is not None:
        return read_json_rows(given.rows, column_mapping=given.column_mapping, **sizes)
    # The hashing reader is a duck-typed binary file (see ``reading``).
    return read_chunks(
        cast(IO[bytes], given.reader),
        file_format=given.file_format,
        column_mapping=given.column_mapping,
        **sizes,
    )


@dataclass(frozen=True)
class _Staged:
    """The validated rows of one input, copied into the transaction's staging
    table, and (FX) the currencies they name."""

    staging: bulk.Staging
    currencies: set[str]


def _chunks_stage(
    goods: Iterable[pd.DataFrame], *, spec: KindSpec, connection: BaseDatabaseWrapper
) -> _Staged:
    """Append each validated chunk to one staging table. This takes no lock: the
    table is the transaction's own."""
    staging = bulk.staging_create(
        connection=connection,
        model=spec.model,
        field_names=spec.db_columns,
        natural_key=spec.natural_key,
    )
    currencies: set[str] = set()
    for good in goods:
        bulk.staging_write(staging, good)
        if spec.kind == DataKind.FX:
            currencies.update(good["base_currency"], good["quote_currency"])
    return _Staged(staging=staging, currencies=currencies)


def _chunks_store(staged: _Staged, *, spec: KindSpec) -> StoredRows:
    """Upsert the staged rows by natural key (the caller holds the table's
    import lock), then drop the staging table."""
    created_at = {"created_at": timezone.now()} if spec.model is Trade else None
    counts = bulk.staging_store(
        staged.staging,
        extra_insert=created_at,
        portfolio_column="portfolio_id" if spec.portfolio_column else None,
        instrument_column="instrument_id" if spec.kind == DataKind.PRICES else None,
    )
    bulk.staging_drop(staged.staging)
    return StoredRows(counts=counts, currencies=staged.currencies)


def _run_record(
    run: ImportRun,
    *,
    given: _ImportInput,
    stored: StoredRows,
    tally: ValidationTally,
    report: RejectedRowsReport,
) -> None:
    """Record what was stored: the run's counts and affected portfolios (then roll
    a dry run back), the portfolios' changed data and refresh, the finished run
    and its audit event."""
    changed = stored.counts.created or stored.counts.updated
    portfolio_ids = portfolios_affected(
        kind=given.spec.kind,
        portfolio_ids=stored.counts.portfolio_ids,
        instrument_ids=stored.counts.instrument_ids,
        currencies=stored.currencies if changed else (),
    )
    run.portfolio_ids = sorted(portfolio_ids)
    _run_counts(run, tally, stored.counts)
    if given.dry_run:
        raise _DryRunRollback
    run.status = ImportStatus.PARTIAL if tally.errors else ImportStatus.COMMITTED
    import_changes_record(kind=given.spec.kind, portfolio_ids=portfolio_ids)
    _run_finish(run, report=report, reader=given.reader)
    _run_audit(run, given=given)


def _run_counts(run: ImportRun, tally: ValidationTally, counts: bulk.UpsertCounts | None) -> None:
    run.rows_total = tally.total
    run.rows_rejected = tally.rejected_rows
    run.error_count = tally.errors
    run.errors = tally.errors_kept
    if counts is not None:
        run.rows_created = counts.created
        run.rows_updated = counts.updated
        run.rows_unchanged = counts.unchanged


def _run_finish(
    run: ImportRun, *, report: RejectedRowsReport, reader: HashingReader | None
) -> None:
    """Close the report, take the input's checksum, word the summary and save."""
    run.finished_at = timezone.now()
    run.report = report.close()
    if reader is not None:
        run.sha256, run.file_size = reader.digest()
    run.message = _summary(run)
    _run_finished_save(run)


def _run_audit(run: ImportRun, *, given: _ImportInput) -> None:
    """The run's one ``data.imported`` event (the source as stored on the rows)."""
    audit_record(
        actor=given.actor,
        action=AuditAction.DATA_IMPORTED,
        target=run,
        origin=given.request_origin,
        details={
            "kind": run.kind,
            "origin": run.origin,
            "source": given.source,
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


def _run_refused(run: ImportRun, message: str, row: int | None) -> ImportRun:
    """The run of an input refused as a whole (unreadable file, bad source)."""
    run.status = ImportStatus.REJECTED
    run.error_count = 1
    run.errors = [{"row": row or 0, "field": "", "value": "", "message": message}]
    run.message = f"Nothing imported: {message}."
    run.finished_at = timezone.now()
    _run_finished_save(run)
    return run


def _run_finished_save(run: ImportRun) -> None:
    """Save the finished run and release its lease in the same UPDATE, when this
    process still holds it; otherwise raise ``ImportLeaseLost``. Inside the
    import's transaction that rolls the import back, so a run taken over by
    another process is imported by that one only."""
    with transaction.atomic():
        held = (
            ImportRun.objects.select_for_update()
            .filter(pk=run.pk, lease_holder=lease_holder_name())
            .exists()
        )
        if not held:
            raise ImportLeaseLost(f"import {run.pk} was taken over by another process")
        for name, value in LEASE_CLEARED.items():
            setattr(run, name, value)
        run.save()


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
