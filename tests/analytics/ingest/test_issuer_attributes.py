"""Issuer group and issuer type arrive through the instrument import like any
other attribute, and a wrong issuer type is named by row and field."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.models import Instrument, IssuerType

pytestmark = pytest.mark.django_db


def test_issuer_group_and_type_are_imported(world, write):
    call_command(
        "import_data",
        "instruments",
        str(
            write(
                "i.csv",
                "identifier,name,currency,issuer,issuer_group,issuer_type",
                "ALPHA,Alpha Bank AG,EUR,Alpha Bank AG,Alpha Holding,corporate",
                "PFB,Alpha Pfandbrief 2030,EUR,Alpha Bank AG,Alpha Holding,Covered_Bond",
                "DBR,Bund 2030,EUR,Federal Republic of Germany,,government",
                "PLAIN,Plain Co,EUR,,,",
            )
        ),
    )
    rows = dict(
        Instrument.objects.filter(identifier__in=["ALPHA", "PFB", "DBR", "PLAIN"]).values_list(
            "identifier", "issuer_group"
        )
    )
    types = dict(Instrument.objects.values_list("identifier", "issuer_type"))
    assert rows == {"ALPHA": "Alpha Holding", "PFB": "Alpha Holding", "DBR": "", "PLAIN": ""}
    assert (types["PFB"], types["DBR"], types["PLAIN"]) == (
        IssuerType.COVERED_BOND,
        IssuerType.GOVERNMENT,
        IssuerType.CORPORATE,
    )


def test_an_unknown_issuer_type_is_named(world, write, capsys):
    with pytest.raises(CommandError):
        call_command(
            "import_data",
            "instruments",
            str(write("i.csv", "identifier,name,currency,issuer_type", "X,X Co,EUR,sovereign")),
        )
    output = capsys.readouterr()
    assert "unknown issuer type 'sovereign'" in output.out + output.err
    assert not Instrument.objects.filter(identifier="X").exists()
