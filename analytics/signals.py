"""Signals other apps listen to.

``portfolio_data_changed`` is sent (sender ``Portfolio``, keyword
``portfolio_ids``: a list of ids) after the transaction that changed any of those
portfolios' trades, positions, prices, FX or flows has committed, once their
``data_version`` has moved on. Receivers queue work (snapshot recompute,
compliance evaluation); they must not assume they run inside the writer's
transaction.
"""

from django.dispatch import Signal

portfolio_data_changed = Signal()
