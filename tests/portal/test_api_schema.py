"""The OpenAPI schema is complete and valid, and the docs page is served locally."""

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_builds_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/portfolios/", "/api/portfolios/{portfolio_id}/holdings/", "/api/token/"):
        assert path in schema


def test_token_login_then_portfolio_list(client, alice, growth):
    from tests.factories import PASSWORD

    token = client.post(reverse("api-token"), {"username": "alice", "password": PASSWORD}).json()
    response = client.get(
        reverse("api-portfolio-list"), HTTP_AUTHORIZATION=f"Token {token['token']}"
    )
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["GROWTH"]


def test_bad_query_parameters_get_field_errors(client, alice, growth):
    client.force_login(alice)
    bad_date = client.get(
        reverse("api-portfolio-holdings", args=[growth.id]), {"as_of": "31/12/2024"}
    )
    assert bad_date.status_code == 400
    assert "as_of" in bad_date.json()
    reversed_range = client.get(
        reverse("api-portfolio-values", args=[growth.id]),
        {"start": "2024-02-01", "end": "2024-01-01"},
    )
    assert reversed_range.status_code == 400
    assert "end" in reversed_range.json()


def test_docs_page_and_health_check(client, alice):
    client.force_login(alice)
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()  # assets are served locally
    assert client.get(reverse("health")).json() == {"status": "ok"}
