"""A small world to import into: alice's USD portfolio GROWTH (bob sees it
through the equity desk, view only), a US and a German stock, and a helper that
counts every table an import could touch."""

import pytest

from analytics.models import (
    CashFlow,
    FxRate,
    ImportRun,
    Instrument,
    PositionSnapshot,
    Price,
    Trade,
)
from portal.models import AuditEvent
from tests.factories import InstrumentFactory


@pytest.fixture
def aaa(db):
    return InstrumentFactory(identifier="AAA", currency="USD", exchange="XNYS")


@pytest.fixture
def sap(db):
    return InstrumentFactory(
        identifier="SAP.DE", currency="EUR", exchange="XETR", country="DE", isin="DE0007164600"
    )


@pytest.fixture
def world(growth, aaa, sap):
    return growth


def table_counts() -> dict[str, int]:
    """Rows in every table an import writes, except the import runs themselves."""
    return {
        model.__name__: model.objects.count()
        for model in (Trade, Price, FxRate, CashFlow, Instrument, PositionSnapshot, AuditEvent)
    }


@pytest.fixture
def counts():
    return table_counts


@pytest.fixture
def write(tmp_path):
    """Write a CSV file from lines and return its path."""

    def write(name: str, *lines: str):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def last_run() -> ImportRun:
    return ImportRun.objects.order_by("-id").first()
