"""Building holdings frames by hand for worked examples."""

import pandas as pd

COLUMNS = [
    "portfolio",
    "instrument",
    "identifier",
    "market_value_base",
    "quantity",
    "issuer",
    "sector",
    "country",
    "asset_class",
    "currency",
    "shares_outstanding",
    "is_government",
]


_IDS: dict[str, int] = {}


def instrument_id(identifier):
    """One id per identifier across every frame of a test, as in the database."""
    return _IDS.setdefault(identifier, 1000 + len(_IDS))


def frame(rows, portfolio=1):
    """Rows of (identifier, value, overrides...) for one portfolio; cash is 'CASH'."""
    records = []
    for row in rows:
        identifier, value, *rest = row
        extra = rest[0] if rest else {}
        cash = identifier.startswith("CASH")
        record = {
            "portfolio": extra.pop("portfolio", portfolio),
            "instrument": extra.pop("instrument", instrument_id(identifier)),
            "identifier": identifier,
            "market_value_base": float(value),
            "quantity": float(value) if cash else float(value) / 10.0,
            "issuer": identifier if not cash else "Cash",
            "sector": "Cash" if cash else "Technology",
            "country": "US",
            "asset_class": "cash" if cash else "equity",
            "currency": "USD",
            "shares_outstanding": float("nan"),
            "is_government": False,
        }
        record.update(extra)
        records.append(record)
    return pd.DataFrame(records, columns=COLUMNS)
