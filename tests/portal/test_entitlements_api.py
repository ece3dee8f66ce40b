"""Entitlements over the API, for administrators only: the admin lists, grants,
changes and revokes, each audited with its portfolio; a portfolio manager, even a
portfolio's owner, gets 403 and changes nothing; a read token may not grant."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import AccessLevel, ApiTokenScope, AuditAction, AuditEvent, Entitlement, Role
from tests.api_tokens import token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", role=Role.ADMIN)


def _post(client, user, body, **extra):
    return client.post(
        reverse("api-entitlement-list"),
        body,
        content_type="application/json",
        **(extra or token_header(user)),
    )


def test_the_admin_lists_them_filtered_by_portfolio(client, admin, growth, income):
    url = reverse("api-entitlement-list") + f"?portfolio_id={income.pk}"
    body = client.get(url, **token_header(admin)).json()
    assert [(row["portfolio_code"], row["user"], row["team"]) for row in body["results"]] == [
        ("INCOME", "carol", None)
    ]
    by_team = client.get(
        reverse("api-entitlement-list") + "?team=Equity desk", **token_header(admin)
    ).json()
    assert [row["portfolio_code"] for row in by_team["results"]] == ["GROWTH"]


def test_a_grant_then_a_change_of_level_is_one_row_audited_twice(client, admin, growth, mallory):
    body = {"portfolio_id": growth.pk, "user": "mallory", "level": "view"}
    first = _post(client, admin, body)
    second = _post(client, admin, {**body, "level": "manage"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Entitlement.objects.get(portfolio=growth, user=mallory).level == AccessLevel.MANAGE
    actions = list(
        AuditEvent.objects.filter(portfolio_id=growth.pk, actor=admin)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.ENTITLEMENT_GRANTED, AuditAction.ENTITLEMENT_CHANGED]


def test_the_admin_revokes_one(client, admin, income, carol):
    entitlement = Entitlement.objects.get(portfolio=income, user=carol)
    url = reverse("api-entitlement-detail", args=[entitlement.pk])
    assert client.delete(url, **token_header(admin)).status_code == 204
    assert not Entitlement.objects.filter(pk=entitlement.pk).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.ENTITLEMENT_REVOKED, portfolio_id=income.pk, actor=admin
    ).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"portfolio_id": 999999, "user": "mallory"}, "portfolio_id"),
        ({"user": "mallory"}, "portfolio_id"),
        ({"portfolio_id": "GROWTH", "user": "nobody"}, "user"),
        ("both", "user"),
        ({"portfolio_id": "GROWTH", "team": "No such desk"}, "team"),
        ({"portfolio_id": "GROWTH", "user": "mallory", "level": "own"}, "level"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, admin, growth, mallory, body, field):
    if body == "both":
        body = {"portfolio_id": growth.pk, "user": "mallory", "team": "Equity desk"}
    elif body.get("portfolio_id") == "GROWTH":
        body = {**body, "portfolio_id": growth.pk}
    before = Entitlement.objects.count()
    response = _post(client, admin, body)
    assert response.status_code == 400
    assert field in response.json()
    assert Entitlement.objects.count() == before


def test_anyone_but_an_admin_is_refused_and_nothing_changes(client, alice, growth, mallory):
    entitlement = Entitlement.objects.get(portfolio=growth)
    detail = reverse("api-entitlement-detail", args=[entitlement.pk])
    assert client.get(reverse("api-entitlement-list"), **token_header(alice)).status_code == 403
    body = {"portfolio_id": growth.pk, "user": "mallory"}
    assert _post(client, alice, body).status_code == 403
    assert client.delete(detail, **token_header(alice)).status_code == 403
    assert list(Entitlement.objects.values_list("pk", flat=True)) == [entitlement.pk]


def test_a_read_token_of_an_admin_may_list_but_not_grant(client, admin, growth, mallory):
    read = token_header(admin, scope=ApiTokenScope.READ)
    assert client.get(reverse("api-entitlement-list"), **read).status_code == 200
    body = {"portfolio_id": growth.pk, "user": "mallory"}
    assert _post(client, admin, body, **read).status_code == 403
    assert not Entitlement.objects.filter(user=mallory).exists()
