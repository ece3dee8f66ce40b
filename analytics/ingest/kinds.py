"""What each kind of import expects, and its per-row, per-field validation.

Every kind is a ``KindSpec``: the model it writes, the columns a file may have
(with the required ones), the natural key that makes a re-import idempotent, and
a ``validate`` that turns one frame of strings (``analytics.ingest.parsers``)
into a frame of database values plus the errors of the rows it refused. Checks
are vectorised over the frame: a million good rows cost a few pandas passes, and
only bad rows are looked at one by one to word their messages.

Every cell of a kind's columns is first checked for characters that text
storage refuses (``analytics.ingest.text``): such a cell has that one error and
no other. Every date must lie within the plausible range of the settings
``INGEST_DATE_MIN`` and ``INGEST_DATE_MAX`` (a year 9999 or 0001 is a typo or a
placeholder, not a trade).

Values keep their exact decimal text: numbers are checked with a float parse (is
it a number, its sign, its size) but the database receives the text the file
had, so no binary rounding happens on the way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import models

from analytics.ingest.bulk_insert import concrete_field
from analytics.ingest.currencies import ISO_4217
from analytics.ingest.parsers import ROW
from analytics.ingest.text import cells_holding_nul, text_printable
from analytics.models import (
    AssetClass,
    CashFlow,
    CashFlowKind,
    FxRate,
    Instrument,
    IssuerType,
    PositionSnapshot,
    Price,
    Trade,
)

MAX_ERRORS_PER_ROW = 10
REFUSED_CHARACTER_MESSAGE = (
    "holds a character that cannot be stored as text: a NUL (U+0000) or an unpaired "
    "surrogate (U+D800 to U+DFFF), shown as U+FFFD in the value"
)


def plausible_dates() -> tuple[dt.date, dt.date]:
    """The earliest and the latest date an import accepts: the settings
    ``INGEST_DATE_MIN`` and ``INGEST_DATE_MAX`` (ISO dates, both included)."""
    return (
        dt.date.fromisoformat(str(settings.INGEST_DATE_MIN)),
        dt.date.fromisoformat(str(settings.INGEST_DATE_MAX)),
    )


@dataclass(frozen=True)
class RowError:
    """One thing wrong with one row: ``row`` as the user numbers it (see
    ``analytics.ingest.parsers``), the ``field`` (column) and what was wrong."""

    row: int
    field: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return (
            f"{where}, field {self.field!r}: {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "value": self.value, "message": self.message}


@dataclass
class Context:
    """Reference data a validation needs, loaded once per import.

    ``portfolios`` holds only the portfolios the importing user may change, so an
    entitled-elsewhere code reads as unknown (ids and codes leak nothing)."""

    source: str
    instrument_ids: dict[str, int] = field(default_factory=dict)
    instrument_currencies: dict[str, str] = field(default_factory=dict)
    portfolio_ids: dict[str, int] = field(default_factory=dict)
    portfolio_currencies: dict[str, str] = field(default_factory=dict)  # base currency
    isin_owner: dict[str, str] = field(default_factory=dict)  # isin -> identifier
    user_ids: dict[str, int] = field(default_factory=dict)  # username -> id (active users)


class _Checker:
    """Collects the errors of one chunk; ``bad`` marks the rows that have any.
    ``refused`` marks, by column, the cells holding a refused character: their
    one error is that, so the other checks leave them alone."""

    def __init__(self, chunk: pd.DataFrame):
        self.chunk = chunk
        self.bad = pd.Series(False, index=chunk.index)
        self.errors: dict[object, list[RowError]] = {}
        self.refused: dict[str, pd.Series] = {}

    def flag(self, mask: pd.Series, column: str, message: Callable[[str], str] | str) -> None:
        """Give each row of ``mask`` the error ``message`` (text, or made from the
        cell's value as ``text_printable`` shows it) on ``column``."""
        mask = mask.fillna(False).astype(bool)
        refused = self.refused.get(column)
        if refused is not None:
            mask &= ~refused
        if not mask.any():
            return
        self.bad |= mask
        values = self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)
        for index in mask.index[mask.to_numpy()]:
            value = text_printable(str(values.loc[index]))
            text = message(value) if callable(message) else message
            row_errors = self.errors.setdefault(index, [])
            if len(row_errors) < MAX_ERRORS_PER_ROW:
                row_errors.append(RowError(int(self.chunk.loc[index, ROW]), column, value, text))

    def refused_characters(self, columns: Iterable[str]) -> None:
        """Flag every cell of ``columns`` that holds a character text storage
        refuses (``analytics.ingest.text``)."""
        for column in columns:
            if column not in self.chunk:
                continue
            holding = cells_holding_nul(self.chunk[column])
            if holding is not None:
                self.flag(holding, column, REFUSED_CHARACTER_MESSAGE)
                self.refused[column] = holding

    # --- typed columns -------------------------------------------------------

    def text(self, column: str, *, required: bool, max_length: int) -> pd.Series:
        values = self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)
        blank = values == ""
        if required:
            self.flag(blank, column, "is required")
        self.flag(values.str.len() > max_length, column, f"longer than {max_length} characters")
        return values

    def date(self, column: str, *, required: bool = True) -> pd.Series:
        values = self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)
        blank = values == ""
        if required:
            self.flag(blank, column, "is required")
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
        self.flag(parsed.isna() & ~blank, column, lambda v: f"bad date {v!r} (expected YYYY-MM-DD)")
        earliest, latest = plausible_dates()
        self.flag(
            (parsed < pd.Timestamp(earliest)) | (parsed > pd.Timestamp(latest)),
            column,
            lambda v: f"date {v} is outside the plausible range {earliest} to {latest}",
        )
        odd = parsed.notna() & (values.str.len() != 10)
        if odd.any():  # 2024-1-2 → 2024-01-02, so that dates compare as text on SQLite
            values = values.where(~odd, parsed.dt.strftime("%Y-%m-%d"))
        return values

    def number(
        self, column: str, *, model_field: models.DecimalField, required: bool = True
    ) -> tuple[pd.Series, pd.Series]:
        """The text and its float value (NaN when blank or bad)."""
        values = self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)
        blank = values == ""
        if required:
            self.flag(blank, column, "is required")
        parsed = pd.to_numeric(values.where(~blank, None), errors="coerce")
        parsed = parsed.astype("float64")
        not_number = ~blank & ~np.isfinite(parsed)
        self.flag(not_number, column, lambda v: f"{v!r} is not a number")
        places = model_field.decimal_places
        integer_digits = model_field.max_digits - places
        dot = values.str.find(".")
        long_fraction = (dot >= 0) & (values.str.len() - dot - 1 > places)
        if long_fraction.any():
            trimmed = values[long_fraction].str.rstrip("0")
            too_fine = pd.Series(False, index=values.index)
            too_fine[long_fraction] = trimmed.str.len() - dot[long_fraction] - 1 > places
            self.flag(
                too_fine & ~not_number,
                column,
                lambda v: f"{v!r} has more than {places} decimal places",
            )
        self.flag(
            parsed.abs() >= 10.0**integer_digits,
            column,
            lambda v: f"{v!r} is too large (at most {integer_digits} digits before the point)",
        )
        return values.where(~blank, None), parsed

    def currency(self, column: str, *, required: bool = True) -> pd.Series:
        values = self.chunk[column].str.upper() if column in self.chunk else None
        if values is None:
            values = pd.Series("", self.chunk.index)
        blank = values == ""
        if required:
            self.flag(blank, column, "is required")
        self.flag(
            ~blank & ~values.isin(ISO_4217),
            column,
            lambda v: f"unknown currency {v!r} (expected an ISO 4217 code such as USD)",
        )
        return values

    def lookup(self, column: str, mapping: dict, noun: str, hint: str = "") -> pd.Series:
        values = self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)
        blank = values == ""
        self.flag(blank, column, "is required")
        found = values.map(mapping)
        self.flag(found.isna() & ~blank, column, lambda v: f"unknown {noun} {v!r}{hint}")
        return found.astype("Int64")

    def raw(self, column: str) -> pd.Series:
        return self.chunk[column] if column in self.chunk else pd.Series("", self.chunk.index)

    def errors_list(self) -> list[RowError]:
        # By row; within a row in the order the checks ran (roughly the columns').
        return [
            error
            for _, errors in sorted(self.errors.items(), key=lambda item: item[1][0].row)
            for error in errors
        ]


@dataclass(frozen=True)
class KindSpec:
    """A kind of import. ``columns``: the file's columns (the required ones in
    ``required``); ``db_columns``: the model fields written, in order;
    ``natural_key``: the fields that identify a row (a re-import with the same
    key updates it, or changes nothing when the values are the same)."""

    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    db_columns: ClassVar[tuple[str, ...]]
    natural_key: ClassVar[tuple[str, ...]]
    key_label: ClassVar[str]
    portfolio_column: ClassVar[str | None] = None  # the db column holding the portfolio id

    def validate(
        self, chunk: pd.DataFrame, context: Context
    ) -> tuple[pd.DataFrame, list[RowError]]:
        check = _Checker(chunk)
        check.refused_characters(self.columns)
        frame = self._validate(check, context)
        frame[ROW] = chunk[ROW]
        good = frame[~check.bad]
        return good, check.errors_list()

    def _validate(self, check: _Checker, context: Context) -> pd.DataFrame:
        raise NotImplementedError

    @classmethod
    def field(cls, name: str) -> models.Field:
        return concrete_field(cls.model, name)

    @classmethod
    def missing_columns(cls, columns) -> list[str]:
        return [c for c in cls.required if c not in columns]


class InstrumentsSpec(KindSpec):
    kind = "instruments"
    model = Instrument
    columns = (
        "identifier",
        "name",
        "issuer",
        "issuer_group",
        "issuer_type",
        "sector",
        "industry",
        "country",
        "asset_class",
        "currency",
        "exchange",
        "isin",
        "shares_outstanding",
        "is_active",
    )
    required = ("identifier", "name", "currency")
    db_columns = columns
    natural_key = ("identifier",)
    key_label = "identifier"

    def _validate(self, check, context):
        identifier = check.text("identifier", required=True, max_length=32)
        name = check.text("name", required=True, max_length=200)
        issuer = check.text("issuer", required=False, max_length=200)
        issuer = issuer.where(issuer != "", name)
        country = check.text("country", required=False, max_length=2).str.upper()
        check.flag(
            (country != "") & ~country.str.fullmatch(r"[A-Z]{2}"),
            "country",
            lambda v: f"bad country {v!r} (expected an ISO 3166 alpha-2 code such as US)",
        )
        asset_class = check.text("asset_class", required=False, max_length=20).str.lower()
        asset_class = asset_class.where(asset_class != "", AssetClass.EQUITY.value)
        check.flag(
            ~asset_class.isin(AssetClass.values),
            "asset_class",
            lambda v: f"unknown asset class {v!r} (one of {', '.join(AssetClass.values)})",
        )
        issuer_type = check.text("issuer_type", required=False, max_length=20).str.lower()
        issuer_type = issuer_type.where(issuer_type != "", IssuerType.CORPORATE.value)
        check.flag(
            ~issuer_type.isin(IssuerType.values),
            "issuer_type",
            lambda v: f"unknown issuer type {v!r} (one of {', '.join(IssuerType.values)})",
        )
        isin = check.text("isin", required=False, max_length=12).str.upper()
        check.flag(
            (isin != "") & ~isin.str.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]"),
            "isin",
            lambda v: f"bad ISIN {v!r} (two letters, nine letters or digits, a check digit)",
        )
        owner = isin.map(context.isin_owner)
        check.flag(
            owner.notna() & (owner != identifier),
            "isin",
            lambda v: (
                f"ISIN {v!r} already belongs to instrument {context.isin_owner.get(v.upper())!r}"
            ),
        )
        shares, shares_value = check.number(
            "shares_outstanding", model_field=self.field("shares_outstanding"), required=False
        )
        check.flag(shares_value < 0, "shares_outstanding", "must not be negative")
        active = check.text("is_active", required=False, max_length=5).str.lower()
        truth = {
            "": True,
            "true": True,
            "1": True,
            "yes": True,
            "false": False,
            "0": False,
            "no": False,
        }
        check.flag(~active.isin(truth), "is_active", lambda v: f"{v!r} is not true/false")
        return pd.DataFrame(
            {
                "identifier": identifier,
                "name": name,
                "issuer": issuer,
                "issuer_group": check.text("issuer_group", required=False, max_length=200),
                "issuer_type": issuer_type,
                "sector": check.text("sector", required=False, max_length=64),
                "industry": check.text("industry", required=False, max_length=100),
                "country": country,
                "asset_class": asset_class,
                "currency": check.currency("currency"),
                "exchange": check.text("exchange", required=False, max_length=10).str.upper(),
                "isin": isin.where(isin != "", None),
                "shares_outstanding": shares,
                "is_active": active.map(truth),
            }
        )


class TradesSpec(KindSpec):
    kind = "trades"
    model = Trade
    columns = (
        "portfolio",
        "instrument",
        "trade_date",
        "settle_date",
        "side",
        "quantity",
        "price",
        "fees",
        "currency",
        "external_id",
        "trader",
        "strategy",
    )
    required = ("portfolio", "instrument", "trade_date", "side", "quantity", "price", "external_id")
    db_columns = (
        "portfolio",
        "instrument",
        "trade_date",
        "settle_date",
        "side",
        "quantity",
        "price",
        "fees",
        "currency",
        "external_id",
        "trader",
        "strategy",
        "source",
    )
    natural_key = ("source", "external_id")
    key_label = "external id"
    portfolio_column = "portfolio"
    SIDES: ClassVar[dict[str, str]] = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell"}

    def _validate(self, check, context):
        portfolio = check.lookup(
            "portfolio", context.portfolio_ids, "portfolio", " (or not one you may change)"
        )
        instrument = check.lookup("instrument", context.instrument_ids, "instrument")
        trade_date = check.date("trade_date")
        settle_date = check.date("settle_date", required=False)
        settle_date = settle_date.where(settle_date != "", trade_date)
        check.flag(
            (settle_date < trade_date) & (trade_date != ""),
            "settle_date",
            "is before the trade date",
        )
        side = check.chunk["side"].str.lower().map(self.SIDES) if "side" in check.chunk else None
        check.flag(
            side.isna() & (check.chunk["side"] != ""),
            "side",
            lambda v: f"unknown side {v!r} (buy or sell)",
        )
        check.flag(check.chunk["side"] == "", "side", "is required")
        quantity, quantity_value = check.number("quantity", model_field=self.field("quantity"))
        check.flag(
            quantity_value <= 0, "quantity", "must be positive (the side gives the direction)"
        )
        price, price_value = check.number("price", model_field=self.field("price"))
        check.flag(price_value < 0, "price", lambda v: f"negative price {v}")
        fees, fees_value = check.number("fees", model_field=self.field("fees"), required=False)
        check.flag(fees_value < 0, "fees", lambda v: f"negative fees {v}")
        currency = check.currency("currency", required=False)
        currency = currency.where(
            currency != "", check.raw("instrument").map(context.instrument_currencies)
        )
        external_id = check.text("external_id", required=True, max_length=64)
        # The trader is named by username (optional); the strategy is a short tag,
        # stored in lower case so that "Momentum" and "momentum" are one strategy.
        trader_name = check.raw("trader")
        trader = trader_name.map(context.user_ids)
        check.flag(
            trader.isna() & (trader_name != ""),
            "trader",
            lambda v: f"unknown trader {v!r} (expected the username of an active user)",
        )
        strategy = check.text("strategy", required=False, max_length=32).str.lower()
        return pd.DataFrame(
            {
                "portfolio_id": portfolio,
                "instrument_id": instrument,
                "trade_date": trade_date,
                "settle_date": settle_date,
                "side": side,
                "quantity": quantity,
                "price": price,
                "fees": fees.fillna("0"),
                "currency": currency,
                "external_id": external_id,
                "trader_id": trader.astype("Int64"),
                "strategy": strategy,
                "source": context.source,
            }
        )


class PositionsSpec(KindSpec):
    kind = "positions"
    model = PositionSnapshot
    columns = (
        "portfolio",
        "instrument",
        "date",
        "quantity",
        "price",
        "market_value_local",
        "market_value_base",
    )
    required = ("portfolio", "instrument", "date", "quantity")
    db_columns = (
        "portfolio",
        "instrument",
        "date",
        "quantity",
        "price",
        "market_value_local",
        "market_value_base",
        "source",
    )
    natural_key = ("portfolio", "date", "instrument", "source")
    key_label = "portfolio, date and instrument"
    portfolio_column = "portfolio"

    def _validate(self, check, context):
        portfolio = check.lookup(
            "portfolio", context.portfolio_ids, "portfolio", " (or not one you may change)"
        )
        instrument = check.lookup("instrument", context.instrument_ids, "instrument")
        day = check.date("date")
        quantity, _ = check.number("quantity", model_field=self.field("quantity"))
        price, price_value = check.number("price", model_field=self.field("price"), required=False)
        check.flag(price_value < 0, "price", lambda v: f"negative price {v}")
        local, _ = check.number(
            "market_value_local", model_field=self.field("market_value_local"), required=False
        )
        base, _ = check.number(
            "market_value_base", model_field=self.field("market_value_base"), required=False
        )
        return pd.DataFrame(
            {
                "portfolio_id": portfolio,
                "instrument_id": instrument,
                "date": day,
                "quantity": quantity,
                "price": price,
                "market_value_local": local,
                "market_value_base": base,
                "source": context.source,
            }
        )


class PricesSpec(KindSpec):
    kind = "prices"
    model = Price
    columns = ("instrument", "date", "close", "currency")
    required = ("instrument", "date", "close")
    db_columns = ("instrument", "date", "close", "currency", "source")
    natural_key = ("instrument", "date", "source")
    key_label = "instrument and date"

    def _validate(self, check, context):
        instrument = check.lookup("instrument", context.instrument_ids, "instrument")
        day = check.date("date")
        close, close_value = check.number("close", model_field=self.field("close"))
        check.flag(close_value < 0, "close", lambda v: f"negative price {v}")
        currency = check.currency("currency", required=False)
        currency = currency.where(
            currency != "", check.raw("instrument").map(context.instrument_currencies)
        )
        return pd.DataFrame(
            {
                "instrument_id": instrument,
                "date": day,
                "close": close,
                "currency": currency,
                "source": context.source,
            }
        )


class FxSpec(KindSpec):
    kind = "fx"
    model = FxRate
    columns = ("date", "base_currency", "quote_currency", "rate")
    required = columns
    db_columns = ("date", "base_currency", "quote_currency", "rate", "source")
    natural_key = ("base_currency", "quote_currency", "date", "source")
    key_label = "currency pair and date"

    def _validate(self, check, context):
        day = check.date("date")
        base = check.currency("base_currency")
        quote = check.currency("quote_currency")
        check.flag((base == quote) & (base != ""), "quote_currency", "equals the base currency")
        rate, rate_value = check.number("rate", model_field=self.field("rate"))
        check.flag(rate_value <= 0, "rate", lambda v: f"FX rate {v} must be positive")
        return pd.DataFrame(
            {
                "date": day,
                "base_currency": base,
                "quote_currency": quote,
                "rate": rate,
                "source": context.source,
            }
        )


class CashFlowsSpec(KindSpec):
    kind = "cashflows"
    model = CashFlow
    columns = ("portfolio", "date", "amount", "currency", "kind", "external_id")
    required = ("portfolio", "date", "amount", "external_id")
    db_columns = ("portfolio", "date", "amount", "currency", "kind", "external_id", "source")
    natural_key = ("source", "external_id")
    key_label = "external id"
    portfolio_column = "portfolio"

    def _validate(self, check, context):
        portfolio = check.lookup(
            "portfolio", context.portfolio_ids, "portfolio", " (or not one you may change)"
        )
        day = check.date("date")
        amount, amount_value = check.number("amount", model_field=self.field("amount"))
        check.flag(amount_value == 0, "amount", "must not be zero")
        currency = check.currency("currency", required=False)
        currency = currency.where(
            currency != "", check.raw("portfolio").map(context.portfolio_currencies)
        )
        kind = check.text("kind", required=False, max_length=16).str.lower()
        implied = pd.Series(
            np.where(
                amount_value < 0, CashFlowKind.REDEMPTION.value, CashFlowKind.SUBSCRIPTION.value
            ),
            index=kind.index,
        )
        check.flag(
            (kind != "") & ~kind.isin(CashFlowKind.values),
            "kind",
            lambda v: f"unknown kind {v!r} (subscription or redemption)",
        )
        check.flag(
            kind.isin(CashFlowKind.values) & (kind != implied) & amount_value.notna(),
            "kind",
            lambda v: f"{v} disagrees with the amount's sign (+ subscription, − redemption)",
        )
        return pd.DataFrame(
            {
                "portfolio_id": portfolio,
                "date": day,
                "amount": amount,
                "currency": currency,
                "kind": implied,
                "external_id": check.text("external_id", required=True, max_length=64),
                "source": context.source,
            }
        )


SPECS: dict[str, KindSpec] = {
    spec.kind: spec()
    for spec in (InstrumentsSpec, TradesSpec, PositionsSpec, PricesSpec, FxSpec, CashFlowsSpec)
}
