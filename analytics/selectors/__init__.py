"""Reads of analytics data, one module per concern.

* ``entitlements``: which portfolios a user may see or change; every other read
  starts from a portfolio one of these selectors returned.
* ``portfolios``: holdings, values, snapshots and limit use of one authorised portfolio.
* ``ingest``: import runs and data-quality findings, scoped the same way.
"""
