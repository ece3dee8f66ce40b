"""A believable, reproducible demo data set built on real market data.

What is real and what is not
----------------------------
* **Real:** the S&P 500 and NASDAQ Composite daily levels ('Adj Close') and the
  monthly Fama-French factors (Mkt-RF, SMB, HML, RF) shipped by the ``arch``
  package (``arch.data``), used for 2013-01-02 → 2018-12-31.
* **Synthetic, seeded:** the ~500 instruments (names, tickers, ISIN-like ids with
  a valid check digit), their prices (each a one-factor model anchored on the
  real S&P 500 daily returns plus a sector factor, a country factor and
  idiosyncratic noise), the FX rates (random walks from realistic January 2013
  levels with realistic daily volatilities), the portfolios, their trades and
  flows, the people, teams and entitlements. ``numpy.random.default_rng(seed)``
  drives everything, so a given seed always produces identical data.
* **Benchmarks:** the equity funds are benchmarked to the S&P 500, the NASDAQ
  Composite or "Global Equity" (the demo's equities, cap-weighted, whose local
  returns average to the real S&P 500 each day); the multi-asset funds to
  blends of Global Equity and the demo's government bonds (60/40, or 80/20 for
  the growth fund). The USD portfolios' Sharpe and Sortino ratios use the real
  Fama-French RF as their risk-free series.

Modules: ``universe`` (instruments), ``market`` (prices, FX, benchmarks,
factors; pure numpy/pandas), ``portfolios`` (portfolio specs and the trading
simulation; pure), ``people`` (users, teams, entitlements) and ``load`` (the one
service that writes it all: ``demo_load``). The ``load_demo`` management command
is a thin wrapper around ``demo_load``.
"""
