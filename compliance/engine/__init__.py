"""Pure rule evaluation over holdings frames (numpy and pandas only, no Django).

* :mod:`compliance.engine.kinds`: the catalog of rule kinds (direction, parameters) and
  :func:`clean_params`;
* :mod:`compliance.engine.specs`: :class:`RuleSpec`, :class:`RiskInputs` and
  :class:`RuleValues`, the types the two evaluating modules share;
* :mod:`compliance.engine.rules`: :func:`evaluate_rules`, which evaluates many rules over
  many portfolios at once;
* :mod:`compliance.engine.holdings`: applying or reversing trade legs on a holdings
  frame (pre-trade checks and the active/passive classification);
* :mod:`compliance.engine.risk`: VaR of current holdings over instrument return
  history and the rolling VaR backtest, through :mod:`analytics.engine.var` and
  :mod:`analytics.engine.backtest`;
* :mod:`compliance.engine.templates`: regulatory rule sets (UCITS 5/10/40, the
  1940 Act's 75-5-10, SEC Rule 18f-4).
"""
