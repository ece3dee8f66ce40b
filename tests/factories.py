"""factory_boy factories for the portal's core models."""

import datetime as dt

import factory

from analytics.models import AssetClass, Instrument, Portfolio
from portal.models import Role, Team, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    role = Role.PORTFOLIO_MANAGER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class InstrumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instrument
        django_get_or_create = ("identifier",)

    identifier = factory.Sequence(lambda n: f"TICK{n}")
    name = factory.LazyAttribute(lambda i: f"{i.identifier} Corp")
    issuer = factory.LazyAttribute(lambda i: f"{i.identifier} Holdings")
    sector = "Information Technology"
    industry = "Software"
    country = "US"
    asset_class = AssetClass.EQUITY
    currency = "USD"
    exchange = "XNYS"


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PF-{n:03d}")
    name = factory.LazyAttribute(lambda p: f"Portfolio {p.code}")
    base_currency = "USD"
    inception_date = dt.date(2015, 1, 2)
    owner = factory.SubFactory(UserFactory)
