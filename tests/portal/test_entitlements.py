"""A user sees exactly their portfolios in the page, the API and the selector;
another user's portfolio id gives 404 everywhere."""

import pytest
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.selectors.entitlements import portfolio_get_for_user, portfolio_list_visible_to
from portal.models import AccessLevel, AuditAction, AuditEvent
from portal.services import entitlement_grant, entitlement_revoke
from tests.api_tokens import token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(growth, income, hidden):
    return {"growth": growth, "income": income, "hidden": hidden}


def codes(queryset):
    return sorted(queryset.values_list("code", flat=True))


def api_for(user):
    client = APIClient()
    client.credentials(**token_header(user))
    return client


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("alice", ["GROWTH", "INCOME"]),  # owner of both
        ("bob", ["GROWTH"]),  # through his team
        ("carol", ["INCOME"]),  # personal entitlement
        ("mallory", []),  # outsider
    ],
)
def test_selector_page_and_api_show_exactly_the_entitled_portfolios(
    request, book, client, persona, expected
):
    user = request.getfixturevalue(persona)

    assert codes(portfolio_list_visible_to(user=user)) == expected

    client.force_login(user)
    page = client.get(reverse("portfolio-list"))
    assert page.status_code == 200
    shown = sorted(row.portfolio.code for row in page.context["rows"])
    assert shown == expected
    for code in {"GROWTH", "INCOME", "HIDDEN"} - set(expected):
        assert f">{code}<" not in page.content.decode()

    response = api_for(user).get(reverse("api-portfolio-list"))
    assert response.status_code == 200
    assert sorted(p["code"] for p in response.json()["results"]) == expected


@pytest.mark.parametrize("persona", ["bob", "carol", "mallory"])
def test_another_users_portfolio_is_404_in_page_api_and_selector(request, book, client, persona):
    user = request.getfixturevalue(persona)
    visible = set(portfolio_list_visible_to(user=user).values_list("id", flat=True))
    api = api_for(user)
    client.force_login(user)
    for portfolio in book.values():
        if portfolio.id in visible:
            continue
        assert client.get(reverse("portfolio-detail", args=[portfolio.id])).status_code == 404
        for name in ("api-portfolio-detail", "api-portfolio-holdings", "api-portfolio-values"):
            assert api.get(reverse(name, args=[portfolio.id])).status_code == 404
        with pytest.raises(Http404):
            portfolio_get_for_user(user=user, portfolio_id=portfolio.id)


def test_missing_and_forbidden_ids_answer_alike(book, bob, client):
    client.force_login(bob)
    forbidden = client.get(reverse("portfolio-detail", args=[book["hidden"].id]))
    missing = client.get(reverse("portfolio-detail", args=[999_999]))
    assert forbidden.status_code == missing.status_code == 404


def test_manage_access_is_narrower_than_view(book, alice, bob, desk):
    assert codes(portfolio_list_visible_to(user=bob, manage=True)) == []
    assert codes(portfolio_list_visible_to(user=alice, manage=True)) == ["GROWTH", "INCOME"]
    entitlement_grant(actor=alice, portfolio=book["growth"], team=desk, level=AccessLevel.MANAGE)
    assert codes(portfolio_list_visible_to(user=bob, manage=True)) == ["GROWTH"]


def test_superuser_sees_everything_and_inactive_users_nothing(book):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert codes(portfolio_list_visible_to(user=root)) == ["GROWTH", "HIDDEN", "INCOME"]
    gone = UserFactory(username="gone", is_active=False)
    entitlement_grant(actor=None, portfolio=book["growth"], user=gone)
    assert codes(portfolio_list_visible_to(user=gone)) == []


def test_revoking_an_entitlement_removes_access_and_is_audited(book, alice, carol):
    entitlement = carol.entitlements.get(portfolio=book["income"])
    entitlement_revoke(actor=alice, entitlement=entitlement)
    assert codes(portfolio_list_visible_to(user=carol)) == []
    event = AuditEvent.objects.filter(action=AuditAction.ENTITLEMENT_REVOKED).get()
    assert event.actor == alice
    assert event.details == {"user": "carol", "team": None, "level": "view"}


def test_anonymous_visitors_are_sent_to_login_and_refused_by_the_api(book, client):
    page = client.get(reverse("portfolio-list"))
    assert page.status_code == 302
    assert reverse("login") in page["Location"]
    assert APIClient().get(reverse("api-portfolio-list")).status_code == 401
