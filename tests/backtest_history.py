"""A realised return history whose 250-day historical VaR backtest is known by hand.

500 daily returns: a 250-day window, then 250 tested days. Calm days alternate
+0.001 and −0.001; every 25th day (positions 12, 37, 62, ...) is a −0.02 "tick", so
every 250-day window holds 10 ticks. Six losses, each larger than the one before,
fall in the tested period: −0.03, −0.04, ..., −0.08 at ``EXCEPTION_POSITIONS``.

The historical 99 % VaR of 250 returns is minus numpy's linear percentile at rank
(250 − 1) × 0.01 = 2.49: ``−(s₂ + 0.49 (s₃ − s₂))`` with s the sorted window.

* While at most two large losses are in the window, s₂ = s₃ = −0.02: VaR = 0.02. A tick
  (a loss of exactly 0.02) is then not an exception (the loss must be strictly
  greater), and every calm day is far inside.
* Before the 4th loss the window holds −0.03, −0.04, −0.05 → s₂ = −0.03, s₃ = −0.02:
  VaR = 0.03 − 0.49 × 0.01 = 0.0251; before the 5th, 0.04 − 0.0049 = 0.0351; before
  the 6th, 0.05 − 0.0049 = 0.0451. The VaR never rises above the largest loss seen
  so far and never falls below 0.02, so each of the six losses (larger than every
  earlier one) is an exception and no other day is: exactly 6 in 250.
"""

import numpy as np
import pandas as pd

WINDOW = 250
TESTED = 250
EXCEPTION_POSITIONS = (260, 300, 340, 380, 420, 460)
EXCEPTION_LOSSES = (-0.03, -0.04, -0.05, -0.06, -0.07, -0.08)
# The VaR forecast (made the day before) for each exception day, by hand (docstring).
VAR_BEFORE_EXCEPTIONS = (0.02, 0.02, 0.02, 0.0251, 0.0351, 0.0451)


def backtest_returns(exceptions: int = 6) -> np.ndarray:
    """The 500 returns, with the first ``exceptions`` of the six large losses."""
    values = np.where(np.arange(WINDOW + TESTED) % 2 == 0, 0.001, -0.001)
    values[12::25] = -0.02
    for position, loss in list(zip(EXCEPTION_POSITIONS, EXCEPTION_LOSSES, strict=True))[
        :exceptions
    ]:
        values[position] = loss
    return values


def backtest_frame(portfolio: int, start: str = "2021-01-04", exceptions: int = 6) -> pd.DataFrame:
    """The returns as a realised frame (business dates × one portfolio column)."""
    values = backtest_returns(exceptions)
    return pd.DataFrame({portfolio: values}, index=pd.bdate_range(start, periods=len(values)))
