"""Connects the analytics data-changed signal to post-trade evaluation. Signals
only connect apps that must not know each other; the work is in services."""

from compliance.models import EvaluationTrigger


def queue_post_trade_evaluation(sender, portfolio_ids, **kwargs) -> None:
    """Trades, positions or prices of these portfolios changed and committed:
    evaluate their rules on the latest positions (Celery, ``compliance`` queue)."""
    from compliance.services.evaluation import evaluations_queue

    evaluations_queue(portfolio_ids=portfolio_ids, trigger=EvaluationTrigger.POST_TRADE)
