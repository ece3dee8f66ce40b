"""Connects the analytics data-changed signal to post-trade evaluation. Signals
only connect apps that must not know each other; the work is in services."""

from collections.abc import Iterable
from typing import Any

from compliance.models import EvaluationTrigger
from compliance.services.evaluation.requests import evaluations_queue


def queue_post_trade_evaluation(sender: Any, portfolio_ids: Iterable[int], **kwargs: Any) -> None:
    """Trades, positions or prices of these portfolios changed and committed:
    evaluate their rules on the latest positions (Celery, ``compliance`` queue)."""
    evaluations_queue(portfolio_ids=portfolio_ids, trigger=EvaluationTrigger.POST_TRADE)
