"""What the admin exports goes through ``portal.exports.cell_neutralise``: a
trade whose external id is a spreadsheet formula leaves as text, with the
apostrophe in front, in CSV and as a text cell (never a formula cell) in XLSX;
headers are neutralised too, and every resource of the admin shares the base."""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse
from import_export.fields import Field
from import_export.formats import base_formats

from analytics.models import Trade
from analytics.resources import TradeResource
from portal.exports import cell_neutralise
from portal.resources import NeutralisedExportResource
from tests.analytics.factories import TradeFactory
from tests.factories import UserFactory

FORMULA = '=HYPERLINK("http://evil.example","ok")'


@pytest.fixture
def evil_trade(growth):
    return TradeFactory(portfolio=growth, external_id=FORMULA)


def admin_export(client, file_format) -> bytes:
    """The bytes of the admin's export of every trade in ``file_format``, through
    the admin's own form as a superuser would send it."""
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    formats = admin.site.get_model_admin(Trade).get_export_formats()
    fields = {f"traderesource_{name}": "on" for name in TradeResource().fields}
    response = client.post(
        reverse("admin:analytics_trade_export"),
        {"format": str(formats.index(file_format)), "resource": "0", **fields},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content


def test_the_neutralised_cell_is_the_formula_behind_an_apostrophe():
    assert cell_neutralise(FORMULA) == "'" + FORMULA


def test_a_csv_export_writes_the_formula_as_text(evil_trade, client):
    rows = list(csv.DictReader(io.StringIO(admin_export(client, base_formats.CSV).decode())))
    assert [row["external_id"] for row in rows] == ["'" + FORMULA]


def test_an_xlsx_export_has_no_formula_cell(evil_trade, client):
    content = admin_export(client, base_formats.XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("external_id") + 1)
    assert (cell.value, cell.data_type) == ("'" + FORMULA, "s")
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_export_headers_are_neutralised_too(evil_trade):
    class HeaderResource(NeutralisedExportResource):
        external = Field(attribute="external_id", column_name="=SUM(A1:A9)")

        class Meta:
            model = Trade
            fields = ("external",)

    dataset = HeaderResource().export()
    assert dataset.headers == ["'=SUM(A1:A9)"]
    assert dataset[0] == ("'" + FORMULA,)


def test_every_admin_resource_neutralises_its_export():
    resource_classes = [
        resource
        for model_admin in admin.site._registry.values()
        for resource in getattr(model_admin, "resource_classes", [])
    ]
    assert resource_classes
    assert all(issubclass(resource, NeutralisedExportResource) for resource in resource_classes)
