"""Shared personas: alice owns a portfolio, bob sees it through his team, carol is
granted a different one personally, and mallory is an outsider with no access."""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections
from django.test import override_settings

from portal.embedded import embedded_prepare, static_files_collect
from portal.models import AccessLevel
from portal.services import entitlement_grant
from tests.factories import PortfolioFactory, TeamFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def embedded_folders():
    """The folders under var/ and the collected static files (pages name their hashed
    copies) that ``make test`` prepares, for a bare ``pytest`` too."""
    embedded_prepare()
    static_files_collect()


@pytest.fixture(scope="session", autouse=True)
def passwords_hashed_fast():
    """Hash the personas' passwords with MD5 in the test process: the portal's
    Argon2 (portal/settings.py) is slow on purpose, and the suite creates thousands
    of users. Whatever tests a hasher choice reads ``portal.settings`` itself."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def api_unthrottled(settings):
    """No API throttling unless a test sets rates: the cache (and so a throttle's
    count) outlives a test, and the personas' ids and 127.0.0.1 recur in every one."""
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture(scope="session", autouse=True)
def audit_log_flushable():
    """Let pytest-django's flush after each ``transaction=True`` test (one TRUNCATE
    of every table on PostgreSQL) empty the audit log, whose TRUNCATE trigger
    refuses everyone (``portal/migrations/0005_audit_unbypassable.py``). The suite
    runs as the table owner and does what a DBA archiving the log would: disable the
    trigger, truncate, enable it ``ALWAYS`` again, inside the flush's transaction."""
    table, trigger = "portal_auditevent", "portal_auditevent_no_truncate"
    operations = {type(c.ops) for c in connections.all() if c.vendor == "postgresql"}
    with pytest.MonkeyPatch.context() as patch:
        for operations_class in operations:

            def sql_flush(self, style, tables, *, original=operations_class.sql_flush, **options):
                statements = original(self, style, tables, **options)
                if table not in tables:
                    return statements
                on = f"ALTER TABLE {self.quote_name(table)}"
                return [
                    f"{on} DISABLE TRIGGER {self.quote_name(trigger)};",
                    *statements,
                    f"{on} ENABLE ALWAYS TRIGGER {self.quote_name(trigger)};",
                ]

            patch.setattr(operations_class, "sql_flush", sql_flush)
        yield


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", role="trader")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", role="risk_manager")


@pytest.fixture
def mallory(db):
    return UserFactory(username="mallory", role="trader")


@pytest.fixture
def desk(db, bob):
    team = TeamFactory(name="Equity desk")
    team.members.add(bob)
    return team


@pytest.fixture
def growth(db, alice, desk):
    """Alice's portfolio, visible to the equity desk (bob)."""
    portfolio = PortfolioFactory(code="GROWTH", name="Global Growth", owner=alice)
    entitlement_grant(actor=None, portfolio=portfolio, team=desk, level=AccessLevel.VIEW)
    return portfolio


@pytest.fixture
def income(db, alice, carol):
    """Another of alice's portfolios, granted personally to carol."""
    portfolio = PortfolioFactory(code="INCOME", name="Global Income", owner=alice)
    entitlement_grant(actor=None, portfolio=portfolio, user=carol, level=AccessLevel.VIEW)
    return portfolio


@pytest.fixture
def hidden(db):
    """A portfolio none of the personas may see."""
    return PortfolioFactory(
        code="HIDDEN", name="Someone else's", owner=UserFactory(username="dave")
    )


# --- Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, one per session

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make system-packages` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between page steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def _no_static_handler(application):
    return application


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, with static files served as in production: by
    WhiteNoise from the collected files (hashed names, compressed, immutable), not by
    Django's finder-based handler, which knows no hashed name."""
    from pytest_django.live_server_helper import LiveServer

    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
