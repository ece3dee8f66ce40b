"""HTTP pull sources against a real HTTP server on 127.0.0.1: a 503 is retried,
every attempt is logged, credentials travel encrypted at rest and in the header."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from analytics.models import DataFetch, DataKind, DataSource, FetchOutcome, Price
from analytics.services.sources import (
    data_source_fetch,
    data_source_secret_headers_set,
    data_sources_claim_due,
    fetch_backoff_seconds,
)
from portal.celery import app

PRICES = b"Ticker,Day,Close\nAAA,2024-01-02,10.25\nSAP.DE,2024-01-02,150.5\n"


class Provider:
    """Answers each GET with the next (status, body) of ``script`` (the last one
    repeats) and remembers the headers it was sent."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests.append(dict(self.headers))
                status, body = provider.script[
                    min(len(provider.requests), len(provider.script)) - 1
                ]
                self.send_response(status)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/prices.csv"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider_factory():
    made = []

    def make(*script):
        provider = Provider(script)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def eager(settings):
    """Tasks run in the test's thread; a retry runs at once (no countdown)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False  # a retry is re-applied, not raised
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = True


def make_source(url, **extra):
    fields = {
        "name": "vendor-eod",
        "kind": DataKind.PRICES,
        "url": url,
        "format": "csv",
        "column_mapping": {"Ticker": "instrument", "Day": "date", "Close": "close"},
        "max_attempts": 3,
        "timeout_seconds": 5,
    }
    return DataSource.objects.create(**{**fields, **extra})


def test_503_then_200_ends_loaded_with_two_log_entries(world, provider_factory, eager):
    from analytics.tasks import data_source_fetch as fetch_task

    provider = provider_factory((503, b"busy"), (200, PRICES))
    source = make_source(provider.url)

    fetch_task.delay(source.id)  # eager: the retry runs at once, without the countdown

    fetches = list(DataFetch.objects.filter(data_source=source).order_by("attempt"))
    assert [(f.attempt, f.outcome, f.http_status) for f in fetches] == [
        (1, FetchOutcome.RETRYING, 503),
        (2, FetchOutcome.LOADED, 200),
    ]
    assert "HTTP 503" in fetches[0].error
    assert (fetches[1].rows_total, fetches[1].rows_loaded, fetches[1].rows_rejected) == (2, 2, 0)
    assert fetches[1].import_run.source == "vendor-eod"
    assert Price.objects.filter(source="vendor-eod").count() == 2
    source.refresh_from_db()
    assert source.last_success_at is not None
    assert len(provider.requests) == 2


def test_a_refetch_of_the_same_data_changes_nothing(world, provider_factory):
    provider = provider_factory((200, PRICES))
    source = make_source(provider.url)
    data_source_fetch(source=source)
    again = data_source_fetch(source=source)
    assert again.outcome == FetchOutcome.LOADED
    assert (again.import_run.rows_created, again.import_run.rows_unchanged) == (0, 2)
    assert Price.objects.count() == 2


def test_the_last_attempt_gives_up_and_says_so(world, provider_factory, eager):
    from analytics.tasks import data_source_fetch as fetch_task

    provider = provider_factory((503, b"down"))
    source = make_source(provider.url)
    fetch_task.delay(source.id)
    outcomes = list(
        DataFetch.objects.filter(data_source=source)
        .order_by("attempt")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["retrying", "retrying", "failed"]
    assert "gave up after 3 attempts" in DataFetch.objects.get(attempt=3).error
    assert Price.objects.count() == 0


def test_a_404_is_not_retried(world, provider_factory):
    provider = provider_factory((404, b"no such file"))
    fetch = data_source_fetch(source=make_source(provider.url))
    assert (fetch.outcome, fetch.http_status) == (FetchOutcome.FAILED, 404)
    assert "not retried" in fetch.error


def test_a_bad_file_is_rejected_whole_and_logged(world, provider_factory):
    bad = PRICES + b"AAA,2024-01-03,-4\n"
    provider = provider_factory((200, bad))
    fetch = data_source_fetch(source=make_source(provider.url))
    assert fetch.outcome == FetchOutcome.REJECTED and fetch.rows_rejected == 1
    assert "Nothing imported" in fetch.error
    assert Price.objects.count() == 0


def test_a_timeout_is_transient(world, eager):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        source = make_source(
            f"http://127.0.0.1:{listener.getsockname()[1]}/slow.csv", max_attempts=1
        )
        source.timeout_seconds = 1
        source.save()
        fetch = data_source_fetch(source=source)
    finally:
        listener.close()
    assert fetch.outcome == FetchOutcome.FAILED and "no answer within 1 s" in fetch.error


def test_credentials_are_encrypted_at_rest_and_sent(world, provider_factory):
    provider = provider_factory((200, PRICES))
    source = make_source(provider.url, headers={"Accept": "text/csv"})
    data_source_secret_headers_set(source=source, headers={"Authorization": "Bearer s3cret"})
    source.refresh_from_db()
    assert "s3cret" not in source.secret_headers_encrypted
    data_source_fetch(source=source)
    sent = provider.requests[0]
    assert sent["Authorization"] == "Bearer s3cret" and sent["Accept"] == "text/csv"


def test_beat_claims_a_due_source_once(world, provider_factory):
    source = make_source("http://127.0.0.1:9/never.csv", interval_minutes=15)
    assert data_sources_claim_due() == [source.id]
    assert data_sources_claim_due() == []  # already claimed: next poll in 15 minutes
    source.refresh_from_db()
    assert source.next_poll_at is not None


def test_backoff_grows_and_is_capped():
    delays = [fetch_backoff_seconds(n) for n in range(1, 10)]
    assert 22 <= delays[0] <= 38 and 45 <= delays[1] <= 75
    assert max(delays) <= 15 * 60 * 1.25
