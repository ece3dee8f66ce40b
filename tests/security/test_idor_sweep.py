"""The IDOR sweep: every URL pattern of the portal and every route of the OpenAPI
schema, called by bob with alice's object ids (``tests/security/world.py``).

How a route is covered, automatically:

* The routes come from ``django.urls.get_resolver()`` walked recursively (the
  admin aside: it is staff-only, checked by its own test below). A route of the
  OpenAPI schema that the resolver does not know fails the sweep.
* A route with path parameters is called with alice's ids, filled from
  :func:`path_values` (by parameter name, or ``route name:parameter`` where one
  name means different objects). A parameter with no value fails
  ``test_every_path_parameter_has_a_value`` with the line to add.
* Bob calls it with every method (GET, HEAD, POST, PUT, PATCH, DELETE) with a
  body that would pass validation: pages with his session, ``/api/`` with his
  personal token. Each answer must be 403 or 404; 405 only for a method the
  answer's ``Allow`` header does not list; a redirect (to the login page or
  anywhere) fails.
* A route without path parameters (a list, a form, a create endpoint) is called
  with alice's ids in its query string and body instead (:func:`referencing_body`):
  any answer below 500 but a redirect to the login page is fine, as long as
  nothing of alice's shows or changes (bob may add rows of his own: a dashboard,
  a token; none may refer to alice's objects or name her portfolio).
* After every call: no existing row of any table changed or went (audit events,
  sessions and django-axes' rows excepted, and a token's ``last_used_at``), no new
  row refers to one of alice's objects or carries her marker, and the answer's
  body (less what bob sent) does not contain the marker ("Zephyr") that every
  name of alice's carries.

Public by design (:data:`PUBLIC`): the login and logout pages, the health check,
the API schema and docs (no data; login-gated by ``API_DOCS_PUBLIC``), and the
signed delivery link ``reports/d/<token>/``: a genuine token is the bearer
credential e-mailed to the recipient, so it is not called with alice's genuine
token; bob gets a tampered one, which must be refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from analytics.models import RiskLimit
from portal.models import AccessLevel, ApiToken
from portal.services import entitlement_grant
from tests.api_tokens import token_header
from tests.security.world import MARKER, World, world_build

METHODS = ("get", "head", "post", "put", "patch", "delete")
UNSAFE = ("post", "put", "patch", "delete")

# Routes whose answer to any logged-in user is theirs by design; the reason is the value.
PUBLIC = {
    "login": "the login page: needed before anyone is known",
    "logout": "logs the caller out: acts on the caller's own session only",
    "health": "liveness check: no data",
    "api-schema": "the OpenAPI description: no data (login-gated by API_DOCS_PUBLIC)",
    "api-docs": "the Swagger page of the schema: no data",
}

SCHEMA_CONVERTERS = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # "api/portfolios/<int:portfolio_id>/"
    name: str  # "api-portfolio-detail", namespaced where the include is
    callback: str

    @property
    def parameters(self) -> list[str]:
        return [match["parameter"] for match in SCHEMA_CONVERTERS.finditer(self.route)]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def openapi_path(self) -> str:
        return "/" + SCHEMA_CONVERTERS.sub(lambda m: "{" + m["parameter"] + "}", self.route)

    def __str__(self) -> str:
        return f"/{self.route} ({self.name})"


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            raise AssertionError(
                f"/{prefix}{entry.pattern} is a regular-expression route: the IDOR sweep "
                "fills only path() routes; write it with path() or teach the sweep"
            )
        if isinstance(entry, URLResolver):
            if prefix + str(entry.pattern) == "admin/":
                continue  # staff-only: test_the_admin_refuses_an_ordinary_user
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            yield Route(
                route=prefix + str(entry.pattern),
                name=f"{namespace}{entry.name or ''}",
                callback=f"{callback.__module__}.{getattr(callback, '__name__', '?')}",
            )


def routes_all() -> list[Route]:
    return list(_walk(get_resolver()))


ROUTES = routes_all()


# --- alice's ids, by path parameter ---------------------------------------------


def path_values(world: World) -> dict[str, list[str]]:
    """Values for each path parameter: a name, or ``route name:name`` where one
    name means different things in different routes. Several values mean several
    calls (a template by slug and by id; every alert action)."""
    w = world
    return {
        "portfolio_id": [str(w["portfolio"].pk)],
        "run_id": [str(w["run"].pk)],
        "api-import-detail:run_id": [str(w["import_run"].pk)],
        "api-import-report:run_id": [str(w["import_run"].pk)],
        "name": [w["run_file"].name],
        "alert_id": [str(w["alert"].pk)],
        "action": ["acknowledge", "resolve", "reopen", "waive", "snooze", "assign"],
        "rule_id": [str(w["rule"].pk)],
        "template_id": [str(w["template"].pk)],
        "template": [w["template"].slug, str(w["template"].pk)],
        "schedule_id": [str(w["schedule"].pk)],
        "delivery_id": [str(w["delivery"].pk)],
        "dashboard_id": [str(w["dashboard"].pk)],
        "widget_id": [str(w["widget"].pk)],
        "share_id": [str(w["dashboard_share"].pk)],
        "message_id": [str(w["message"].pk)],
        "section": ["series", "metrics", "risk_values"],
        "file_format": ["csv", "xlsx"],
        "token_key": [w["token"].token_key, w["token"].pk],
        # A tampered copy of alice's genuine link (which is a bearer credential by design).
        "token": [_tampered(w.delivery_token)],
        "occurrence_id": [str(w["occurrence"].pk)],
        "version": [str(w["template_version"].number)],
        "finding_id": [str(w["finding"].pk)],
        "limit_id": [str(w["risk_limit"].pk)],
        "trade_id": [str(w["trade"].pk)],
        "entitlement_id": [str(w["entitlement"].pk)],
    }


def _tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def values_for(route: Route, parameter: str, values: dict[str, list[str]]) -> list[str] | None:
    return values.get(f"{route.name}:{parameter}") or values.get(parameter)


def url_fill(route: Route, filling: dict[str, str]) -> str:
    return "/" + SCHEMA_CONVERTERS.sub(lambda m: filling[m["parameter"]], route.route)


def fillings(route: Route, values: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the route's parameter values (a few per route)."""
    combos: list[dict[str, str]] = [{}]
    for parameter in route.parameters:
        options = values_for(route, parameter, values) or []
        combos = [{**combo, parameter: str(option)} for combo in combos for option in options]
    return combos


def plausible_body(world: World) -> dict[str, Any]:
    """One body that would pass most routes' validation (unknown keys are ignored),
    so that a refusal is the access check's and not the serializer's."""
    w = world
    return {
        "name": "Renamed by bob",
        "description": "bob was here",
        "comment": "bob decides",
        "reason": "bob waives",
        "until": "2030-01-01",
        "assignee": w.bob.username,
        "level": "edit",
        "user": w.bob.username,
        "username": w.bob.username,
        "kind": "holdings",
        "x": 0,
        "y": 0,
        "w": 4,
        "h": 4,
        "items": [{"id": w["widget"].pk, "x": 0, "y": 0, "w": 4, "h": 4}],
        "hidden": [],
        "limit": 0.2,
        "warning_level": 0.1,
        "metric": "var_95",
        "enabled": False,
        "cron": "0 9 * * *",
        "timezone": "UTC",
        "formats": ["csv"],
        "channels": ["inbox"],
        "recipients": {"users": [w.bob.username]},
        "blocks": ["holdings"],
        "parameters": {"period": "mtd"},
        "layout": {"orientation": "portrait"},
        "scope": "read",
        "expires_at": "2030-01-01T00:00:00Z",
    }


def referencing_body(world: World) -> dict[str, Any]:
    """A body naming alice's objects, for routes that take ids in the body."""
    w = world
    portfolio = w["portfolio"]
    return {
        **plausible_body(world),
        "portfolio": portfolio.pk,
        "portfolio_id": portfolio.pk,
        "portfolios": [portfolio.code],
        "template": w["template"].slug,
        "template_id": w["template"].pk,
        "dashboard": w["dashboard"].pk,
        "schedule": w["schedule"].pk,
        "run": w["run"].pk,
        "alert": w["alert"].pk,
        "alerts": [w["alert"].pk],
        "alert_ids": [w["alert"].pk],
        "ids": [w["alert"].pk],
        "rule": w["rule"].pk,
        "message_ids": [w["message"].pk],
        "parameters": {"scope": "portfolios", "portfolios": [portfolio.code], "period": "ytd"},
        "definition": {
            "name": "bob's look",
            "blocks": ["holdings"],
            "parameters": {"scope": "portfolios", "portfolios": [portfolio.code]},
        },
        "instrument": w["instrument"].identifier,
        "side": "buy",
        "quantity": "100",
        "price": "10",
        "rows": [
            {
                "portfolio": portfolio.code,
                "instrument": w["instrument"].identifier,
                "trade_date": "2024-03-28",
                "settle_date": "2024-04-01",
                "side": "sell",
                "quantity": "100",
                "price": "10",
                "currency": "USD",
                "external_id": "BOB-1",
            }
        ],
    }


def referencing_query(world: World) -> dict[str, Any]:
    w = world
    return {
        "portfolio": w["portfolio"].pk,
        "portfolio_id": w["portfolio"].pk,
        "template": w["template"].slug,
        "schedule": w["schedule"].pk,
        "dashboard": w["dashboard"].pk,
        "run": w["run"].pk,
        "user": w.alice.username,
    }


# --- what changed ----------------------------------------------------------------

UNWATCHED = {"portal.AuditEvent", "sessions.Session"}
UNWATCHED_APPS = {"axes"}
UNWATCHED_FIELDS: dict[type[models.Model], set[str]] = {ApiToken: {"last_used_at"}}


def _watched_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.label not in UNWATCHED
        and model._meta.app_label not in UNWATCHED_APPS
        and not model._meta.proxy
    ]


def _columns(model: type[models.Model]) -> list[models.Field]:
    skipped = UNWATCHED_FIELDS.get(model, set())
    return [f for f in model._meta.concrete_fields if f.name not in skipped]


def digest() -> str:
    """A cheap fingerprint of every watched row: one query on PostgreSQL (the md5
    of each table's rows as text), the full :func:`snapshot` elsewhere."""
    if connection.vendor != "postgresql":
        return repr(sorted(snapshot().items(), key=repr))
    quote = connection.ops.quote_name
    parts = []
    for model in _watched_models():
        row = ", ".join(quote(str(f.column)) for f in _columns(model))
        table = quote(model._meta.db_table)  # names from the models, not from input
        parts.append(
            f"(SELECT md5(coalesce(string_agg(row({row})::text, '|' ORDER BY "  # noqa: S608
            f"row({row})::text), '')) FROM {table})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return "".join(cursor.fetchone())


def snapshot() -> dict[tuple[str, Any], tuple]:
    """Every watched row, ``(model label, pk) -> values``."""
    rows: dict[tuple[str, Any], tuple] = {}
    for model in _watched_models():
        columns = [f.attname for f in _columns(model)]
        pk = model._meta.pk.attname
        index = columns.index(pk)
        for values in model._base_manager.values_list(*columns):
            rows[(model._meta.label, values[index])] = values
    return rows


def alices(world: World) -> set[tuple[str, Any]]:
    """Alice's objects, ``(model label, pk)``; the shared instrument and its price
    and bob's own portfolio are not hers."""
    mine = {"bobs_portfolio", "instrument", "price"}
    return {(obj._meta.label, obj.pk) for key, obj in world.objects.items() if key not in mine}


def changes(
    before: dict[tuple[str, Any], tuple], world: World, *, own_rows_allowed: bool
) -> list[str]:
    after = snapshot()
    found = []
    for key, values in before.items():
        if key not in after:
            found.append(f"deleted {key}")
        elif after[key] != values:
            found.append(f"changed {key}: {values} -> {after[key]}")
    hers = alices(world)
    fk_targets = _fk_targets()
    for key in after.keys() - before.keys():
        values = after[key]
        label = key[0]
        refers = [
            target
            for index, target_label in fk_targets.get(label, [])
            if (target := (target_label, values[index])) in hers
        ]
        text = repr(values).lower()
        if refers or MARKER.lower() in text or world["portfolio"].code.lower() in text:
            found.append(f"added {key} referring to alice's {refers or 'marker'}: {values}")
        elif not own_rows_allowed:
            found.append(f"added {key}: {values}")
    return found


def _fk_targets() -> dict[str, list[tuple[int, str]]]:
    targets: dict[str, list[tuple[int, str]]] = {}
    for model in _watched_models():
        targets[model._meta.label] = [
            (index, field.related_model._meta.label)
            for index, field in enumerate(_columns(model))
            if field.is_relation and field.related_model is not None
        ]
    return targets


# --- the world, once per module ---------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once inside a transaction that is rolled back after the module (each
    test's own ``db`` savepoint nests in it)."""
    folder = tmp_path_factory.mktemp("idor")
    storages = {
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder / "reports")},
        },
    }
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(folder / "media")),
        transaction.atomic(),
    ):
        with override_settings(STORAGES={**settings.STORAGES, **storages}):
            yield world_build()
        transaction.set_rollback(True)


@dataclass
class Sweep:
    world: World
    page: Client
    api: Client
    values: dict[str, list[str]]
    calls: int = 0

    def client(self, route: Route) -> Client:
        return self.api if route.is_api else self.page

    def call(
        self, route: Route, method: str, url: str, body: dict[str, Any]
    ) -> tuple[Any, str, list[str]]:
        """Call and return the response, its text and every string bob sent."""
        client = self.client(route)
        self.calls += 1
        if method in ("get", "head"):
            response = getattr(client, method)(url)
        elif route.is_api:
            response = getattr(client, method)(
                url, json.dumps(body), content_type="application/json"
            )
        elif method == "post":
            response = client.post(url, _form(body))
        else:
            response = getattr(client, method)(url, urlencode(_form(body), doseq=True))
        content = (
            b"".join(response.streaming_content)
            if response.streaming
            else getattr(response, "content", b"")
        )
        return response, content.decode("utf-8", "replace"), _sent_strings(url, body)


def _form(body: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, (str, int, float, list)) else json.dumps(value)
        for key, value in body.items()
    }


def _sent_strings(url: str, body: dict[str, Any]) -> list[str]:
    sent = [url, *re.findall(r"[\w.-]+", url), *re.findall(r"[\w.-]+", json.dumps(body))]
    return [s for s in sent if MARKER.lower() in s.lower()]


def leaked(text: str, sent: list[str]) -> bool:
    lowered = text.lower()
    for string in sorted(sent, key=len, reverse=True):
        lowered = lowered.replace(string.lower(), "")
    return MARKER.lower() in lowered


@pytest.fixture
def sweep(world, db, client) -> Sweep:
    client.force_login(world.bob)
    api = Client(HTTP_AUTHORIZATION=token_header(world.bob)["HTTP_AUTHORIZATION"])
    return Sweep(world=world, page=client, api=api, values=path_values(world))


def _allowed_by(response: Any) -> set[str]:
    return {m.strip().lower() for m in response.get("Allow", "").split(",") if m.strip()}


def _verdict_with_ids(response: Any, method: str) -> str | None:
    code = response.status_code
    if code in (403, 404):
        return None
    if code == 405 and "Allow" in response and method not in _allowed_by(response):
        return None
    if 300 <= code < 400:
        return f"redirected to {response.get('Location')}"
    return f"answered {code}"


# --- the tests ----------------------------------------------------------------------


def test_every_path_parameter_has_a_value(world):
    values = path_values(world)
    missing = sorted(
        f"{route}: add a value for {parameter!r} (or '{route.name}:{parameter}') to "
        "path_values() in tests/security/test_idor_sweep.py"
        for route in ROUTES
        if route.name not in PUBLIC
        for parameter in route.parameters
        if not values_for(route, parameter, values)
    )
    assert not missing, "\n".join(missing)


def test_every_api_route_in_the_schema_is_swept():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    known = {route.openapi_path for route in ROUTES}
    unknown = sorted(set(schema["paths"]) - known)
    assert not unknown, f"in the OpenAPI schema but not found by the sweep: {unknown}"


ROUTES_WITH_IDS = [r for r in ROUTES if r.parameters and r.name not in PUBLIC]
ROUTES_WITHOUT_IDS = [r for r in ROUTES if not r.parameters and r.name not in PUBLIC]
TALLY: dict[str, int] = {"routes": 0, "calls": 0}


@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=str)
def test_bob_gets_403_or_404_for_alices_objects(sweep, route):
    body = plausible_body(sweep.world)
    baseline, fingerprint = snapshot(), digest()
    failures = []
    for filling in fillings(route, sweep.values):
        url = url_fill(route, filling)
        for method in METHODS:
            response, text, sent = sweep.call(route, method, url, body)
            verdict = _verdict_with_ids(response, method)
            if verdict:
                failures.append(f"{method.upper()} {url}: {verdict}: {text[:300]}")
            if leaked(text, sent):
                failures.append(f"{method.upper()} {url}: shows alice's data: {text[:300]}")
            if digest() == fingerprint:
                continue
            changed = changes(baseline, sweep.world, own_rows_allowed=False)
            if changed:
                failures.append(f"{method.upper()} {url} changed: {changed}")
            baseline, fingerprint = snapshot(), digest()
    TALLY["routes"] += 1
    TALLY["calls"] += sweep.calls
    assert sweep.calls, f"{route}: no call made"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", ROUTES_WITHOUT_IDS, ids=str)
def test_bob_naming_alices_objects_sees_and_changes_nothing(sweep, route):
    query = "?" + urlencode(referencing_query(sweep.world))
    body = referencing_body(sweep.world)
    url = "/" + route.route
    baseline, fingerprint = snapshot(), digest()
    failures = []
    for method in METHODS:
        target = url + query if method in ("get", "head") else url
        response, text, sent = sweep.call(route, method, target, body)
        location = response.get("Location", "") if 300 <= response.status_code < 400 else ""
        if response.status_code >= 500 or "/login/" in location:
            failures.append(f"{method.upper()} {target}: answered {response.status_code}")
        if leaked(text, sent):
            failures.append(f"{method.upper()} {target}: shows alice's data: {text[:300]}")
        if digest() == fingerprint:
            continue
        changed = changes(baseline, sweep.world, own_rows_allowed=True)
        if changed:
            failures.append(f"{method.upper()} {target} changed: {changed}")
        baseline, fingerprint = snapshot(), digest()
    TALLY["routes"] += 1
    TALLY["calls"] += sweep.calls
    assert not failures, "\n".join(failures)


def test_the_sweep_would_see_a_leak_and_a_change(sweep):
    """The detectors themselves: once bob is entitled to alice's portfolio (and may
    manage it), her pages answer him, show her marker, and his change is seen."""
    world = sweep.world
    entitlement_grant(
        actor=None, portfolio=world["portfolio"], user=world.bob, level=AccessLevel.MANAGE
    )
    route = next(r for r in ROUTES if r.name == "api-portfolio-detail")
    url = url_fill(route, {"portfolio_id": str(world["portfolio"].pk)})
    baseline = snapshot()

    response, text, sent = sweep.call(route, "get", url, {})

    assert _verdict_with_ids(response, "get") == "answered 200"
    assert leaked(text, sent)
    RiskLimit.objects.filter(pk=world["risk_limit"].pk).update(limit=0.5)
    assert changes(baseline, world, own_rows_allowed=True) != []


def test_the_admin_refuses_an_ordinary_user(sweep):
    response = sweep.page.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = sweep.page.get(f"/admin/analytics/portfolio/{sweep.world['portfolio'].pk}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_sweep_covers_every_route():
    """Run last in the module: the figures for the record (``-s`` prints them)."""
    swept = len(ROUTES_WITH_IDS) + len(ROUTES_WITHOUT_IDS)
    print(
        f"\nIDOR sweep: {len(ROUTES)} routes ({len(ROUTES_WITH_IDS)} with object ids, "
        f"{len(ROUTES_WITHOUT_IDS)} without, {len(PUBLIC)} public by design), "
        f"{TALLY['routes']} swept in this run with {TALLY['calls']} calls"
    )
    assert swept + len([r for r in ROUTES if r.name in PUBLIC]) == len(ROUTES)
    assert len(ROUTES_WITH_IDS) >= 60
