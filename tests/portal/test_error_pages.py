"""Dead ends keep the portal's look and a way on: the 404 of a missing page, the 403
of a refused action and of a refused (CSRF) form post, the 500 of a failure, even
with the database down; and a form sent back with errors says so at its top as
well as at each field. Under /api/ the same errors stay JSON."""

import re

import pytest
from django.db import OperationalError, connection
from django.test import Client

from portal.views import server_error
from tests.factories import PASSWORD

MAIN_NAVIGATION = 'aria-label="Main"'


@pytest.fixture
def alice_client(client, alice, growth):
    client.login(username="alice", password=PASSWORD)
    return client


def back_link(html: str) -> str:
    """The href of the page's "Back" link."""
    link = re.search(r'<a [^>]*id="error-back"[^>]*>', html)
    assert link is not None
    href = re.search(r'href="([^"]*)"', link.group())
    assert href is not None
    return href.group(1)


def assert_has_navigation(html: str) -> None:
    assert MAIN_NAVIGATION in html
    assert 'href="/portfolios/"' in html
    assert 'href="/compliance/"' in html


def test_a_missing_page_is_a_styled_404_with_the_navigation(alice_client):
    response = alice_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    html = response.content.decode()
    assert "We could not find that page" in html
    assert "<code>/no-such-page/</code>" in html
    assert 'href="/static/css/portal.' in html  # the portal's stylesheet
    assert_has_navigation(html)
    assert back_link(html) == "/"  # no referring page: back goes home
    assert "Your portfolios" in html


def test_a_portfolio_one_may_not_see_is_the_same_404(alice_client, hidden):
    response = alice_client.get(f"/portfolios/{hidden.pk}/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_the_way_back_is_the_referring_page_when_it_is_ours(alice_client, growth):
    ours = alice_client.get(
        "/no-such-page/", headers={"referer": f"http://testserver/portfolios/{growth.pk}/"}
    )
    theirs = alice_client.get("/no-such-page/", headers={"referer": "https://evil.example/x"})

    assert back_link(ours.content.decode()) == f"http://testserver/portfolios/{growth.pk}/"
    assert back_link(theirs.content.decode()) == "/"


def test_a_visitor_who_is_not_logged_in_is_offered_the_login(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert 'href="/login/?next=/no-such-page/"' in html
    assert MAIN_NAVIGATION not in html  # the areas are for users who may open them


def test_a_refused_action_is_a_styled_403_that_says_why(client, bob, growth):
    client.login(username="bob", password=PASSWORD)

    response = client.post("/compliance/rules/", {"rule-name": "Max 5%"})

    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    html = response.content.decode()
    assert "You are not allowed to do that" in html
    assert "Only administrators and compliance officers configure rules." in html
    assert "Nothing was changed." in html
    assert_has_navigation(html)


def test_a_form_post_without_its_csrf_token_is_a_styled_403(alice, growth):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="alice", password=PASSWORD)

    response = browser.post(
        "/compliance/pre-trade/",
        {"portfolio": growth.pk, "instrument": "AAA", "side": "buy", "quantity": "10"},
        headers={"referer": "http://testserver/compliance/pre-trade/"},
    )

    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    html = response.content.decode()
    assert "That form had expired" in html
    assert "reload the page, and send the form again" in html
    assert "Forbidden" not in html.split("<main", 1)[1][:200]
    assert_has_navigation(html)
    # The refused form's own page is where the user goes back to, to reload it.
    assert back_link(html) == "http://testserver/compliance/pre-trade/"


def test_a_failure_is_a_styled_500_even_with_the_database_down(alice_client, monkeypatch):
    alice_client.raise_request_exception = False

    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    # The session, the user and the page's own reads all need the database: the
    # page fails, and the 500 page must not need it.
    with monkeypatch.context() as patch:
        patch.setattr(connection, "ensure_connection", database_down)
        response = alice_client.get("/portfolios/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert_has_navigation(html)
    assert "<style>" in html  # styled without the static files
    assert 'id="error-retry"' in html


def test_the_500_page_reads_nothing_from_the_database(db, rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/portfolios/"))

    assert response.status_code == 500
    assert_has_navigation(response.content.decode())


def test_errors_under_the_api_stay_json(alice_client):
    response = alice_client.get("/api/no-such-endpoint/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


def test_a_form_sent_back_lists_its_errors_at_the_top_and_at_each_field(alice_client, growth):
    response = alice_client.post(
        "/compliance/pre-trade/",
        {"portfolio": growth.pk, "instrument": "NO-SUCH", "side": "buy", "quantity": "0"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'id="pretrade-form-errors"' in html and "autofocus" in summary
    assert "please correct these 2 problems" in summary
    assert '<a href="#id_instrument">Instrument: No instrument &#x27;NO-SUCH&#x27;.</a>' in summary
    assert '<a href="#id_quantity">Quantity: Enter a quantity greater than 0.</a>' in summary
    # …and at the field itself, which is marked invalid and described by its error.
    assert 'id="id_quantity_error"' in html
    assert 'aria-invalid="true"' in html
    assert html.index('class="error-summary"') < html.index('name="portfolio"')
