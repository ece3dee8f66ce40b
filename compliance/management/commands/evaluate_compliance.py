"""Evaluate compliance rules for operators: inline by default, or queued to the
``compliance`` Celery queue with ``--queue``; ``--daily`` starts the daily fan-out."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from analytics.models import Portfolio
from compliance.models import EvaluationTrigger
from compliance.services.evaluation.requests import evaluation_batch_start, evaluations_queue
from compliance.services.evaluation.run import evaluate_now


class Command(BaseCommand):
    help = "Evaluate compliance rules for portfolios (all active ones by default)."

    def add_arguments(self, parser):
        parser.add_argument("--portfolio", action="append", default=[], help="Portfolio code")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--queue", action="store_true", help="Send to Celery")
        parser.add_argument("--daily", action="store_true", help="Start the daily fan-out")

    def handle(self, *args, portfolio, as_of, queue, daily, **options):
        if daily:
            batch = evaluation_batch_start(as_of=as_of or dt.date.today())  # noqa: DTZ011
            if batch is None:
                self.stdout.write("The daily batch for that date exists already.")
            else:
                self.stdout.write(
                    f"Queued {batch.portfolios_total} evaluations in {batch.chunks_total} chunks."
                )
            return
        portfolios = Portfolio.objects.filter(is_active=True).order_by("code")
        if portfolio:
            portfolios = portfolios.filter(code__in=portfolio)
            missing = set(portfolio) - set(portfolios.values_list("code", flat=True))
            if missing:
                raise CommandError(f"No active portfolio {sorted(missing)}")
        if queue:
            ids = evaluations_queue(
                portfolio_ids=portfolios.values_list("id", flat=True),
                trigger=EvaluationTrigger.MANUAL,
                as_of=as_of,
            )
            self.stdout.write(f"Queued {len(ids)} evaluations.")
            return
        for item in portfolios:
            evaluation = evaluate_now(portfolio=item, as_of=as_of)
            if evaluation is None:
                self.stdout.write(f"{item.code}: no positions")
                continue
            counts = {}
            for status in evaluation.results.values_list("status", flat=True):
                counts[status] = counts.get(status, 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no rules"
            self.stdout.write(f"{item.code} {evaluation.as_of}: {evaluation.status} ({summary})")
            if evaluation.error:
                self.stderr.write(evaluation.error)
