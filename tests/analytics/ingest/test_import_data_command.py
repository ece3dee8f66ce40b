"""``manage.py import_data``: every bad input is named by row and field and leaves
the database as it was; the same file twice changes nothing; ``--skip-invalid``
commits the good rows and reports the others; ``--dry-run`` commits nothing; a
crash half way leaves nothing behind."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from analytics.models import (
    CashFlow,
    FxRate,
    ImportRun,
    ImportStatus,
    Instrument,
    PositionSnapshot,
    Price,
    Trade,
)
from portal.models import AuditAction, AuditEvent
from tests.analytics.ingest.conftest import last_run, table_counts

TRADES_HEADER = "portfolio,instrument,trade_date,side,quantity,price,fees,currency,external_id"
GOOD_TRADES = (
    TRADES_HEADER,
    "GROWTH,AAA,2024-01-02,buy,100,10.50,1,USD,T-1",
    "GROWTH,SAP.DE,2024-01-03,buy,20,150.25,0,,T-2",
    "GROWTH,AAA,2024-01-04,sell,40,11,1,USD,T-3",
)


def run_import(*args):
    call_command("import_data", *[str(a) for a in args])


BAD_INPUTS = [
    # (kind, header, bad row, row number, field, words in the message)
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,ZZZ,2024-01-02,buy,1,1,0,USD,X-1",
        "instrument",
        "unknown instrument 'ZZZ'",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-02-30,buy,1,1,0,USD,X-1",
        "trade_date",
        "bad date '2024-02-30'",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,buy,1,-5,0,USD,X-1",
        "price",
        "negative price -5",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,buy,1,5,0,XYZ,X-1",
        "currency",
        "unknown currency 'XYZ'",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,buy,0,5,0,USD,X-1",
        "quantity",
        "must be positive",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,hold,1,5,0,USD,X-1",
        "side",
        "unknown side 'hold'",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,buy,1,five,0,USD,X-1",
        "price",
        "'five' is not a number",
    ),
    (
        "trades",
        TRADES_HEADER,
        "GROWTH,AAA,2024-01-02,buy,1,5.1234567,0,USD,X-1",
        "price",
        "more than 6 decimal places",
    ),
    (
        "trades",
        TRADES_HEADER,
        "HIDDEN,AAA,2024-01-02,buy,1,5,0,USD,X-1",
        "portfolio",
        "unknown portfolio 'HIDDEN'",
    ),
    ("trades", TRADES_HEADER, "GROWTH,AAA,2024-01-02,buy,1,5,0,USD,", "external_id", "is required"),
    ("prices", "instrument,date,close", "AAA,2024-01-02,-1.5", "close", "negative price -1.5"),
    ("prices", "instrument,date,close", "AAA,02/01/2024,1.5", "date", "expected YYYY-MM-DD"),
    (
        "prices",
        "instrument,date,close,currency",
        "AAA,2024-01-02,1.5,usdollar",
        "currency",
        "unknown currency",
    ),
    (
        "fx",
        "date,base_currency,quote_currency,rate",
        "2024-01-02,EUR,USD,0",
        "rate",
        "must be positive",
    ),
    (
        "fx",
        "date,base_currency,quote_currency,rate",
        "2024-01-02,EUR,EUR,1",
        "quote_currency",
        "equals the base currency",
    ),
    (
        "fx",
        "date,base_currency,quote_currency,rate",
        "2024-01-02,EUR,ABC,1.1",
        "quote_currency",
        "unknown currency 'ABC'",
    ),
    (
        "cashflows",
        "portfolio,date,amount,kind,external_id",
        "GROWTH,2024-01-02,-500,subscription,F-1",
        "kind",
        "disagrees with the amount's sign",
    ),
    (
        "cashflows",
        "portfolio,date,amount,external_id",
        "GROWTH,2024-01-02,0,F-1",
        "amount",
        "must not be zero",
    ),
    (
        "positions",
        "portfolio,instrument,date,quantity",
        "GROWTH,AAA,2024-01-02,lots",
        "quantity",
        "'lots' is not a number",
    ),
    (
        "instruments",
        "identifier,name,currency,asset_class",
        "NEW,New Co,USD,tulips",
        "asset_class",
        "unknown asset class 'tulips'",
    ),
    (
        "instruments",
        "identifier,name,currency,isin",
        "NEW,New Co,USD,DE0007164600",
        "isin",
        "already belongs to instrument 'SAP.DE'",
    ),
]


@pytest.mark.parametrize(
    ("kind", "header", "bad", "field", "message"),
    BAD_INPUTS,
    ids=[f"{case[0]}-{case[3]}-{case[4][:24]}" for case in BAD_INPUTS],
)
def test_a_bad_row_is_named_and_nothing_is_committed(
    world, hidden, write, capsys, kind, header, bad, field, message
):
    """One good row and one bad one: the command fails, names row 3 and the field,
    and no table changes (the good row is not committed either)."""
    good = {
        "trades": "GROWTH,AAA,2024-01-02,buy,1,5,0,USD,OK-1",
        "prices": "AAA,2024-01-03,5" + (",USD" if "currency" in header else ""),
        "fx": "2024-01-03,EUR,USD,1.1",
        "cashflows": "GROWTH,2024-01-03,500,"
        + ("subscription," if "kind" in header else "")
        + "OK-1",
        "positions": "GROWTH,AAA,2024-01-03,5",
        "instruments": "GOOD,Good Co,USD," + ("equity" if "asset_class" in header else ""),
    }[kind]
    path = write(f"{kind}.csv", header, good, bad)
    before = table_counts()

    # Portfolio data is imported as alice, so that entitlements apply.
    as_alice = ["--user", "alice"] if kind in ("trades", "cashflows", "positions") else []
    with pytest.raises(CommandError, match="Nothing imported"):
        run_import(kind, path, *as_alice)

    assert table_counts() == before
    err = capsys.readouterr().err
    assert f"row 3, field '{field}'" in err
    assert message in err
    run = last_run()
    assert run.status == ImportStatus.REJECTED
    assert run.rows_total == 2 and run.rows_rejected == 1
    assert run.errors[0]["row"] == 3 and run.errors[0]["field"] == field


def test_duplicate_external_id_in_one_file_is_refused(world, write, capsys):
    path = write("dup.csv", *GOOD_TRADES, "GROWTH,AAA,2024-01-05,buy,5,10,0,USD,T-1")
    before = table_counts()
    with pytest.raises(CommandError):
        run_import("trades", path)
    assert table_counts() == before
    assert "row 5, field 'external_id': duplicate external id 'T-1' (same as row 2)" in (
        capsys.readouterr().err
    )


def test_missing_columns_are_listed(world, write, capsys):
    path = write("cols.csv", "portfolio,instrument,side,quantity", "GROWTH,AAA,buy,1")
    before = table_counts()
    with pytest.raises(CommandError, match=r"missing column.*trade_date, price, external_id"):
        run_import("trades", path)
    assert table_counts() == before


def test_a_file_that_is_not_csv_gets_a_clear_error(world, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\x00\x81")
    before = table_counts()
    with pytest.raises(CommandError, match="not UTF-8"):
        run_import("trades", path)
    assert table_counts() == before


def test_trades_import_then_the_same_file_again_changes_nothing(world, write, aaa, sap):
    path = write("trades.csv", *GOOD_TRADES)
    run_import("trades", path, "--source", "broker-a")
    first = last_run()
    assert first.status == ImportStatus.COMMITTED
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (3, 0, 0)
    trade = Trade.objects.get(source="broker-a", external_id="T-1")
    assert (trade.portfolio, trade.instrument, trade.trade_date) == (
        world,
        aaa,
        dt.date(2024, 1, 2),
    )
    assert trade.price == Decimal("10.5") and trade.fees == Decimal(1)
    assert trade.settle_date == dt.date(2024, 1, 2)  # defaults to the trade date
    assert Trade.objects.get(external_id="T-2").currency == "EUR"  # the instrument's currency
    version = type(world).objects.get(pk=world.pk).data_version
    after_first = table_counts()

    run_import("trades", path, "--source", "broker-a")

    again = last_run()
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert {k: v for k, v in table_counts().items() if k != "AuditEvent"} == {
        k: v for k, v in after_first.items() if k != "AuditEvent"
    }
    assert again.portfolio_ids == []
    assert type(world).objects.get(pk=world.pk).data_version == version  # nothing changed


def test_a_corrected_row_is_an_update_not_a_duplicate(world, write):
    run_import("trades", write("a.csv", *GOOD_TRADES))
    corrected = list(GOOD_TRADES)
    corrected[1] = "GROWTH,AAA,2024-01-02,buy,100,10.55,1,USD,T-1"
    run_import("trades", write("b.csv", *corrected))
    run = last_run()
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (0, 1, 2)
    assert Trade.objects.get(external_id="T-1").price == Decimal("10.55")
    assert Trade.objects.count() == 3


def test_the_same_external_id_from_another_source_is_another_trade(world, write):
    path = write("a.csv", *GOOD_TRADES)
    run_import("trades", path, "--source", "broker-a")
    run_import("trades", path, "--source", "broker-b")
    assert Trade.objects.count() == 6


def test_skip_invalid_commits_the_good_rows_and_reports_the_rest(world, write, capsys):
    path = write(
        "mixed.csv",
        *GOOD_TRADES,
        "GROWTH,NOPE,2024-01-05,buy,5,10,0,USD,T-4",
        "GROWTH,AAA,2024-01-05,buy,5,=1+1,0,USD,T-5",
    )
    run_import("trades", path, "--skip-invalid")
    run = last_run()
    assert run.status == ImportStatus.PARTIAL
    assert (run.rows_total, run.rows_created, run.rows_rejected) == (5, 3, 2)
    assert set(Trade.objects.values_list("external_id", flat=True)) == {"T-1", "T-2", "T-3"}
    report = Path(settings.MEDIA_ROOT) / run.report
    with report.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["row", "errors", "portfolio"]
    assert [r[0] for r in rows[1:]] == ["5", "6"]
    assert "unknown instrument 'NOPE'" in rows[1][1]
    assert "'=1+1' is not a number" in rows[2][1]
    assert "'=1+1" in rows[2]  # a formula is neutralised in the report
    assert str(report) in capsys.readouterr().err
    assert AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED).count() == 1


def test_dry_run_counts_and_commits_nothing(world, write, capsys):
    before = table_counts()
    run_import("trades", write("t.csv", *GOOD_TRADES), "--dry-run")
    assert table_counts() == before
    run = last_run()
    assert run.status == ImportStatus.DRY_RUN and run.rows_created == 3
    assert "Dry run, nothing committed: would have 3 new" in capsys.readouterr().out


def test_a_crash_half_way_leaves_nothing_half_written(world, write, monkeypatch):
    """The upsert has written the trades when the next step fails: all rolled back."""
    import analytics.services.imports.after_commit as after_commit

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(after_commit, "portfolio_data_changed_mark", explode)
    before = table_counts()
    with pytest.raises(RuntimeError, match="disk full"):
        run_import("trades", write("t.csv", *GOOD_TRADES))
    assert table_counts() == before
    run = last_run()
    assert run.status == ImportStatus.FAILED and "disk full" in run.message


def test_import_as_a_user_respects_entitlements(world, bob, alice, write):
    path = write("t.csv", *GOOD_TRADES)
    with pytest.raises(CommandError, match="needs manage access to a portfolio"):
        run_import("trades", path, "--user", "bob")  # bob may only view GROWTH
    assert Trade.objects.count() == 0 and not ImportRun.objects.exists()
    run_import("trades", path, "--user", "alice")
    assert Trade.objects.count() == 3
    event = AuditEvent.objects.get(action=AuditAction.DATA_IMPORTED)
    assert event.actor == alice and event.details["created"] == 3
    assert len(event.details["sha256"]) == 64


def test_every_kind_imports(world, write, aaa):
    run_import(
        "instruments",
        write(
            "i.csv",
            "identifier,name,currency,exchange,isin,asset_class,country",
            "MSFT,Microsoft,usd,xnas,US5949181045,equity,us",
        ),
    )
    msft = Instrument.objects.get(identifier="MSFT")
    assert (msft.currency, msft.exchange, msft.country, msft.issuer) == (
        "USD",
        "XNAS",
        "US",
        "Microsoft",
    )
    run_import("prices", write("p.csv", "instrument,date,close", "MSFT,2024-01-02,370.87"))
    assert Price.objects.get(instrument=msft).close == Decimal("370.87")
    run_import(
        "fx", write("f.csv", "date,base_currency,quote_currency,rate", "2024-01-02,EUR,USD,1.0956")
    )
    assert FxRate.objects.get().rate == Decimal("1.0956")
    run_import(
        "cashflows",
        write("c.csv", "portfolio,date,amount,external_id", "GROWTH,2024-01-02,-250.5,F-1"),
    )
    flow = CashFlow.objects.get()
    assert (flow.kind, flow.currency, flow.amount) == ("redemption", "USD", Decimal("-250.5"))
    run_import(
        "positions",
        write("s.csv", "portfolio,instrument,date,quantity,price", "GROWTH,AAA,2024-01-02,100,10"),
        "--source",
        "custodian",
    )
    position = PositionSnapshot.objects.get(source="custodian")
    assert position.quantity == Decimal(100) and position.price == Decimal(10)


def test_positions_cannot_be_imported_as_the_derived_source(world, write):
    before = table_counts()
    with pytest.raises(CommandError, match="not allowed"):
        run_import(
            "positions",
            write("s.csv", "portfolio,instrument,date,quantity", "GROWTH,AAA,2024-01-02,1"),
            "--source",
            "derived",
        )
    assert table_counts() == before


def test_xlsx_files_stream_with_real_dates_and_numbers(world, tmp_path, aaa):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["Portfolio", "Instrument", "Trade_Date", "Side", "Quantity", "Price", "External_ID"]
    )
    sheet.append(["GROWTH", "AAA", dt.date(2024, 1, 2), "BUY", 100, 10.25, "X-1"])
    sheet.append([])  # blank rows are skipped but still counted
    naive_cell = dt.datetime(2024, 1, 3)  # noqa: DTZ001 - spreadsheet cells are naive
    sheet.append(["GROWTH", "AAA", naive_cell, "Sell", 40, 11, "X-2"])
    path = tmp_path / "trades.xlsx"
    workbook.save(path)

    run_import("trades", path)

    trade = Trade.objects.get(external_id="X-2")
    assert (trade.trade_date, trade.side, trade.quantity) == (dt.date(2024, 1, 3), "sell", 40)
    assert Trade.objects.get(external_id="X-1").price == Decimal("10.25")


def test_xlsx_errors_name_the_spreadsheet_row(world, tmp_path, capsys):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["portfolio", "instrument", "trade_date", "side", "quantity", "price", "external_id"]
    )
    sheet.append(["GROWTH", "AAA", dt.date(2024, 1, 2), "buy", 100, 10.25, "X-1"])
    sheet.append(["GROWTH", "AAA", "yesterday", "buy", 100, 10.25, "X-2"])
    path = tmp_path / "trades.xlsx"
    workbook.save(path)
    with pytest.raises(CommandError):
        run_import("trades", path)
    assert "row 3, field 'trade_date': bad date 'yesterday'" in capsys.readouterr().err
    assert Trade.objects.count() == 0


def test_not_an_xlsx_file(world, write):
    path = write("fake.xlsx", "this is not a workbook")
    with pytest.raises(CommandError, match="not an XLSX workbook"):
        run_import("trades", path)


def test_a_row_with_too_many_fields_names_its_line(world, write):
    path = write("t.csv", *GOOD_TRADES, "GROWTH,AAA,2024-01-05,buy,5,10,0,USD,T-9,extra")
    before = table_counts()
    with pytest.raises(CommandError, match=r"not a well-formed CSV file: .*line 5"):
        run_import("trades", path)
    assert table_counts() == before


def test_reported_positions_queue_a_scan_not_a_rebuild(
    world, write, django_capture_on_commit_callbacks, monkeypatch
):
    import analytics.tasks as tasks

    sent = []
    monkeypatch.setattr(
        tasks.portfolio_quality_scan,
        "apply_async",
        lambda args, kwargs=None, **options: sent.append(("scan", *args)),
    )
    monkeypatch.setattr(
        tasks.positions_rebuild_and_scan,
        "apply_async",
        lambda args, kwargs=None, **options: sent.append(("rebuild", *args)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_import(
            "positions",
            write("s.csv", "portfolio,instrument,date,quantity", "GROWTH,AAA,2024-01-02,100"),
            "--source",
            "custodian",
        )
    assert sent == [("scan", world.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        run_import("trades", write("t.csv", *GOOD_TRADES))
    assert sent[1:] == [("rebuild", world.pk)]
