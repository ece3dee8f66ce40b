"""How analytics data is shown, written once for pages, report blocks and widgets.

* ``theme``: the shared Plotly layout and colours.
* ``figures``: Plotly figure builders (performance, risk, attribution, compliance).
* ``tables``: display tables (rows and labels) built from stored snapshots.

Nothing here reads the database or computes a metric: builders take the values a
selector or snapshot already holds and return figures or plain rows.
"""
