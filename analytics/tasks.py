"""Thin Celery tasks for the analytics queue; each calls one service."""

from celery import shared_task

from analytics.models import Portfolio
from analytics.services.positions import portfolio_positions_rebuild


@shared_task(
    name="analytics.positions_rebuild",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def positions_rebuild(portfolio_id: int) -> None:
    """Re-derive a portfolio's daily positions from its trades, flows, prices and FX.
    Safe twice: the rebuild replaces the derived rows it owns."""
    portfolio = Portfolio.objects.filter(id=portfolio_id).first()
    if portfolio is None:
        return  # deleted since the task was sent
    portfolio_positions_rebuild(portfolio=portfolio)
