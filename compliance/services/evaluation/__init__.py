"""Evaluating compliance rules, one module per step:

* ``requests``: creating evaluations (post-trade, daily fan-out, manual) before
  their tasks are sent, and counting a daily batch's chunks;
* ``histories``: loading the return histories the risk rules need, once per run;
* ``results``: the engine on today's holdings and on the holdings without
  today's trades, breaches classified active or passive (computes only);
* ``store``: storing one evaluation's rule results and feeding the alert episodes;
* ``run``: running claimed evaluations as load → compute → store;
* ``pretrade``: the read-only pre-trade check.

An :class:`~compliance.models.Evaluation` row with its natural key (portfolio,
as-of date, data version, rules fingerprint) is created before any task is sent;
a task claims it with a conditional update, so a duplicated or retried task finds
it running or done and does nothing.
"""
