"""The dashboard pages: the list shows the user's landing dashboard first, the
Dashboards navigation entry is enabled, and a dashboard one may not open is a 404."""

import pytest
from django.urls import reverse

from dashboards import services
from dashboards.models import Dashboard
from portal.models import Role

pytestmark = pytest.mark.django_db


def test_the_list_leads_with_the_users_own_role_dashboard(client, bob):
    client.force_login(bob)  # a trader
    response = client.get(reverse("dashboards:index"))
    assert response.status_code == 200
    trader = Dashboard.objects.get(is_builtin=True, role=Role.TRADER)
    assert response.context["landing"] == trader
    assert f'href="{reverse("dashboards:detail", args=[trader.pk])}"' in response.content.decode()
    assert '<span class="nav-disabled" title="Not enabled on this portal yet">Dashboards' not in (
        response.content.decode()
    )


def test_a_dashboard_page_embeds_its_widgets_and_is_404_for_an_outsider(client, alice, mallory):
    board = services.dashboard_create(owner=alice, name="Private", widgets=[{"kind": "kpis"}])
    client.force_login(alice)
    page = client.get(reverse("dashboards:detail", args=[board.pk]))
    assert page.status_code == 200
    assert [w["kind"] for w in page.context["config"]["dashboard"]["widgets"]] == ["kpis"]
    client.force_login(mallory)
    assert client.get(reverse("dashboards:detail", args=[board.pk])).status_code == 404
