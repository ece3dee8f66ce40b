"""The demo's instrument universe: ~500 equities across the 11 GICS sectors and
eight countries, plus a few government bonds and ETFs. Pure pandas/numpy.

Every attribute is drawn from a seeded ``numpy.random.Generator``; names, tickers
and ISIN-like identifiers are invented (ISINs carry a valid ISO 6166 check digit
but belong to nobody). A handful of issuers list two share classes, whose
returns are nearly identical (see ``market``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# GICS sectors with several of their industries, the share of the equity
# universe in each and the sector's typical beta to the S&P 500.
SECTORS: dict[str, tuple[float, float, list[str]]] = {
    "Information Technology": (
        0.14,
        1.25,
        [
            "Software",
            "Semiconductors & Semiconductor Equipment",
            "Technology Hardware, Storage & Peripherals",
            "IT Services",
            "Electronic Equipment, Instruments & Components",
        ],
    ),
    "Financials": (
        0.13,
        1.15,
        ["Banks", "Insurance", "Capital Markets", "Financial Services", "Consumer Finance"],
    ),
    "Health Care": (
        0.12,
        0.85,
        [
            "Pharmaceuticals",
            "Biotechnology",
            "Health Care Equipment & Supplies",
            "Health Care Providers & Services",
        ],
    ),
    "Industrials": (
        0.13,
        1.05,
        [
            "Aerospace & Defense",
            "Machinery",
            "Electrical Equipment",
            "Ground Transportation",
            "Building Products",
            "Professional Services",
        ],
    ),
    "Consumer Discretionary": (
        0.11,
        1.10,
        [
            "Automobiles",
            "Hotels, Restaurants & Leisure",
            "Specialty Retail",
            "Textiles, Apparel & Luxury Goods",
            "Household Durables",
        ],
    ),
    "Consumer Staples": (
        0.08,
        0.65,
        [
            "Food Products",
            "Beverages",
            "Household Products",
            "Consumer Staples Distribution & Retail",
        ],
    ),
    "Communication Services": (
        0.06,
        0.95,
        [
            "Diversified Telecommunication Services",
            "Media",
            "Interactive Media & Services",
            "Entertainment",
        ],
    ),
    "Energy": (
        0.06,
        1.10,
        ["Oil, Gas & Consumable Fuels", "Energy Equipment & Services"],
    ),
    "Materials": (
        0.07,
        1.05,
        ["Chemicals", "Metals & Mining", "Construction Materials", "Containers & Packaging"],
    ),
    "Utilities": (
        0.05,
        0.50,
        ["Electric Utilities", "Multi-Utilities", "Gas Utilities", "Water Utilities"],
    ),
    "Real Estate": (
        0.05,
        0.75,
        [
            "Industrial REITs",
            "Residential REITs",
            "Office REITs",
            "Real Estate Management & Development",
        ],
    ),
}

# Country: (share of the equity universe, currency, exchanges, ticker suffix,
# legal-form suffixes, typical first price range in local currency).
COUNTRIES: dict[str, tuple[float, str, list[str], str, list[str], tuple[float, float]]] = {
    "US": (0.52, "USD", ["XNYS", "XNAS"], "", ["Inc.", "Corp.", "Co."], (15, 250)),
    "JP": (0.10, "JPY", ["XTKS"], ".T", ["Corporation", "Co., Ltd.", "Holdings"], (400, 9000)),
    "GB": (0.09, "GBP", ["XLON"], ".L", ["plc", "Group plc"], (2, 40)),
    "CA": (0.07, "CAD", ["XTSE"], ".TO", ["Inc.", "Ltd."], (10, 120)),
    "DE": (0.06, "EUR", ["XETR"], ".DE", ["AG", "SE"], (10, 150)),
    "FR": (0.06, "EUR", ["XPAR"], ".PA", ["SA", "SE"], (10, 150)),
    "CH": (0.05, "CHF", ["XSWX"], ".SW", ["AG", "Holding AG"], (20, 400)),
    "NL": (0.05, "EUR", ["XAMS"], ".AS", ["N.V."], (10, 100)),
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Syllables of invented company names ("Lumvia", "Kelfield").
_NAME_STARTS = _words(
    "Al Bel Cor Dal El Fen Gal Hal Ist Jor Kel Lum Mar Nor Or Pel Quin Ros Sol Tor Ul Val Wes Xan "
    "Yor Zen Ar Bra Cal Del Ev Far Gor Hel Ir Kal Lor Mer Nev Ol Pra Ral Sar Tal Ver Wil"
)
_NAME_ENDS = _words(
    "tek via nex ton ris dia gen mar lux vor tra cor lan dus ven rix sys mont ford wick star "
    "field ia ora anta ex"
)
_SECTOR_WORDS = {
    "Information Technology": ["Systems", "Technologies", "Software", "Digital", "Micro"],
    "Financials": ["Financial", "Bancorp", "Capital", "Insurance", "Partners"],
    "Health Care": ["Pharma", "Therapeutics", "Medical", "Health", "Biosciences"],
    "Industrials": ["Industries", "Aerospace", "Machinery", "Logistics", "Engineering"],
    "Consumer Discretionary": ["Motors", "Brands", "Retail", "Leisure", "Home"],
    "Consumer Staples": ["Foods", "Beverages", "Consumer", "Markets", "Farms"],
    "Communication Services": ["Telecom", "Media", "Networks", "Entertainment", "Interactive"],
    "Energy": ["Energy", "Petroleum", "Resources", "Oil & Gas", "Drilling"],
    "Materials": ["Chemicals", "Materials", "Mining", "Metals", "Packaging"],
    "Utilities": ["Power", "Utilities", "Electric", "Water", "Gas"],
    "Real Estate": ["Properties", "Realty", "Land", "Estates", "REIT"],
}
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# A few instruments that are not single stocks, for multi-asset portfolios:
# (identifier, name, issuer, asset class, country, currency, exchange, industry,
#  first price, what its returns follow).
OTHER_INSTRUMENTS = [
    (
        "UST-2.0-2023",
        "US Treasury 2.000% 15/02/2023",
        "United States Treasury",
        "fixed_income",
        "US",
        "USD",
        "",
        "Government bonds",
        100.9,
        "bond",
    ),
    (
        "DBR-1.5-2023",
        "Bundesrepublik Deutschland 1.500% 15/05/2023",
        "Federal Republic of Germany",
        "fixed_income",
        "DE",
        "EUR",
        "",
        "Government bonds",
        101.8,
        "bond",
    ),
    (
        "UKT-2.25-2023",
        "UK Treasury Gilt 2.250% 07/09/2023",
        "United Kingdom Debt Management Office",
        "fixed_income",
        "GB",
        "GBP",
        "",
        "Government bonds",
        102.4,
        "bond",
    ),
    (
        "FRTR-1.75-2024",
        "France OAT 1.750% 25/11/2024",
        "French Republic",
        "fixed_income",
        "FR",
        "EUR",
        "",
        "Government bonds",
        100.6,
        "bond",
    ),
    (
        "US500-ETF",
        "US Large Cap 500 Index ETF",
        "Demo Index Funds Trust",
        "fund",
        "US",
        "USD",
        "XNYS",
        "Equity index funds",
        146.0,
        "sp500",
    ),
    (
        "USTECH-ETF",
        "US Technology Composite ETF",
        "Demo Index Funds Trust",
        "fund",
        "US",
        "USD",
        "XNAS",
        "Equity index funds",
        66.0,
        "nasdaq",
    ),
    (
        "GLAGG-ETF",
        "Global Aggregate Bond ETF",
        "Demo Index Funds Trust",
        "fund",
        "US",
        "USD",
        "XNYS",
        "Bond index funds",
        52.0,
        "bond",
    ),
    (
        "EUGOV-ETF",
        "Euro Government Bond ETF",
        "Demo Index Funds plc",
        "fund",
        "DE",
        "EUR",
        "XETR",
        "Bond index funds",
        140.0,
        "bond",
    ),
]

# Issuers with two listed share classes (the second gets " Class B").
DUAL_CLASS_ISSUERS = 6
# Financials issuers that belong to one group for consolidated accounts.
GROUPED_BANKS = 3


def isin_check_digit(body: str) -> str:
    """ISO 6166 check digit of the first 11 characters of an ISIN (Luhn over the
    digits obtained by writing letters as 10..35)."""
    digits = "".join(str(int(character, 36)) for character in body)
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


def _isin(country: str, rng: np.random.Generator, used: set[str]) -> str:
    while True:
        # National numbers are mostly digits; UK SEDOL-based ones read "00B" + letters/digits.
        if country == "GB":
            national = "00B" + "".join(_ALPHANUMERIC[i] for i in rng.integers(0, 36, 6))
        else:
            national = "".join(_ALPHANUMERIC[i] for i in rng.integers(0, 10, 9))
        body = country + national
        isin = body + isin_check_digit(body)
        if isin not in used:
            used.add(isin)
            return isin


def _ticker(name: str, country: str, suffix: str, rng: np.random.Generator, used: set) -> str:
    if country == "JP":  # Tokyo codes are four digits
        while True:
            code = f"{int(rng.integers(1300, 9990))}{suffix}"
            if code not in used:
                used.add(code)
                return code
    letters = "".join(c for c in name.upper() if c.isalpha())
    for length in (3, 4, 2):
        candidate = letters[:length] + suffix
        if candidate not in used:
            used.add(candidate)
            return candidate
    while True:
        candidate = letters[:2] + "".join(_ALPHANUMERIC[10 + i] for i in rng.integers(0, 26, 2))
        candidate += suffix
        if candidate not in used:
            used.add(candidate)
            return candidate


def build_universe(*, rng: np.random.Generator, equities: int = 492) -> pd.DataFrame:
    """The instrument universe as a frame with one row per instrument.

    Columns: identifier, isin, name, issuer, issuer_group (blank: none),
    issuer_type (corporate or government), sector, industry, country, currency,
    exchange, asset_class, first_price (local currency, the close of the day
    before the first demo day), beta, market_cap_usd, follows ("equity", "bond",
    "sp500" or "nasdaq": what drives its returns) and twin_of (row position of the
    other share class of the same issuer, or -1).
    """
    sector_names = list(SECTORS)
    sector_shares = np.array([SECTORS[s][0] for s in sector_names])
    country_names = list(COUNTRIES)
    country_shares = np.array([COUNTRIES[c][0] for c in country_names])

    n_single = equities - min(DUAL_CLASS_ISSUERS, equities // 20)
    sectors = rng.choice(len(sector_names), size=n_single, p=sector_shares / sector_shares.sum())
    countries = rng.choice(
        len(country_names), size=n_single, p=country_shares / country_shares.sum()
    )

    used_names: set[str] = set()
    used_tickers: set[str] = set()
    used_isins: set[str] = set()
    rows = []
    for sector_index, country_index in zip(sectors, countries, strict=True):
        sector = sector_names[sector_index]
        country = country_names[country_index]
        _share, currency, exchanges, suffix, legal_forms, price_range = COUNTRIES[country]
        _, sector_beta, industries = SECTORS[sector]
        while True:
            stem = rng.choice(_NAME_STARTS) + rng.choice(_NAME_ENDS)
            issuer = f"{stem.capitalize()} {rng.choice(_SECTOR_WORDS[sector])}"
            if issuer not in used_names:
                used_names.add(issuer)
                break
        name = f"{issuer} {rng.choice(legal_forms)}"
        low, high = price_range
        rows.append(
            {
                "identifier": _ticker(stem, country, suffix, rng, used_tickers),
                "isin": _isin(country, rng, used_isins),
                "name": name,
                "issuer": name,
                "sector": sector,
                "industry": str(rng.choice(industries)),
                "country": country,
                "currency": currency,
                "exchange": str(rng.choice(exchanges)),
                "asset_class": "equity",
                "first_price": float(np.exp(rng.uniform(np.log(low), np.log(high)))),
                "beta": float(np.clip(sector_beta + rng.normal(0, 0.18), 0.2, 2.2)),
                # Market caps are roughly log-normal: a median of $12bn, a long right tail.
                "market_cap_usd": float(np.clip(np.exp(rng.normal(np.log(12e9), 1.1)), 1e9, 8e11)),
                "follows": "equity",
                "twin_of": -1,
            }
        )

    # Second share classes of the largest US issuers (like Class A / Class C stock).
    us_rows = [i for i, row in enumerate(rows) if row["country"] == "US"]
    largest = sorted(us_rows, key=lambda i: -rows[i]["market_cap_usd"])
    for position in largest[: equities - n_single]:
        first = rows[position]
        twin = dict(first)
        twin["identifier"] = first["identifier"] + ".B"
        used_tickers.add(twin["identifier"])
        twin["isin"] = _isin("US", rng, used_isins)
        twin["name"] = first["name"] + " Class B"
        twin["first_price"] = first["first_price"] * float(rng.uniform(0.97, 1.03))
        twin["market_cap_usd"] = first["market_cap_usd"] * float(rng.uniform(0.3, 0.8))
        twin["twin_of"] = position
        rows.append(twin)

    for other in OTHER_INSTRUMENTS:
        (
            identifier,
            name,
            issuer,
            asset_class,
            country,
            currency,
            exchange,
            industry,
            price,
            follows,
        ) = other
        rows.append(
            {
                "identifier": identifier,
                "isin": _isin(country, rng, used_isins),
                "name": name,
                "issuer": issuer,
                # The index fund issuers belong to one sponsor's group.
                "issuer_group": "Demo Index Funds Group" if asset_class == "fund" else "",
                "issuer_type": "government" if asset_class == "fixed_income" else "corporate",
                "sector": "Government" if asset_class == "fixed_income" else "",
                "industry": industry,
                "country": country,
                "currency": currency,
                "exchange": exchange,
                "asset_class": asset_class,
                "first_price": price,
                "beta": 0.0,
                "market_cap_usd": np.nan,
                "follows": follows,
                "twin_of": -1,
            }
        )
    universe = pd.DataFrame(rows)
    universe["issuer_group"] = universe["issuer_group"].fillna("")
    universe["issuer_type"] = universe["issuer_type"].fillna("corporate")
    # A few banks belong to one group for consolidated accounts (UCITS art. 52(5)):
    # the first GROUPED_BANKS Financials issuers share the first one's name as parent.
    banks = universe.index[(universe["sector"] == "Financials") & (universe["twin_of"] == -1)]
    grouped = banks[:GROUPED_BANKS]
    if len(grouped) > 1:
        parent = str(universe.loc[grouped[0], "issuer"]).rsplit(" ", 1)[0] + " Group"
        universe.loc[grouped, "issuer_group"] = parent
    # The close before the first demo day is a whole number of cents (of yen).
    universe["first_price"] = np.where(
        universe["currency"] == "JPY",
        universe["first_price"].round(0),
        universe["first_price"].round(2),
    )
    return universe
