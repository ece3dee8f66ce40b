"""Reads of dashboards, always fetched and authorised in one call.

Who may do what
---------------
* **Open** (view): every built-in dashboard; one's own; one shared with the user
  or with a team they belong to. Anything else is a 404, as is a missing id.
* **Edit** (rename, change the shared widgets): the owner, an ``edit`` share, and
  for built-in dashboards superusers only. Read-only access to an edit is a 403.
* **Share**: the owner and superusers.
* Every user may arrange (layout, own additions, removals) any dashboard they may
  open; that changes only their own view.

What a widget shows is scoped by the **viewer's** entitlements
(``analytics.selectors.entitlements.portfolio_list_visible_to``): a shared
dashboard shows its recipient their own portfolios, never the sharer's.

Caching
-------
Widget data is cached in Django's cache (Redis in production, local memory in the
embedded mode) under a key that hashes the viewer's id, their entitled portfolio
ids, the widget (id, kind, options), the filters and, for every chosen portfolio,
its ``data_version`` and newest finished snapshot id (compliance widgets add their
newest evaluation and alert state; the operations widget a 30-second clock). New
data therefore means a new key, never a stale entry, and no viewer is ever served
another viewer's entry. The same hash is the data's ETag.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from analytics.models import AnalyticsSnapshot, Portfolio, SnapshotStatus
from analytics.selectors.entitlements import portfolio_list_visible_to
from compliance.models import Alert, AlertState, Evaluation, EvaluationStatus
from dashboards.builtins import LANDING_ROLE
from dashboards.models import Dashboard, DashboardLayout, ShareLevel, Widget
from dashboards.widgets import CATALOG
from dashboards.widgets.base import DEFAULT_PERIOD, PERIODS, WidgetRequest
from portal.model_rows import model_columns, model_from_row, model_width
from portal.models import User

CACHE_SECONDS = 60 * 60
OPERATIONS_CLOCK_SECONDS = 30
# Bump when a widget builder or the figure library changes what it draws.
CACHE_PREFIX = "dashboards:widget:v2:"


def _visible_filter(user: User) -> Q:
    return Q(is_builtin=True) | Q(owner=user) | Q(shares__user=user) | Q(shares__team__members=user)


def dashboard_list_for_user(*, user: User) -> QuerySet[Dashboard]:
    """The dashboards ``user`` may open: built-in, own, shared with them or their teams."""
    if not user.is_authenticated or not user.is_active:
        return Dashboard.objects.none()
    ids = Dashboard.objects.filter(_visible_filter(user)).values("id")
    return Dashboard.objects.filter(id__in=ids).select_related("owner")


def dashboard_can_edit(*, user: User, dashboard: Dashboard) -> bool:
    if dashboard.is_builtin:
        return user.is_superuser
    if user.is_superuser or dashboard.owner_id == user.pk:
        return True
    return dashboard.shares.filter(
        Q(user=user) | Q(team__members=user), level=ShareLevel.EDIT
    ).exists()


def dashboard_can_share(*, user: User, dashboard: Dashboard) -> bool:
    return not dashboard.is_builtin and (user.is_superuser or dashboard.owner_id == user.pk)


def dashboard_may_open(*, user: User, dashboard: Dashboard) -> bool:
    """Whether ``user`` may open ``dashboard`` (the rule of
    :func:`dashboard_list_for_user`): built-in and own ones without a query, a
    share to the user or one of their teams with one."""
    if not user.is_authenticated or not user.is_active:
        return False
    if dashboard.is_builtin or dashboard.owner_id == user.pk:
        return True
    return dashboard.shares.filter(Q(user=user) | Q(team__members=user)).exists()


def dashboard_get_for_user(
    *, user: User, dashboard_id: int, edit: bool = False, share: bool = False
) -> Dashboard:
    """Fetch and authorise: 404 for missing and for not visible alike; 403 when the
    user may open it but not edit (``edit``) or share (``share``) it."""
    dashboard = Dashboard.objects.select_related("owner").filter(id=dashboard_id).first()
    if dashboard is None or not dashboard_may_open(user=user, dashboard=dashboard):
        raise Http404("No such dashboard.")
    if edit and not dashboard_can_edit(user=user, dashboard=dashboard):
        raise PermissionDenied("You may view this dashboard but not change it.")
    if share and not dashboard_can_share(user=user, dashboard=dashboard):
        raise PermissionDenied("Only the dashboard's owner may share it.")
    return dashboard


def _dashboard_access_sql() -> str:
    quote = connection.ops.quote_name
    # Identifiers from the model's meta only; the id is a parameter.
    return (
        f"SELECT is_builtin, owner_id FROM {quote(Dashboard._meta.db_table)}"  # noqa: S608
        " WHERE id = %s"
    )


def dashboard_check_open(*, user: User, dashboard_id: int) -> None:
    """404 unless ``user`` may open the dashboard: :func:`dashboard_get_for_user`
    for a caller that needs no row (the data-version poll of every open
    dashboard), reading only the two columns the rule needs, in a query written
    out (the ORM's building of it cost more than running it)."""
    with connections[Dashboard.objects.db].cursor() as cursor:
        cursor.execute(_dashboard_access_sql(), [dashboard_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such dashboard.")
    dashboard = Dashboard(pk=dashboard_id, is_builtin=bool(row[0]), owner_id=row[1])
    dashboard._state.adding = False
    if not dashboard_may_open(user=user, dashboard=dashboard):
        raise Http404("No such dashboard.")


def dashboard_landing_for(*, user: User) -> Dashboard | None:
    """The built-in dashboard of the user's role (administrators: the executive one)."""
    role = LANDING_ROLE.get(user.role, user.role)
    return Dashboard.objects.filter(is_builtin=True, role=role).first()


@dataclass(frozen=True)
class PlacedWidget:
    """A widget as one user sees it: where their layout puts it."""

    widget: Widget
    x: int
    y: int
    w: int
    h: int
    personal: bool

    @property
    def id(self) -> int:
        return self.widget.pk

    @property
    def kind(self) -> str:
        return self.widget.kind


def widget_list_visible(*, user: User, dashboard: Dashboard) -> QuerySet[Widget]:
    """The dashboard's shared widgets and the user's own additions (not others')."""
    return dashboard.widgets.filter(Q(added_by__isnull=True) | Q(added_by=user))


def dashboard_widgets_for_user(*, user: User, dashboard: Dashboard) -> list[PlacedWidget]:
    """The widgets ``user`` sees on ``dashboard`` at the positions of their layout
    (a widget their layout does not place keeps its default), without those they
    removed, in reading order (top to bottom, left to right)."""
    layout = DashboardLayout.objects.filter(dashboard=dashboard, user=user).first()
    placed = {item["widget"]: item for item in (layout.items if layout else [])}
    hidden = set(layout.hidden if layout else [])
    result = []
    for widget in widget_list_visible(user=user, dashboard=dashboard):
        if widget.pk in hidden or widget.kind not in CATALOG:
            continue
        item = placed.get(widget.pk, {})
        result.append(
            PlacedWidget(
                widget=widget,
                x=int(item.get("x", widget.x)),
                y=int(item.get("y", widget.y)),
                w=int(item.get("w", widget.w)),
                h=int(item.get("h", widget.h)),
                personal=widget.added_by_id is not None,
            )
        )
    result.sort(key=lambda p: (p.y, p.x, p.id))
    return result


def widget_get_for_user(*, user: User, dashboard: Dashboard, widget_id: int) -> Widget:
    """One widget of an authorised dashboard that ``user`` sees (404 otherwise)."""
    widget = widget_list_visible(user=user, dashboard=dashboard).filter(id=widget_id).first()
    return _widget_allowed(user, widget)


@functools.cache
def _widget_on_dashboard_sql(using: str) -> str:
    quote = connections[using].ops.quote_name
    columns = model_columns(Widget, "w", using=using)
    # Identifiers from the models' meta only; the ids are parameters.
    return (
        f"SELECT {columns}, d.is_builtin, d.owner_id"  # noqa: S608
        f" FROM {quote(Widget._meta.db_table)} w"
        f" JOIN {quote(Dashboard._meta.db_table)} d ON d.id = w.dashboard_id"
        " WHERE w.id = %s AND w.dashboard_id = %s"
    )


def widget_get_for_user_on(*, user: User, dashboard_id: int, widget_id: int) -> Widget:
    """One widget that ``user`` sees on a dashboard they may open, authorising both
    at once (the widget data path runs it on every request): one query by primary
    key for a built-in or own dashboard, a second for a shared one. 404 for a
    missing or not visible dashboard, and for a widget not on it, another user's
    addition or a kind the user may not use."""
    # One primary-key join written out: the ORM's building of the same query cost
    # more than the rest of a warm request.
    using = Widget.objects.db
    with connections[using].cursor() as cursor:
        cursor.execute(_widget_on_dashboard_sql(using), [widget_id, dashboard_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such dashboard.")
    widget = model_from_row(Widget, row[: model_width(Widget)], using=using)
    # The two columns of the dashboard that the rule reads, not the whole row.
    is_builtin, owner_id = row[model_width(Widget) :]
    dashboard = Dashboard(pk=dashboard_id, is_builtin=bool(is_builtin), owner_id=owner_id)
    dashboard._state.adding = False
    if not dashboard_may_open(user=user, dashboard=dashboard):
        raise Http404("No such dashboard.")
    if widget.added_by_id is not None and widget.added_by_id != user.pk:
        raise Http404("No such widget.")
    return _widget_allowed(user, widget)


def _widget_allowed(user: User, widget: Widget | None) -> Widget:
    if widget is None or widget.kind not in CATALOG:
        raise Http404("No such widget.")
    if not CATALOG[widget.kind].allowed_for(user):
        raise Http404("No such widget.")
    return widget


# ---------------------------------------------------------------------------
# Filters and the portfolios they choose


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters. ``portfolio_ids`` empty means every entitled one."""

    portfolio_ids: tuple[int, ...] = ()
    period: str = DEFAULT_PERIOD
    benchmark: bool = True
    currency: str = ""
    params: dict[str, str] = field(default_factory=dict)


class BadFilter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


WIDGET_PARAMS = ("q", "sector", "sort", "page", "size")


def filters_parse(query: dict[str, str]) -> Filters:
    """Filters from query parameters: ``portfolio`` (comma-separated ids),
    ``period`` (one of ``PERIODS``), ``benchmark`` (``none`` hides it), ``currency``
    (an ISO 4217 code, or empty for base currencies) and the widget parameters."""
    raw = query.get("portfolio") or ""
    try:
        ids = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}))
    except ValueError as error:
        raise BadFilter("portfolio", "Portfolio ids are whole numbers.") from error
    period = query.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        raise BadFilter("period", f"Period must be one of {', '.join(PERIODS)}.")
    currency = (query.get("currency") or "").upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise BadFilter("currency", "Currency is a three-letter ISO 4217 code.")
    return Filters(
        portfolio_ids=ids,
        period=period,
        benchmark=(query.get("benchmark") or "portfolio") != "none",
        currency=currency,
        params={k: str(query[k]) for k in WIDGET_PARAMS if query.get(k)},
    )


@dataclass(frozen=True)
class EntitledPortfolio:
    """An entitled portfolio as the warm path needs it: its id, code and version,
    ``"<data_version>.<newest done snapshot id>"``, which changes when prices or
    trades land (the data version moves on) and when a snapshot finishes."""

    id: int
    code: str
    version: str


def _newest_done_snapshot() -> Subquery:
    return Subquery(
        AnalyticsSnapshot.objects.filter(portfolio=OuterRef("pk"), status=SnapshotStatus.DONE)
        .order_by("-id")
        .values("id")[:1]
    )


# (user id, superuser, active) → the SQL and parameters of the entitled-portfolio
# query. Building that queryset (the entitlement subqueries) and compiling it costs more
# than running it, and the widget data path runs it on every request; its SQL
# depends on nothing but these three, so each process compiles it once per user
# and still runs it every time: an entitlement granted or revoked shows at once.
_ENTITLED_SQL: dict[tuple[int, bool, bool], tuple[str, tuple]] = {}
_ENTITLED_SQL_MAX = 4096


def _entitled_versions_sql(user: User) -> tuple[str, tuple] | None:
    memo = (user.pk, user.is_superuser, user.is_active)
    compiled = _ENTITLED_SQL.get(memo)
    if compiled is None:
        if not user.is_authenticated or not user.is_active:
            return None  # sees nothing; nothing to compile
        query = (
            portfolio_list_visible_to(user=user)
            .annotate(snapshot=_newest_done_snapshot())
            .order_by("code")
            .values_list("pk", "code", "data_version", "snapshot")
            .query
        )
        sql, params = query.sql_with_params()
        compiled = (sql, tuple(params))
        if len(_ENTITLED_SQL) >= _ENTITLED_SQL_MAX:
            _ENTITLED_SQL.clear()
        _ENTITLED_SQL[memo] = compiled
    return compiled


def entitled_portfolio_versions(*, user: User) -> list[EntitledPortfolio]:
    """Every portfolio ``user`` is entitled to (``portfolio_list_visible_to``), by
    code, with its version: one query, run afresh on every request. The versions
    are never cached, because a portfolio's ``data_version`` moves on in a bulk
    update that sends no signal; only the query's compilation is reused."""
    compiled = _entitled_versions_sql(user)
    if compiled is None:
        return []
    sql, params = compiled
    with connections[Portfolio.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        EntitledPortfolio(pk, code, f"{version}.{snapshot or 0}")
        for pk, code, version, snapshot in rows
    ]


def chosen_of(entitled: Sequence[EntitledPortfolio], filters: Filters) -> list[EntitledPortfolio]:
    """The entitled portfolios the filters choose, by code. A chosen id the user may
    not see is a 404, like any other object they may not see."""
    if not filters.portfolio_ids:
        return list(entitled)
    wanted = set(filters.portfolio_ids)
    chosen = [p for p in entitled if p.id in wanted]
    if len(chosen) != len(wanted):
        raise Http404("No such portfolio.")
    return chosen


# ---------------------------------------------------------------------------
# Versions: what the live updates compare


ACTIVE_ALERT_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED)


@functools.lru_cache(maxsize=64)
def _compliance_version_sql(portfolios: int) -> str:
    quote = connection.ops.quote_name
    ids = ", ".join(["%s"] * portfolios)
    states = ", ".join(["%s"] * len(ACTIVE_ALERT_STATES))
    # Identifiers from the models' meta only; ids and states are parameters.
    return (
        f"SELECT (SELECT MAX(e.id) FROM {quote(Evaluation._meta.db_table)} e"  # noqa: S608
        f" WHERE e.portfolio_id IN ({ids}) AND e.status = %s),"
        f" COUNT(a.id), MAX(a.id) FROM {quote(Alert._meta.db_table)} a"
        f" WHERE a.portfolio_id IN ({ids}) AND a.state IN ({states})"
    )


def compliance_version(*, portfolio_ids: Sequence[int]) -> str:
    """Changes when an evaluation of these portfolios finishes or an alert changes
    state: ``<newest done evaluation id>.<active alerts>.<newest active alert id>``
    (0 for none). One query, written out once per number of portfolios: every open
    dashboard's poll runs it."""
    if not portfolio_ids:
        return "0.0.0"
    ids = [int(i) for i in portfolio_ids]
    params: list[int | str] = [
        *ids,
        EvaluationStatus.DONE.value,
        *ids,
        *(state.value for state in ACTIVE_ALERT_STATES),
    ]
    with connections[Alert.objects.db].cursor() as cursor:
        cursor.execute(_compliance_version_sql(len(ids)), params)
        evaluation, alerts, last = cursor.fetchone()
    return f"{evaluation or 0}.{alerts}.{last or 0}"


def operations_version() -> str:
    """The operations widget reads the whole portal: it refreshes on a clock."""
    return str(int(time.time()) // OPERATIONS_CLOCK_SECONDS)


@dataclass(frozen=True)
class Versions:
    portfolios: dict[int, str]
    compliance: str
    operations: str

    @property
    def etag(self) -> str:
        return _digest([sorted(self.portfolios.items()), self.compliance, self.operations])

    def as_json(self) -> dict:
        return {
            "portfolios": {str(k): v for k, v in sorted(self.portfolios.items())},
            "compliance": self.compliance,
            "operations": self.operations,
            "version": self.etag,
        }


def dashboard_versions(*, user: User, filters: Filters) -> Versions:
    """The versions of everything a dashboard with these filters shows to ``user``."""
    chosen = chosen_of(entitled_portfolio_versions(user=user), filters)
    return Versions(
        portfolios={p.id: p.version for p in chosen},
        compliance=compliance_version(portfolio_ids=[p.id for p in chosen]),
        operations=operations_version(),
    )


# ---------------------------------------------------------------------------
# Widget data, cached


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class WidgetData:
    """A widget's cache key and ETag; :meth:`load` reads or builds the payload (a
    conditional request whose ETag matches never calls it)."""

    key: str
    etag: str
    widget: Widget
    user: User
    filters: Filters
    portfolio_ids: tuple[int, ...]

    def widget_request(self) -> WidgetRequest:
        """What the builder receives: the shown portfolios as model rows (with
        their benchmarks), read only when the payload is built."""
        portfolios = list(
            Portfolio.objects.filter(pk__in=self.portfolio_ids)
            .select_related("benchmark")
            .order_by("code")
        )
        return WidgetRequest(
            user=self.user,
            portfolios=portfolios,
            period=self.filters.period,
            benchmark=self.filters.benchmark,
            currency=self.filters.currency,
            options=dict(self.widget.options),
            params=self.filters.params,
        )

    def load(self) -> bytes:
        """The payload as JSON bytes from the cache, built and stored on a miss.
        Bytes, not the dict: a warm hit is then one cache read, with no unpickling
        of a large figure and no second JSON encoding."""
        content = cache.get(self.key)
        if content is None:
            kind = CATALOG[self.widget.kind]
            payload = {
                "widget": self.widget.pk,
                "kind": kind.key,
                "version": self.etag,
                **kind.build(self.widget_request()),
            }
            clean = _finite(json.loads(json.dumps(payload, default=_json_default)))
            content = json.dumps(clean, separators=(",", ":"), allow_nan=False).encode()
            cache.set(self.key, content, CACHE_SECONDS)
        return content


def _finite(value: object) -> object:
    """``value`` with every non-finite float (NaN, ±inf) as None: JSON has none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json_default(value: object) -> object:
    from plotly.utils import PlotlyJSONEncoder

    return PlotlyJSONEncoder().default(value)


def widget_data(*, user: User, widget: Widget, filters: Filters) -> WidgetData:
    """The cache key and ETag of ``widget``'s data for ``user`` under ``filters``
    (an authorised widget, see :func:`widget_get_for_user_on`). One query (the
    entitled portfolios with their versions; compliance widgets add two small
    aggregates); the payload is built only by :meth:`WidgetData.load` on a miss."""
    kind = CATALOG[widget.kind]
    entitled = entitled_portfolio_versions(user=user)
    chosen = chosen_of(entitled, filters)
    if not kind.many:
        chosen = chosen[:1]
    ids = [p.id for p in chosen]
    dependency = {
        "portfolios": sorted((p.id, p.version) for p in chosen),
        "compliance": compliance_version(portfolio_ids=ids) if kind.depends == "compliance" else "",
        "operations": operations_version() if kind.depends == "operations" else "",
    }
    digest = _digest(
        {
            "user": user.pk,
            "entitled": sorted(p.id for p in entitled),
            "widget": [widget.pk, widget.kind, widget.options],
            "filters": [filters.period, filters.benchmark, filters.currency, ids],
            "params": filters.params if widget.kind == "holdings" else {},
            "depends": dependency,
        }
    )
    return WidgetData(
        key=CACHE_PREFIX + digest,
        etag=digest,
        widget=widget,
        user=user,
        filters=filters,
        portfolio_ids=tuple(ids),
    )
