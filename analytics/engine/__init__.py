"""Pure computation over numpy arrays and pandas frames: no Django, no ORM, no I/O.

Time-series analytics: ``returns`` (linking, GIPS annualisation, period and calendar returns),
``ratios``, ``drawdown``, ``relative`` (to a benchmark), ``var`` and its ``backtest``, and
``metrics``, the vectorised table of all of them. Arrays are dates × portfolios (axis 0 is
time) of simple periodic returns as fractions (0.01 = 1 %). Each function states its
conventions: periods per year, ddof, signs, risk-free handling, quantile rule, missing values.
"""
