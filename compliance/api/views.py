"""REST API of the compliance area, scoped by entitlements through
``compliance.selectors``: alerts and their workflow, rules and templates, rule
utilisation history and the pre-trade check. Bad input is a 400 with field errors."""

import math
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import Instrument, TradeSide
from analytics.selectors.entitlements import portfolio_get_for_user
from compliance import selectors
from compliance.engine.templates import TEMPLATES
from compliance.models import RULE_KIND_CHOICES, AlertState, RuleScope, Severity
from compliance.services import alerts as alert_services
from compliance.services import rules as rule_services
from compliance.services.evaluation.pretrade import pretrade_check
from portal.api_tabular import (
    FORMAT_PARAMETER,
    Column,
    Table,
    TabularApiMixin,
    tabular_file_response,
    tabular_responses,
    wants_file,
)
from portal.authenticated import AuthenticatedRequest
from portal.models import Team, User
from portal.origins import RequestOrigin
from portal.services import api_read_record
from portal.sorting import SortError, rows_sorted, sort_parse


def _raise_400(error: ValidationError) -> NoReturn:
    """A service's ValidationError as DRF's 400 with the same field errors."""
    detail = (
        error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    )
    raise ApiValidationError(detail)


@extend_schema_field(
    {"oneOf": [{"type": "number"}, {"type": "string", "enum": ["inf"]}], "nullable": True}
)
class Utilisation(serializers.Field):
    """A utilisation; infinity (a zero limit used) is written as the string "inf"."""

    def to_representation(self, value):
        if value is None:
            return None
        return "inf" if math.isinf(value) else value


class AlertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    portfolio = serializers.CharField(source="portfolio.code")
    portfolio_id = serializers.IntegerField()
    rule = serializers.CharField(source="rule.name")
    rule_id = serializers.IntegerField()
    state = serializers.CharField()
    severity = serializers.CharField()
    active = serializers.BooleanField()
    is_current = serializers.BooleanField()
    opened_on = serializers.DateField()
    last_observed_on = serializers.DateField()
    cured_on = serializers.DateField(allow_null=True)
    last_utilisation = Utilisation()
    peak_utilisation = Utilisation()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    snoozed_until = serializers.DateField(allow_null=True)
    escalated_to = serializers.CharField(source="escalated_to.name", allow_null=True, default=None)
    waiver_reason = serializers.CharField()
    remediation_escalated_on = serializers.DateField(allow_null=True)
    remediation_follow_up_on = serializers.DateField(allow_null=True)
    allowed_actions = serializers.SerializerMethodField()

    def get_allowed_actions(self, alert) -> list[str]:
        """The decisions the alert's state allows now (the page offers the same)."""
        return alert_services.alert_actions_allowed(alert)


class ObservationSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    value = Utilisation()
    utilisation = Utilisation()
    status = serializers.CharField()
    active = serializers.BooleanField()


class HistorySerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_username")
    details = serializers.JSONField()


class AlertDetailSerializer(AlertOutputSerializer):
    observations = ObservationSerializer(many=True, source="observations.all")
    history = serializers.SerializerMethodField()

    def get_history(self, alert) -> list[dict]:
        return list(HistorySerializer(selectors.alert_history(alert=alert), many=True).data)


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["", "active", *AlertState.values], required=False)
    severity = serializers.ChoiceField(choices=["", *Severity.values], required=False)
    rule = serializers.IntegerField(required=False)
    portfolio = serializers.IntegerField(required=False)
    # At most a century: an older date is out of range (400 here rather than a 500).
    min_age_days = serializers.IntegerField(required=False, min_value=0, max_value=36_500)
    max_age_days = serializers.IntegerField(required=False, min_value=0, max_value=36_500)


ALERT_COLUMNS = (
    Column("id", "Id", "integer"),
    Column("portfolio", "Portfolio", source="portfolio.code"),
    Column("portfolio_id", "Portfolio id", "integer"),
    Column("rule", "Rule", source="rule.name"),
    Column("rule_id", "Rule id", "integer"),
    Column("state", "State"),
    Column("severity", "Severity"),
    Column("active", "Active", "boolean"),
    Column("is_current", "Current", "boolean"),
    Column("opened_on", "Opened on", "date"),
    Column("last_observed_on", "Last observed on", "date"),
    Column("cured_on", "Cured on", "date"),
    Column("last_utilisation", "Last utilisation", "number"),
    Column("peak_utilisation", "Peak utilisation", "number"),
    Column("assignee", "Assignee", source="assignee.username"),
    Column("snoozed_until", "Snoozed until", "date"),
    Column("escalated_to", "Escalated to", source="escalated_to.name"),
    Column("waiver_reason", "Waiver reason"),
    Column("remediation_escalated_on", "Remediation escalated on", "date"),
    Column("remediation_follow_up_on", "Remediation follow-up on", "date"),
)


class AlertListApi(TabularApiMixin, ListAPIView):
    """Alerts of the portfolios you may see. Filters: state (``active`` = open,
    acknowledged or snoozed), severity, rule, portfolio, min/max age in days.
    JSON is paged; ``format`` csv, xlsx or parquet gives every selected alert as
    a file (an infinite utilisation is written ``inf``)."""

    serializer_class = AlertOutputSerializer
    request: AuthenticatedRequest

    @extend_schema(
        parameters=[AlertFilterSerializer, FORMAT_PARAMETER],
        responses=tabular_responses(AlertOutputSerializer(many=True)),
    )
    def get(self, request, *args, **kwargs):
        if wants_file(request):
            alerts = self.get_queryset()
            filters = {key: value for key, value in request.query_params.items() if key != "format"}
            return tabular_file_response(
                request=request,
                table=Table(columns=ALERT_COLUMNS, rows=alerts, sheet="Alerts"),
                data="compliance.alerts",
                file_stem="compliance-alerts",
                portfolio=int(filters["portfolio"]) if "portfolio" in filters else None,
                details=filters,
            )
        response = super().get(request, *args, **kwargs)
        api_read_record(
            actor=request.user,
            portfolio=self._portfolio_filter,
            data="compliance.alerts",
            origin=RequestOrigin.of(request),
            details={**request.query_params.dict(), "rows": response.data["count"]},
        )
        return response

    @property
    def _portfolio_filter(self) -> int | None:
        portfolio = self.request.query_params.get("portfolio", "")
        return int(portfolio) if portfolio.isdigit() else None

    def get_queryset(self):
        filters = AlertFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return selectors.alert_list_for_user(
            user=self.request.user,
            filters=selectors.AlertFilters(
                state=data.get("state", ""),
                severity=data.get("severity", ""),
                rule_id=data.get("rule"),
                portfolio_id=data.get("portfolio"),
                min_age_days=data.get("min_age_days"),
                max_age_days=data.get("max_age_days"),
            ),
        )


class AlertDetailApi(APIView):
    @extend_schema(responses=AlertDetailSerializer)
    def get(self, request: AuthenticatedRequest, alert_id: int) -> Response:
        alert = selectors.alert_get_for_user(user=request.user, alert_id=alert_id)
        return Response(AlertDetailSerializer(alert).data)


class AlertActionApi(APIView):
    """One workflow transition: ``acknowledge`` (comment required), ``resolve``,
    ``waive`` (reason required), ``snooze`` (until), ``reopen`` (comment),
    ``assign`` (assignee username)."""

    class AlertActionInputSerializer(serializers.Serializer):
        comment = serializers.CharField(required=False, allow_blank=True, default="")
        reason = serializers.CharField(required=False, allow_blank=True, default="")
        until = serializers.DateField(required=False)
        assignee = serializers.CharField(required=False)

    @extend_schema(request=AlertActionInputSerializer, responses=AlertOutputSerializer)
    def post(self, request: AuthenticatedRequest, alert_id: int, action: str) -> Response:
        if action not in alert_services.ALERT_ACTIONS:
            return Response({"detail": "Unknown action."}, status=status.HTTP_404_NOT_FOUND)
        alert = selectors.alert_get_for_user(user=request.user, alert_id=alert_id, decide=True)
        payload = self.AlertActionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        assignee = None
        if action == "assign":
            assignee = User.objects.filter(username=data.get("assignee", "")).first()
        try:
            if action == "snooze" and "until" not in data:
                raise ValidationError({"until": ["This field is required."]})
            alert = alert_services.alert_decide(
                action=action,
                alert=alert,
                user=request.user,
                origin=RequestOrigin.of(request),
                comment=data["comment"],
                reason=data["reason"],
                until=data.get("until"),
                assignee=assignee,
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(AlertOutputSerializer(alert).data)


class BulkAcknowledgeApi(APIView):
    class BulkAcknowledgeInputSerializer(serializers.Serializer):
        alerts = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
        comment = serializers.CharField(allow_blank=True)

    @extend_schema(
        request=BulkAcknowledgeInputSerializer, responses=AlertOutputSerializer(many=True)
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = self.BulkAcknowledgeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alerts = selectors.alerts_get_for_user(
            user=request.user, alert_ids=payload.validated_data["alerts"], decide=True
        )
        try:
            done = alert_services.alert_bulk_acknowledge(
                alerts=alerts,
                user=request.user,
                comment=payload.validated_data["comment"],
                origin=RequestOrigin.of(request),
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(AlertOutputSerializer(done, many=True).data)


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    params = serializers.JSONField()
    limit = serializers.FloatField()
    warning_level = serializers.FloatField()
    scope = serializers.CharField()
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    portfolio = serializers.CharField(source="portfolio.code", allow_null=True, default=None)
    template = serializers.CharField()
    cure_period_days = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ScopeInput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=RuleScope.values, default=RuleScope.ALL)
    team = serializers.CharField(required=False, help_text="Team name (team scope).")
    portfolio = serializers.IntegerField(required=False, help_text="Portfolio id.")

    def scope_target(self, user: User) -> dict[str, Any]:
        """The validated scope as the rule services take it (team and portfolio looked up)."""
        data = self.validated_data
        team = portfolio = None
        if data["scope"] == RuleScope.TEAM:
            team = Team.objects.filter(name=data.get("team", "")).first()
            if team is None:
                raise ApiValidationError({"team": ["No such team."]})
        if data["scope"] == RuleScope.PORTFOLIO:
            if "portfolio" not in data:
                raise ApiValidationError({"portfolio": ["This field is required."]})
            portfolio = portfolio_get_for_user(user=user, portfolio_id=data["portfolio"])
        return {"scope": data["scope"], "team": team, "portfolio": portfolio}


class RuleListApi(APIView):
    class RuleCreateInputSerializer(ScopeInput):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=[k for k, _ in RULE_KIND_CHOICES])
        limit = serializers.FloatField(min_value=0)
        warning_level = serializers.FloatField(default=0.9)
        params = serializers.DictField(required=False, default=dict)
        cure_period_days = serializers.IntegerField(min_value=0, default=5)
        description = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses=RuleOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        rules = selectors.rule_list_for_user(user=request.user).order_by("name", "id")
        return Response(RuleOutputSerializer(rules, many=True).data)

    @extend_schema(request=RuleCreateInputSerializer, responses={201: RuleOutputSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = self.RuleCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            rule = rule_services.rule_create(
                user=request.user,
                name=data["name"],
                kind=data["kind"],
                limit=data["limit"],
                params=data["params"],
                warning_level=data["warning_level"],
                cure_period_days=data["cure_period_days"],
                description=data["description"],
                origin=RequestOrigin.of(request),
                **payload.scope_target(request.user),
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    class RuleUpdateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        limit = serializers.FloatField(min_value=0, required=False)
        warning_level = serializers.FloatField(required=False)
        params = serializers.DictField(required=False)
        cure_period_days = serializers.IntegerField(min_value=0, required=False)
        description = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(responses=RuleOutputSerializer)
    def get(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(request=RuleUpdateInputSerializer, responses=RuleOutputSerializer)
    def patch(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
        payload = self.RuleUpdateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            rule = rule_services.rule_update(
                user=request.user,
                rule=rule,
                origin=RequestOrigin.of(request),
                **payload.validated_data,
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        """Deactivate the rule (its results and alerts are kept)."""
        rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
        rule_services.rule_deactivate(
            user=request.user, rule=rule, origin=RequestOrigin.of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UtilisationPointSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    value = Utilisation()
    limit = serializers.FloatField()
    utilisation = Utilisation()
    status = serializers.CharField()
    active = serializers.BooleanField()


class RuleUtilisationApi(APIView):
    """How close one portfolio ran to one rule's limit, one point per evaluated date."""

    @extend_schema(
        parameters=[OpenApiParameter("portfolio", int, required=True)],
        responses=UtilisationPointSerializer(many=True),
    )
    def get(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
        try:
            portfolio_id = int(request.query_params.get("portfolio", ""))
        except ValueError:
            raise ApiValidationError({"portfolio": ["A portfolio id is required."]}) from None
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        series = selectors.rule_utilisation_series(rule=rule, portfolio_id=portfolio.id)
        return Response(UtilisationPointSerializer(series, many=True).data)


class TemplateListApi(APIView):
    @extend_schema(responses=serializers.ListSerializer(child=serializers.DictField()))
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(
            [
                {
                    "key": t.key,
                    "name": t.name,
                    "help_text": t.help_text,
                    "rules": [
                        {"kind": str(d.kind), "name": d.name, "limit": d.limit, "params": d.params}
                        for d in t.rules
                    ],
                }
                for t in TEMPLATES.values()
            ]
        )


class TemplateApplyApi(APIView):
    class TemplateApplyInputSerializer(ScopeInput):
        template = serializers.ChoiceField(choices=list(TEMPLATES))
        reference = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=TemplateApplyInputSerializer, responses={201: RuleOutputSerializer(many=True)}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = self.TemplateApplyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            rules = rule_services.template_apply(
                user=request.user,
                template=payload.validated_data["template"],
                reference=payload.validated_data["reference"],
                origin=RequestOrigin.of(request),
                **payload.scope_target(request.user),
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(RuleOutputSerializer(rules, many=True).data, status=201)


class GroupWeightSerializer(serializers.Serializer):
    attribute = serializers.CharField()
    group = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)


class PreTradeRowSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(source="rule.id")
    rule = serializers.CharField(source="rule.display_name")
    before_value = Utilisation()
    before_utilisation = Utilisation()
    before_status = serializers.CharField()
    after_value = Utilisation()
    after_utilisation = Utilisation()
    after_status = serializers.CharField()
    group = serializers.CharField()
    effect = serializers.CharField(
        help_text="causes, worsens, unchanged, reduces, cures, not_reducing, warning, ok, "
        "no_value: what the trade does to the rule."
    )
    effect_label = serializers.CharField()
    refused = serializers.BooleanField()
    own_group = GroupWeightSerializer(allow_null=True)
    reducing_only_since = serializers.DateField(allow_null=True)


class PreTradeResultSerializer(serializers.Serializer):
    verdict = serializers.CharField(
        help_text="breach: refused (the trade causes or worsens a breach); warning: allowed, "
        "a rule near or already beyond its limit; ok."
    )
    headline = serializers.CharField()
    portfolio = serializers.CharField(source="portfolio.code")
    instrument = serializers.CharField(source="instrument.identifier")
    side = serializers.CharField()
    quantity = serializers.FloatField()
    price = serializers.FloatField()
    as_of = serializers.DateField(allow_null=True)
    trade_value_base = serializers.FloatField()
    rows = PreTradeRowSerializer(many=True)
    groups = GroupWeightSerializer(many=True)


class PreTradeCheckApi(APIView):
    """What a proposed trade does to each rule (causes, worsens, leaves unchanged,
    reduces or cures a breach), with the utilisation before and after and the
    weights of the instrument's groups. A sale of more than the portfolio holds,
    without a short-selling permission, is a 400 on ``quantity``. Changes nothing."""

    class PreTradeCheckInputSerializer(serializers.Serializer):
        portfolio = serializers.IntegerField()
        instrument = serializers.CharField(help_text="Instrument identifier")
        side = serializers.ChoiceField(choices=TradeSide.values)
        quantity = serializers.DecimalField(max_digits=24, decimal_places=6, min_value=0)
        price = serializers.DecimalField(
            max_digits=24, decimal_places=6, min_value=0, required=False
        )

        def validate_quantity(self, value):
            if value <= 0:
                raise serializers.ValidationError("Enter a quantity greater than 0.")
            return value

    @extend_schema(request=PreTradeCheckInputSerializer, responses=PreTradeResultSerializer)
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = self.PreTradeCheckInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=data["portfolio"])
        instrument = Instrument.objects.filter(identifier__iexact=data["instrument"]).first()
        if instrument is None:
            raise ApiValidationError({"instrument": [f"No instrument {data['instrument']!r}."]})
        try:
            result = pretrade_check(
                portfolio=portfolio,
                instrument=instrument,
                side=data["side"],
                quantity=float(data["quantity"]),
                price=float(data["price"]) if "price" in data else None,
            )
        except ValidationError as error:
            _raise_400(error)
        return Response(PreTradeResultSerializer(result).data)


class HeadroomRowSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(source="rule.id")
    rule = serializers.CharField(source="rule.display_name")
    kind = serializers.CharField(source="rule.kind")
    portfolio = serializers.CharField(source="portfolio_code")
    as_of = serializers.DateField()
    value = Utilisation()
    limit = serializers.FloatField()
    utilisation = Utilisation()
    headroom = Utilisation(help_text="1 − utilisation: the share of the limit left.")
    headroom_value = Utilisation(help_text="limit − value (value − limit for a minimum).")
    status = serializers.CharField()


class HeadroomApi(APIView):
    """Every active rule on every portfolio you may see at its latest evaluation,
    with utilisation and headroom. ``sort`` is one of rule, portfolio, value,
    limit, utilisation, headroom, as_of, prefixed with ``-`` for descending
    (default ``-utilisation``: the closest to breaching first)."""

    @extend_schema(
        parameters=[OpenApiParameter("sort", str, required=False)],
        responses=HeadroomRowSerializer(many=True),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        try:
            sort = sort_parse(
                request.query_params,
                selectors.HEADROOM_COLUMNS,
                default=selectors.HEADROOM_DEFAULT_SORT,
            )
        except SortError as error:
            raise ApiValidationError({"sort": [str(error)]}) from None
        rows = rows_sorted(
            selectors.headroom_list_for_user(user=request.user), selectors.HEADROOM_COLUMNS, sort
        )
        return Response(HeadroomRowSerializer(rows, many=True).data)
