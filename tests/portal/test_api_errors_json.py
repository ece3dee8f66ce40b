"""Every error under /api/ answers JSON: a body over DATA_UPLOAD_MAX_MEMORY_SIZE
is 413 with the limit, and Django's own error pages (404, 500, 400, 403) become
``{"detail": ...}`` with the same status. Pages outside /api/ keep their HTML."""

import json

import pytest
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from rest_framework.response import Response
from rest_framework.test import APIClient

from analytics.models import ImportRun
from portal.api.errors import ApiErrorsJsonMiddleware


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_push_body_over_the_limit_is_413_json_stating_the_limit(alice):
    body = json.dumps({"rows": [{"external_id": "x" * 2000}]})
    response = api_as(alice).post(
        reverse("api-push-trades"), data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": (
            "The request body is larger than the limit of 1,000 bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); send the rows in smaller batches."
        ),
        "limit_bytes": 1000,
    }
    assert ImportRun.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_push_body_within_the_limit_is_read(alice):
    response = api_as(alice).post(
        reverse("api-push-trades"), data=json.dumps({"rows": []}), content_type="application/json"
    )
    assert (response.status_code, list(response.json())) == (400, ["rows"])


def test_an_unknown_api_url_is_404_json(alice):
    client = Client()
    client.force_login(alice)
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_uncaught_error_in_an_api_view_is_500_json(alice, monkeypatch):
    import analytics.api.ingest as ingest_api

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ingest_api.ingest_selectors, "import_runs_visible_to", broken)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get(reverse("api-import-list"))
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "the database went away" not in response.content.decode()


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (HttpResponseBadRequest("<h1>Bad Request (400)</h1>"), "Bad request."),
        (HttpResponseForbidden("<h1>CSRF verification failed</h1>"), "Forbidden."),
        (HttpResponse("<h1>Not Found</h1>", status=404), "Not found."),
        (HttpResponse("<h1>Server Error (500)</h1>", status=500), "Internal server error."),
    ],
)
def test_django_error_pages_under_api_become_json(page, detail):
    middleware = ApiErrorsJsonMiddleware(lambda request: page)
    response = middleware(RequestFactory().get("/api/imports/"))
    assert (response.status_code, response["Content-Type"]) == (
        page.status_code,
        "application/json",
    )
    assert json.loads(response.content) == {"detail": detail}


def test_error_pages_outside_api_stay_html():
    page = HttpResponse("<h1>Not Found</h1>", status=404)
    middleware = ApiErrorsJsonMiddleware(lambda request: page)
    assert middleware(RequestFactory().get("/portfolios/nope/")) is page


def test_drf_responses_and_successes_are_left_alone():
    negotiated = Response({"detail": "x"}, status=400)
    assert (
        ApiErrorsJsonMiddleware(lambda r: negotiated)(RequestFactory().get("/api/")) is negotiated
    )
    ok = HttpResponse("<h1>fine</h1>")
    assert ApiErrorsJsonMiddleware(lambda r: ok)(RequestFactory().get("/api/docs/")) is ok
