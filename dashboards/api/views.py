"""REST views of dashboards (token or session authentication).

Every view authorises through ``dashboards.selectors`` (404 for a dashboard,
widget or portfolio the user may not see; 403 for a change their access does not
allow) and changes state only through ``dashboards.services``. Widget data and
the data versions carry an ETag and answer ``304 Not Modified`` to a matching
``If-None-Match`` without building anything.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import selectors, services
from dashboards.api import serializers as s
from dashboards.models import Dashboard, DashboardShare
from dashboards.widgets import CATALOG, kinds_for
from portal.authenticated import AuthenticatedRequest
from portal.models import Team
from portal.origins import RequestOrigin
from portal.services import api_read_record

FILTER_PARAMETERS = [
    OpenApiParameter(
        "portfolio", str, description="Comma-separated portfolio ids (default: all entitled)."
    ),
    OpenApiParameter("period", str, description="1M, 3M, 6M, YTD, 1Y (default) or SI."),
    OpenApiParameter("benchmark", str, description="'none' hides the benchmark."),
    OpenApiParameter("currency", str, description="ISO 4217 code for amounts (default: base)."),
]
HOLDINGS_PARAMETERS = [
    OpenApiParameter("q", str, description="Holdings table: search."),
    OpenApiParameter("sector", str, description="Holdings table: only this sector."),
    OpenApiParameter("sort", str, description="Holdings table: column key, '-' for descending."),
    OpenApiParameter("page", int, description="Holdings table: page from 1."),
    OpenApiParameter("size", int, description="Holdings table: rows per page (≤ 100)."),
]


def _invalid(error: services.DashboardError | selectors.BadFilter) -> ValidationError:
    field = str(getattr(error, "field", None) or getattr(error, "name", None) or "detail")
    return ValidationError({field: [str(error)]})


def _filters(request: AuthenticatedRequest) -> selectors.Filters:
    try:
        return selectors.filters_parse(request.query_params.dict())
    except selectors.BadFilter as error:
        raise _invalid(error) from error


def _etag_matches(request: AuthenticatedRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return etag in tags or "*" in tags


def _conditional(request: AuthenticatedRequest, etag: str) -> HttpResponse | None:
    if _etag_matches(request, etag):
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
        _cache_headers(response, etag)
        return response
    return None


def _cache_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = f'"{etag}"'
    # Per user and always revalidated: the ETag makes the revalidation cheap.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie, Authorization"
    return response


def dashboard_json(dashboard: Dashboard, *, user, widgets: bool = False) -> dict:
    data = {
        "id": dashboard.pk,
        "name": dashboard.name,
        "description": dashboard.description,
        "is_builtin": dashboard.is_builtin,
        "role": dashboard.role,
        "owner": dashboard.owner.get_username() if dashboard.owner else None,
        "can_edit": selectors.dashboard_can_edit(user=user, dashboard=dashboard),
        "can_share": selectors.dashboard_can_share(user=user, dashboard=dashboard),
        "created_at": dashboard.created_at,
        "updated_at": dashboard.updated_at,
    }
    if widgets:
        data["widgets"] = [
            {
                "id": placed.id,
                "kind": placed.kind,
                "label": CATALOG[placed.kind].label,
                "title": placed.widget.title,
                "x": placed.x,
                "y": placed.y,
                "w": placed.w,
                "h": placed.h,
                "personal": placed.personal,
                "tile": CATALOG[placed.kind].tile,
                "many": CATALOG[placed.kind].many,
                "depends": CATALOG[placed.kind].depends,
                "data_url": reverse("dashboard-api-widget-data", args=[dashboard.pk, placed.id]),
            }
            for placed in selectors.dashboard_widgets_for_user(user=user, dashboard=dashboard)
            if CATALOG[placed.kind].allowed_for(user)
        ]
        return s.DashboardDetailOutput(data).data
    return s.DashboardOutput(data).data


class DashboardListView(APIView):
    @extend_schema(responses=s.DashboardOutput(many=True), summary="Dashboards the user may open")
    def get(self, request: AuthenticatedRequest) -> Response:
        dashboards = selectors.dashboard_list_for_user(user=request.user).order_by(
            "-is_builtin", "name", "id"
        )
        return Response([dashboard_json(d, user=request.user) for d in dashboards])

    @extend_schema(request=s.DashboardInput, responses={201: s.DashboardDetailOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = s.DashboardInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            dashboard = services.dashboard_create(
                owner=request.user,
                name=payload.validated_data["name"],
                description=payload.validated_data.get("description", ""),
                widgets=payload.validated_data.get("widgets", []),
                origin=RequestOrigin.of(request),
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(
            dashboard_json(dashboard, user=request.user, widgets=True),
            status=status.HTTP_201_CREATED,
        )


class DashboardDetailView(APIView):
    @extend_schema(responses=s.DashboardDetailOutput, summary="A dashboard with its widgets")
    def get(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(user=request.user, dashboard_id=dashboard_id)
        return Response(dashboard_json(dashboard, user=request.user, widgets=True))

    @extend_schema(request=s.DashboardUpdateInput, responses=s.DashboardDetailOutput)
    def patch(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(
            user=request.user, dashboard_id=dashboard_id, edit=True
        )
        payload = s.DashboardUpdateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.dashboard_update(
                dashboard=dashboard,
                actor=request.user,
                origin=RequestOrigin.of(request),
                **payload.validated_data,
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(dashboard_json(dashboard, user=request.user, widgets=True))

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(
            user=request.user, dashboard_id=dashboard_id, share=True
        )
        try:
            services.dashboard_delete(
                dashboard=dashboard, actor=request.user, origin=RequestOrigin.of(request)
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class DashboardCloneView(APIView):
    @extend_schema(
        request=s.CloneInput,
        responses={201: s.DashboardDetailOutput},
        summary="Copy a dashboard, as the user sees it, into one of their own",
    )
    def post(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(user=request.user, dashboard_id=dashboard_id)
        payload = s.CloneInput(data=request.data)
        payload.is_valid(raise_exception=True)
        clone = services.dashboard_clone(
            dashboard=dashboard,
            user=request.user,
            name=payload.validated_data.get("name", ""),
            origin=RequestOrigin.of(request),
        )
        return Response(
            dashboard_json(clone, user=request.user, widgets=True), status=status.HTTP_201_CREATED
        )


class ShareListView(APIView):
    @extend_schema(responses=s.ShareOutput(many=True), summary="A dashboard's shares")
    def get(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(
            user=request.user, dashboard_id=dashboard_id, share=True
        )
        shares = dashboard.shares.select_related("user", "team").order_by("id")
        return Response(s.ShareOutput(shares, many=True).data)

    @extend_schema(request=s.ShareInput, responses={201: s.ShareOutput})
    def post(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(
            user=request.user, dashboard_id=dashboard_id, share=True
        )
        payload = s.ShareInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        user = team = None
        if data.get("user"):
            user = get_user_model().objects.filter(username=data["user"], is_active=True).first()
            if user is None:
                raise ValidationError({"user": ["No such user."]})
        if data.get("team"):
            team = Team.objects.filter(name=data["team"]).first()
            if team is None:
                raise ValidationError({"team": ["No such team."]})
        try:
            share = services.dashboard_share(
                dashboard=dashboard,
                actor=request.user,
                level=data["level"],
                user=user,
                team=team,
                origin=RequestOrigin.of(request),
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(s.ShareOutput(share).data, status=status.HTTP_201_CREATED)


def _share(request: AuthenticatedRequest, dashboard_id: int, share_id: int) -> DashboardShare:
    dashboard = selectors.dashboard_get_for_user(
        user=request.user, dashboard_id=dashboard_id, share=True
    )
    share = dashboard.shares.select_related("user", "team", "dashboard").filter(id=share_id).first()
    if share is None:
        raise Http404("No such share.")
    return share


class ShareDetailView(APIView):
    @extend_schema(request=s.ShareUpdateInput, responses=s.ShareOutput)
    def patch(self, request: AuthenticatedRequest, dashboard_id: int, share_id: int) -> Response:
        share = _share(request, dashboard_id, share_id)
        payload = s.ShareUpdateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        share = services.dashboard_share(
            dashboard=share.dashboard,
            actor=request.user,
            level=payload.validated_data["level"],
            user=share.user,
            team=share.team,
            origin=RequestOrigin.of(request),
        )
        return Response(s.ShareOutput(share).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, dashboard_id: int, share_id: int) -> Response:
        share = _share(request, dashboard_id, share_id)
        services.dashboard_share_revoke(
            share=share, actor=request.user, origin=RequestOrigin.of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WidgetListView(APIView):
    @extend_schema(
        request=s.WidgetInput,
        responses={201: s.DashboardDetailOutput},
        summary="Add a widget (the user's own addition on a dashboard they may only view)",
    )
    def post(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(user=request.user, dashboard_id=dashboard_id)
        payload = s.WidgetInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            services.widget_add(
                dashboard=dashboard,
                user=request.user,
                kind=data["kind"],
                x=data.get("x", 0),
                y=data.get("y", 0),
                w=data.get("w"),
                h=data.get("h"),
                options=data.get("options"),
                origin=RequestOrigin.of(request),
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(
            dashboard_json(dashboard, user=request.user, widgets=True),
            status=status.HTTP_201_CREATED,
        )


class WidgetDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Remove a widget from the user's view")
    def delete(self, request: AuthenticatedRequest, dashboard_id: int, widget_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(user=request.user, dashboard_id=dashboard_id)
        widget = selectors.widget_get_for_user(
            user=request.user, dashboard=dashboard, widget_id=widget_id
        )
        services.widget_remove(
            dashboard=dashboard, user=request.user, widget=widget, origin=RequestOrigin.of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LayoutView(APIView):
    @extend_schema(
        request=s.LayoutInput,
        responses=s.DashboardDetailOutput,
        summary="Save the user's own positions and sizes of the widgets",
    )
    def put(self, request: AuthenticatedRequest, dashboard_id: int) -> Response:
        dashboard = selectors.dashboard_get_for_user(user=request.user, dashboard_id=dashboard_id)
        payload = s.LayoutInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.layout_save(
                dashboard=dashboard, user=request.user, items=payload.validated_data["items"]
            )
        except services.DashboardError as error:
            raise _invalid(error) from error
        return Response(dashboard_json(dashboard, user=request.user, widgets=True))


class WidgetDataView(APIView):
    @extend_schema(
        parameters=FILTER_PARAMETERS + HOLDINGS_PARAMETERS,
        responses={200: s.WidgetDataOutput, 304: OpenApiResponse(description="Not modified")},
        summary="A widget's data (figure, tiles or table) for the filters, with an ETag",
    )
    def get(self, request: AuthenticatedRequest, dashboard_id: int, widget_id: int) -> HttpResponse:
        # The warm path, run for every widget of every open dashboard: the filters
        # are parsed first (a bad one costs no query), then one query authorises the
        # dashboard and the widget together and one reads the entitled portfolios'
        # versions; a matching ETag answers 304 before the cache is read.
        filters = _filters(request)
        widget = selectors.widget_get_for_user_on(
            user=request.user, dashboard_id=dashboard_id, widget_id=widget_id
        )
        data = selectors.widget_data(user=request.user, widget=widget, filters=filters)
        not_modified = _conditional(request, data.etag)
        if not_modified:
            return not_modified
        if request.auth is not None:
            # Another system pulling a widget's data with an API token is an API
            # data pull; the dashboard page's own polling (its session) is the page.
            api_read_record(
                actor=request.user,
                portfolio=None,
                data=f"dashboards.widget.{widget.kind}",
                origin=RequestOrigin.of(request),
                details={"dashboard": dashboard_id, **request.query_params.dict()},
                target=widget,
            )
        # The cached bytes are the response body as they are (no second encoding).
        return _cache_headers(HttpResponse(data.load(), content_type="application/json"), data.etag)


class VersionsView(APIView):
    @extend_schema(
        parameters=FILTER_PARAMETERS[:1],
        responses={200: s.VersionsOutput, 304: OpenApiResponse(description="Not modified")},
        summary="Data versions of the chosen portfolios: poll it, 304 while nothing changed",
    )
    def get(self, request: AuthenticatedRequest, dashboard_id: int) -> HttpResponse:
        selectors.dashboard_check_open(user=request.user, dashboard_id=dashboard_id)
        versions = selectors.dashboard_versions(user=request.user, filters=_filters(request))
        return _conditional(request, versions.etag) or _cache_headers(
            Response(versions.as_json()), versions.etag
        )


class KindListView(APIView):
    @extend_schema(responses=s.KindOutput(many=True), summary="Widget kinds the user may add")
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(
            s.KindOutput(
                [
                    {
                        "key": k.key,
                        "label": k.label,
                        "width": k.width,
                        "height": k.height,
                        "many": k.many,
                        "tile": k.tile,
                        "depends": k.depends,
                    }
                    for k in kinds_for(request.user)
                ],
                many=True,
            ).data
        )
