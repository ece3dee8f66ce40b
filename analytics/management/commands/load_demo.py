"""``manage.py load_demo``: load (or reload) the demo data set. See
``analytics.demo`` for what it contains and ``analytics.demo.load`` for why
running it twice leaves exactly one copy."""

import time

from django.core.management.base import BaseCommand, CommandError

from analytics.demo.load import DEFAULT_INSTRUMENTS, DEFAULT_SEED, demo_is_loaded, demo_load
from analytics.demo.people import DEMO_PASSWORD, USERS
from analytics.demo.portfolios import PORTFOLIOS
from analytics.services.snapshots import snapshots_refresh_all
from analytics.tasks import data_quality_scan_all


class Command(BaseCommand):
    help = (
        "Load the demo universe, market data, portfolios, users and entitlements "
        "(idempotent: a second run replaces the first)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )
        parser.add_argument(
            "--instruments",
            type=int,
            default=DEFAULT_INSTRUMENTS,
            help=f"size of the universe, at least 60 (default {DEFAULT_INSTRUMENTS})",
        )
        parser.add_argument(
            "--portfolios",
            type=int,
            default=len(PORTFOLIOS),
            help=f"how many of the {len(PORTFOLIOS)} demo portfolios to load",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep only the first N trading days (quick test loads)",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing when every demo portfolio already has positions (used by `make run`)",
        )

    def handle(self, *args, seed, instruments, portfolios, days, if_missing, **options):
        if if_missing and demo_is_loaded():
            chunks = snapshots_refresh_all()
            data_quality_scan_all.delay()  # findings and completeness, by the worker
            self.stdout.write(
                "Demo data already loaded; run load_demo without --if-missing to reload. "
                f"Analytics snapshots brought up to date by the worker ({chunks} chunk(s) queued)."
            )
            return
        started = time.perf_counter()
        try:
            counts = demo_load(
                seed=seed,
                instruments=instruments,
                portfolios=portfolios,
                days=days,
                progress=self.stdout.write,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        for table, count in counts.items():
            self.stdout.write(f"  {table:<30} {count:>10,}")
        usernames = ", ".join(username for username, *_ in USERS)
        self.stdout.write(
            f"\nDemo users: {usernames} — password '{DEMO_PASSWORD}' (admin is a superuser)."
        )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {time.perf_counter() - started:.1f} s.")
        )
        # Data-quality findings, completeness and data-as-of for the portfolio pages.
        data_quality_scan_all.delay()
