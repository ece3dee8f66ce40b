"""Logging in lands each demo user on the built-in dashboard of their role (the
administrator on the executive one); an explicit ``next=`` still wins, and the
home page of a logged-in user is the same landing."""

import pytest
from django.urls import reverse

from analytics.demo.people import DEMO_PASSWORD, people_ensure
from dashboards.models import Dashboard
from portal.models import Role

pytestmark = pytest.mark.django_db

LANDINGS = [
    ("pm", "Portfolio manager"),
    ("pm2", "Portfolio manager"),
    ("trader", "Trader"),
    ("risk", "Risk"),
    ("compliance", "Compliance"),
    ("exec", "Executive"),
    ("admin", "Executive"),
]


def log_in(client, username, **query):
    url = reverse("login")
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, {"username": username, "password": DEMO_PASSWORD}, follow=True)


@pytest.mark.parametrize(("username", "dashboard_name"), LANDINGS)
def test_each_demo_user_lands_on_their_roles_dashboard(client, username, dashboard_name):
    people_ensure()
    response = log_in(client, username)
    expected = Dashboard.objects.get(is_builtin=True, name=dashboard_name)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dashboards:detail", args=[expected.pk])
    assert response.context["dashboard"] == expected


def test_an_explicit_next_is_still_honoured(client):
    people_ensure()
    response = log_in(client, "trader", next="/reports/")
    assert response.redirect_chain[0][0] == "/reports/"


def test_a_next_to_another_site_is_ignored_for_the_landing(client):
    people_ensure()
    response = log_in(client, "risk", next="https://elsewhere.example.com/")
    risk = Dashboard.objects.get(is_builtin=True, role=Role.RISK_MANAGER)
    assert response.redirect_chain[-1][0] == reverse("dashboards:detail", args=[risk.pk])


def test_home_sends_a_logged_in_user_to_their_landing_and_others_to_the_login(client, bob):
    assert client.get(reverse("home"))["Location"] == reverse("login")
    client.force_login(bob)  # a trader
    landing = client.get(reverse("home"), follow=True)
    trader = Dashboard.objects.get(is_builtin=True, role=Role.TRADER)
    assert landing.redirect_chain[-1][0] == reverse("dashboards:detail", args=[trader.pk])


def test_without_a_built_in_dashboard_for_the_role_the_landing_is_the_list(client, bob):
    Dashboard.objects.filter(is_builtin=True, role=Role.TRADER).delete()
    client.force_login(bob)
    response = client.get(reverse("dashboards:landing"))
    assert response["Location"] == reverse("dashboards:index")
