"""Imports of instruments, trades, positions, prices, FX rates and cash flows from
files (CLI, upload API), pushed JSON batches, pulled HTTP sources and the admin.
Files, pushes and pulls end in ``runs.data_import``; the admin's
django-import-export resources (``analytics.resources``) call the same steps, so
the rules are the same everywhere:

* **Authorisation** (``authorisation``). A user may import trades, positions and
  cash flows only into portfolios they manage
  (``analytics.selectors.entitlements.portfolio_list_visible_to`` with
  ``manage=True``) and market data (instruments, prices, FX) only with the
  model's ``add`` permission. ``actor=None`` is the system (CLI, pull sources).
  An input that could import nothing for lack of permission is refused as a
  whole, before any run is recorded (the rules are in ``authorisation``).
* **Validation** per row and field (``validation``, over
  ``analytics.ingest.kinds``); every error names the row, the field and what was
  wrong. Rows that repeat a natural key of an earlier row of the same input are
  refused ("duplicate external id").
* **Atomic by default** (``runs``). The input is parsed and validated chunk by
  chunk in a background thread, while each validated chunk goes through a
  staging table into the real table (``analytics.ingest.bulk``), all inside one
  transaction. If any row is bad, nothing is committed and the run's status is
  ``rejected``; with ``skip_invalid`` the good rows are committed (``partial``)
  and every rejected row is written to a CSV report (``report``). An exception
  half way rolls everything back (status ``failed``). ``dry_run`` does all of
  it, reports the counts a real import would have, and rolls back.
* **Idempotent** by natural key (``KindSpec.natural_key``): the same file twice
  creates nothing the second time; a row whose key exists with other values is
  updated (an amendment) and counted as such. Pushed batches are also made safe
  to retry by their ``Idempotency-Key`` (``push``).
* **Afterwards** (``after_commit``), in the same transaction: the portfolios
  whose data changed are marked (``portfolio_data_changed_mark``), one
  ``data.imported`` audit event is written and, once committed, a positions
  rebuild and a data-quality scan are queued for them. The rebuild announces
  the change, so each portfolio's snapshot is computed once, after it.

Large uploads are kept and imported by a Celery task (``upload``).
"""
