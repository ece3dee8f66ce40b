"""REST API of schedules and deliveries, under ``/api/schedules/`` and
``/api/deliveries/`` (routes in ``reports/api/schedule_urls.py``).

Reads go through ``reports.schedule_selectors``: a schedule is seen by its owner
(administrators see all), a delivery by its schedule's owner and its recipient;
anything else is a 404, like an id that does not exist. Writes call
``reports.services.schedules`` and ``reports.services.deliveries``, which
validate (a ``ReportInvalid`` becomes a 400 ``{field: [message]}`` naming the
request's field: ``cron``, ``timezone``, ``exchange``, ``recipients``...) and
audit. Changing a schedule is for its owner or an administrator (403 for a
recipient who may only read a delivery).

Times: ``next_run_at`` and the preview are ISO 8601 in the schedule's own time
zone, with their UTC offset (``2026-03-30T08:00:00+01:00``), so a script reads
the local wall-clock time and the instant at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from django.utils import timezone as django_timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.authenticated import AuthenticatedRequest
from portal.origins import RequestOrigin
from reports import schedule_selectors as selectors
from reports.errors import ReportInvalid
from reports.models import (
    DeliveryChannel,
    DeliveryState,
    OccurrenceState,
    Schedule,
    ScheduleCalendarRule,
    ScheduleCopies,
    ScheduleIncompleteAction,
    ScheduleMissedAction,
)
from reports.schedule_times import ScheduleTimeError, TimeRule, calendar_rule_parse, rule_validate
from reports.services.schedules import (
    schedule_create,
    schedule_delete,
    schedule_may_change,
    schedule_pause,
    schedule_preview,
    schedule_resume,
    schedule_run_now,
    schedule_update,
    schedule_zone,
)

PREVIEW_DEFAULT = 10
PREVIEW_MAX = 100


def raise_invalid(error: ReportInvalid) -> NoReturn:
    """A service's ``ReportInvalid`` as a 400 naming the request's field."""
    raise ApiValidationError({error.field or "non_field_errors": [error.message]})


def local_iso(moment: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """``moment`` in ``zone`` as ISO 8601 with its UTC offset."""
    return moment.astimezone(zone).isoformat() if moment is not None else None


def calendar_rule_text(schedule: Schedule) -> str | None:
    """The calendar rule as the API spells it (``nth_business_day:3``), or None."""
    if not schedule.calendar_rule:
        return None
    if schedule.calendar_rule == ScheduleCalendarRule.NTH_BUSINESS_DAY:
        return f"{schedule.calendar_rule}:{schedule.calendar_n}"
    return schedule.calendar_rule


def schedule_for_change(*, user: Any, schedule_id: int) -> Schedule:
    """A schedule the user may see *and* change: 404 when unseen, 403 when read-only."""
    schedule = selectors.schedule_get_for_user(user=user, schedule_id=schedule_id)
    if not schedule_may_change(user=user, schedule=schedule):
        raise PermissionDenied("Only the schedule's owner or an administrator may change it.")
    return schedule


# --- Serializers


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "An id or a name/slug."}
)
class IdOrNameField(serializers.Field):
    """An id (integer) or a name/slug (string), handed to the service as sent."""

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str) or data == "":
            raise serializers.ValidationError("Give an id (a number) or a name.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ScheduleRecipientsSerializer(serializers.Serializer):
    users = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Usernames."
    )
    teams = serializers.ListField(
        child=IdOrNameField(), required=False, default=list, help_text="Team names or ids."
    )
    emails = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="External addresses; each must be on the administrators' allow-list.",
    )


class ScheduleInputSerializer(serializers.Serializer):
    """A schedule as scripts send it. The shape is checked here; every value's
    meaning (a valid cron, a known zone or exchange, an allowed address) by the
    service, whose refusal names the same field."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    template = IdOrNameField(help_text="The template's slug or id (you need run access).")
    portfolios = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Portfolio codes; empty or absent: all the owner's entitled portfolios.",
    )
    cron = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Five fields, e.g. 0 8 * * 1-5.",
    )
    calendar_rule = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=(
            "every_business_day, nth_business_day:N, last_business_day_of_month or "
            "last_business_day_of_quarter (instead of cron)."
        ),
    )
    exchange = serializers.CharField(required=False, help_text="The market calendar, e.g. XNYS.")
    time = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Local HH:MM (calendar rules)."
    )
    timezone = serializers.CharField(required=False, help_text="IANA name, e.g. Europe/London.")
    period = serializers.CharField(required=False, help_text="e.g. previous_month.")
    formats = serializers.ListField(child=serializers.CharField(), required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=DeliveryChannel.choices), required=False
    )
    recipients = ScheduleRecipientsSerializer(required=False)
    burst = serializers.BooleanField(required=False)
    copies = serializers.ChoiceField(choices=ScheduleCopies.choices, required=False)
    webhook_url = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    ready_wait_minutes = serializers.IntegerField(required=False, min_value=0)
    incomplete_action = serializers.ChoiceField(
        choices=ScheduleIncompleteAction.choices, required=False
    )
    missed_action = serializers.ChoiceField(choices=ScheduleMissedAction.choices, required=False)
    enabled = serializers.BooleanField(required=False)

    def service_data(self) -> dict[str, Any]:
        """The fields sent (and only those: an update is partial), for the service."""
        data = dict(self.validated_data)
        if "recipients" in data:
            data["recipients"] = dict(data["recipients"])
        return data


class ScheduleTemplateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class ScheduleRecipientsOutputSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.CharField())
    emails = serializers.ListField(child=serializers.CharField())


class ScheduleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    template = serializers.SerializerMethodField()
    portfolios = serializers.SerializerMethodField()
    cron = serializers.SerializerMethodField()
    calendar_rule = serializers.SerializerMethodField()
    exchange = serializers.CharField()
    time = serializers.SerializerMethodField()
    timezone = serializers.CharField()
    period = serializers.CharField()
    formats = serializers.ListField(child=serializers.CharField())
    channels = serializers.ListField(child=serializers.CharField())
    recipients = serializers.SerializerMethodField()
    burst = serializers.BooleanField()
    copies = serializers.CharField()
    webhook_url = serializers.CharField()
    webhook_secret = serializers.CharField(
        help_text="The HMAC-SHA256 key the webhook receiver verifies signatures with."
    )
    ready_wait_minutes = serializers.IntegerField()
    incomplete_action = serializers.CharField()
    missed_action = serializers.CharField()
    enabled = serializers.BooleanField()
    next_run_at = serializers.SerializerMethodField()
    last_run_at = serializers.SerializerMethodField()
    last_outcome = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ScheduleTemplateOutputSerializer)
    def get_template(self, schedule: Schedule) -> dict[str, Any]:
        template = schedule.template
        return {"id": template.id, "slug": template.slug, "name": template.name}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_portfolios(self, schedule: Schedule) -> list[str]:
        return list((schedule.parameters or {}).get("portfolios") or [])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cron(self, schedule: Schedule) -> str | None:
        return schedule.cron or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar_rule(self, schedule: Schedule) -> str | None:
        return calendar_rule_text(schedule)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Local HH:MM."))
    def get_time(self, schedule: Schedule) -> str | None:
        return schedule.time.strftime("%H:%M") if schedule.time else None

    @extend_schema_field(ScheduleRecipientsOutputSerializer)
    def get_recipients(self, schedule: Schedule) -> dict[str, list[str]]:
        return {
            "users": [user.username for user in schedule.recipient_users.order_by("username")],
            "teams": [team.name for team in schedule.recipient_teams.order_by("name")],
            "emails": list(schedule.recipient_emails or []),
        }

    @extend_schema_field(
        serializers.DateTimeField(
            allow_null=True, help_text="In the schedule's time zone; null while paused."
        )
    )
    def get_next_run_at(self, schedule: Schedule) -> str | None:
        return local_iso(schedule.next_run_at, schedule_zone(schedule))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_run_at(self, schedule: Schedule) -> str | None:
        return local_iso(schedule.last_run_at, schedule_zone(schedule))


class SchedulePreviewOutputSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    runs = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text="The next run times, ISO 8601 in the schedule's zone with their UTC offset.",
    )


class OccurrenceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    schedule = serializers.IntegerField(source="schedule_id")
    slot_at = serializers.DateTimeField()
    manual = serializers.BooleanField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField()
    period_label = serializers.CharField()
    state = serializers.ChoiceField(choices=OccurrenceState.choices)
    ready_by = serializers.DateTimeField()
    incomplete = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    schedule = serializers.IntegerField(source="schedule_id")
    occurrence = serializers.IntegerField(source="occurrence_id")
    slot_at = serializers.DateTimeField(source="occurrence.slot_at")
    period_label = serializers.CharField(source="occurrence.period_label")
    channel = serializers.ChoiceField(choices=DeliveryChannel.choices)
    recipient = serializers.CharField(
        source="recipient.username", allow_null=True, default=None, help_text="A portal user."
    )
    address = serializers.CharField(help_text="An external e-mail address or the webhook URL.")
    portfolio = serializers.CharField(source="portfolio.code", allow_null=True, default=None)
    run = serializers.IntegerField(source="run_id", allow_null=True)
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    response_status = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    confirmation = serializers.CharField(help_text="What confirmed it: a link opened, a 2xx...")
    failed_at = serializers.DateTimeField(allow_null=True)


def schedule_data(schedule: Schedule) -> dict[str, Any]:
    schedule.refresh_from_db()
    return dict(ScheduleOutputSerializer(schedule).data)


# --- Schedules


class ScheduleListApi(ListAPIView):
    """Your schedules (administrators: every schedule), by name. ``POST`` creates
    one of yours: 201 with it, its ``next_run_at`` the first slot after now. A
    bad value is a 400 naming the field (``cron``, ``calendar_rule``,
    ``timezone``, ``exchange``, ``recipients`` for an address outside the
    allow-list, ``webhook_url``...)."""

    serializer_class = ScheduleOutputSerializer
    request: AuthenticatedRequest

    def get_queryset(self):
        return (
            selectors.schedules_visible_to(user=self.request.user)
            .prefetch_related("recipient_users", "recipient_teams")
            .order_by("name", "id")
        )

    @extend_schema(request=ScheduleInputSerializer, responses={201: ScheduleOutputSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = ScheduleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            schedule = schedule_create(
                user=request.user, data=payload.service_data(), origin=RequestOrigin.of(request)
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(schedule_data(schedule), status=status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    """One schedule. ``PATCH`` changes the fields given (its next run is
    recomputed from now, so an edit never fires at once); ``DELETE`` removes it
    (its deliveries' runs and files are kept). Owner or administrator."""

    @extend_schema(responses=ScheduleOutputSerializer)
    def get(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = selectors.schedule_get_for_user(user=request.user, schedule_id=schedule_id)
        return Response(ScheduleOutputSerializer(schedule).data)

    @extend_schema(request=ScheduleInputSerializer, responses=ScheduleOutputSerializer)
    def patch(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = schedule_for_change(user=request.user, schedule_id=schedule_id)
        payload = ScheduleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            schedule = schedule_update(
                user=request.user,
                schedule=schedule,
                data=payload.service_data(),
                origin=RequestOrigin.of(request),
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(schedule_data(schedule))

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = schedule_for_change(user=request.user, schedule_id=schedule_id)
        schedule_delete(user=request.user, schedule=schedule, origin=RequestOrigin.of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePauseApi(APIView):
    """Pause a schedule: no slot fires until it is resumed."""

    @extend_schema(request=None, responses=ScheduleOutputSerializer)
    def post(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = schedule_for_change(user=request.user, schedule_id=schedule_id)
        schedule = schedule_pause(
            user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
        )
        return Response(schedule_data(schedule))


class ScheduleResumeApi(APIView):
    """Resume a paused schedule from its next slot after now (slots missed while
    paused are not made up)."""

    @extend_schema(request=None, responses=ScheduleOutputSerializer)
    def post(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = schedule_for_change(user=request.user, schedule_id=schedule_id)
        try:
            schedule = schedule_resume(
                user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(schedule_data(schedule))


class ScheduleRunNowApi(APIView):
    """Run the schedule now, outside its rule: 202 with the occurrence, whose
    deliveries ``GET /api/deliveries/?schedule=`` then tracks."""

    @extend_schema(request=None, responses={202: OccurrenceOutputSerializer})
    def post(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = schedule_for_change(user=request.user, schedule_id=schedule_id)
        try:
            occurrence = schedule_run_now(
                user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(
            OccurrenceOutputSerializer(occurrence).data, status=status.HTTP_202_ACCEPTED
        )


class ScheduleOccurrencesApi(ListAPIView):
    """The schedule's occurrences (one per slot, and one per "run now"), the
    latest first: the period each covered and whether its data was ready."""

    serializer_class = OccurrenceOutputSerializer
    request: AuthenticatedRequest

    def get_queryset(self):
        schedule = selectors.schedule_get_for_user(
            user=self.request.user, schedule_id=self.kwargs["schedule_id"]
        )
        return selectors.schedule_occurrences(schedule=schedule)


PREVIEW_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="The first local day (YYYY-MM-DD) to list from; default now.",
    ),
    OpenApiParameter(
        "n", OpenApiTypes.INT, description=f"How many (1–{PREVIEW_MAX}); {PREVIEW_DEFAULT}."
    ),
]


def preview_query(request: AuthenticatedRequest, zone: dt.tzinfo) -> tuple[dt.datetime, int]:
    """``from`` as the moment just before that local day starts (so a slot at
    midnight counts), or now; and ``n``. A bad value is a 400 naming it."""
    raw_from = request.query_params.get("from")
    raw_n = request.query_params.get("n")
    count = PREVIEW_DEFAULT
    if raw_n not in (None, ""):
        try:
            count = int(raw_n)
        except ValueError:
            raise ApiValidationError({"n": ["Give a whole number."]}) from None
        if not 1 <= count <= PREVIEW_MAX:
            raise ApiValidationError({"n": [f"Give a number from 1 to {PREVIEW_MAX}."]})
    if raw_from in (None, ""):
        return django_timezone.now(), count
    try:
        day = dt.date.fromisoformat(raw_from)
    except ValueError:
        raise ApiValidationError({"from": ["Give a date as YYYY-MM-DD."]}) from None
    midnight = dt.datetime.combine(day, dt.time.min).replace(tzinfo=zone)
    return midnight - dt.timedelta(microseconds=1), count


def preview_answer(runs: list[dt.datetime], zone_name: str, zone: dt.tzinfo) -> dict[str, Any]:
    return {"timezone": zone_name, "runs": [moment.astimezone(zone).isoformat() for moment in runs]}


class SchedulePreviewApi(APIView):
    """The schedule's next run times, in its time zone with their UTC offset
    (``2026-03-30T08:00:00+01:00``), across daylight-saving changes and the
    exchange's holidays."""

    @extend_schema(parameters=PREVIEW_PARAMETERS, responses=SchedulePreviewOutputSerializer)
    def get(self, request: AuthenticatedRequest, schedule_id: int) -> Response:
        schedule = selectors.schedule_get_for_user(user=request.user, schedule_id=schedule_id)
        zone = schedule_zone(schedule)
        start, count = preview_query(request, zone)
        runs = schedule_preview(schedule=schedule, start=start, count=count)
        return Response(preview_answer(runs, schedule.timezone, zone))


class RulePreviewInputSerializer(serializers.Serializer):
    cron = serializers.CharField(required=False, allow_blank=True)
    calendar_rule = serializers.CharField(required=False, allow_blank=True)
    exchange = serializers.CharField(required=False, default="XNYS")
    time = serializers.CharField(required=False, allow_blank=True)
    timezone = serializers.CharField(required=False, default="UTC")


def rule_from_query(query: Any) -> TimeRule:
    """A time rule from the query string (the schedule form's fields); a bad value
    is a 400 naming its field. Raises nothing for a valid rule."""
    payload = RulePreviewInputSerializer(data=query)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    cron = (data.get("cron") or "").strip()
    calendar_text = (data.get("calendar_rule") or "").strip()
    if bool(cron) == bool(calendar_text):
        raise ApiValidationError({"cron": ["Give either a cron expression or a calendar rule."]})
    try:
        calendar_rule, calendar_n = (
            calendar_rule_parse(calendar_text) if calendar_text else (None, None)
        )
        local_time = None
        if data.get("time"):
            try:
                local_time = dt.time.fromisoformat(data["time"])
            except ValueError:
                raise ScheduleTimeError("Give the time as HH:MM.", field="time") from None
        rule = TimeRule(
            cron=cron or None,
            calendar_rule=calendar_rule,
            calendar_n=calendar_n,
            exchange=data["exchange"],
            time=local_time,
            timezone=data["timezone"],
        )
        rule_validate(rule)
    except ScheduleTimeError as error:
        raise ApiValidationError({error.field: [str(error)]}) from None
    return rule


class RulePreviewApi(APIView):
    """The next run times of a rule not saved yet (what the schedule form shows
    as you type): ``cron`` or ``calendar_rule`` (with ``exchange`` and ``time``),
    and ``timezone``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("cron", OpenApiTypes.STR),
            OpenApiParameter("calendar_rule", OpenApiTypes.STR),
            OpenApiParameter("exchange", OpenApiTypes.STR),
            OpenApiParameter("time", OpenApiTypes.STR, description="Local HH:MM."),
            OpenApiParameter("timezone", OpenApiTypes.STR),
            *PREVIEW_PARAMETERS,
        ],
        responses=SchedulePreviewOutputSerializer,
        operation_id="schedules_rule_preview",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rule = rule_from_query(request.query_params)
        zone = ZoneInfo(rule.timezone)
        start, count = preview_query(request, zone)
        runs = schedule_preview(rule=rule, start=start, count=count)
        return Response(preview_answer(runs, rule.timezone, zone))


# --- Deliveries


class DeliveryListApi(ListAPIView):
    """Deliveries of your schedules and those sent to you (administrators: all),
    newest first: each one's state (queued, sending, sent, confirmed, failed,
    refused), attempts, timestamps, confirmation and error. ``?schedule=<id>``
    keeps one schedule's; ``?state=`` one state's."""

    serializer_class = DeliveryOutputSerializer
    request: AuthenticatedRequest

    @extend_schema(
        parameters=[
            OpenApiParameter("schedule", OpenApiTypes.INT, description="A schedule's id."),
            OpenApiParameter("state", OpenApiTypes.STR, enum=DeliveryState.values),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        deliveries = selectors.deliveries_visible_to(user=self.request.user)
        schedule = self.request.query_params.get("schedule")
        if schedule not in (None, ""):
            if not schedule.isdigit():
                raise ApiValidationError({"schedule": ["Give a schedule's id."]})
            deliveries = deliveries.filter(schedule_id=int(schedule))
        state = self.request.query_params.get("state")
        if state not in (None, ""):
            if state not in DeliveryState.values:
                raise ApiValidationError(
                    {"state": [f"Give one of {', '.join(DeliveryState.values)}."]}
                )
            deliveries = deliveries.filter(state=state)
        return deliveries


class DeliveryDetailApi(APIView):
    """One delivery you may see."""

    @extend_schema(responses=DeliveryOutputSerializer)
    def get(self, request: AuthenticatedRequest, delivery_id: int) -> Response:
        delivery = selectors.delivery_get_for_user(user=request.user, delivery_id=delivery_id)
        return Response(DeliveryOutputSerializer(delivery).data)


class DeliveryRetryApi(APIView):
    """Send a failed delivery again (its schedule's owner or an administrator):
    202 with it queued."""

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request: AuthenticatedRequest, delivery_id: int) -> Response:
        from reports.services.deliveries import delivery_retry

        delivery = selectors.delivery_get_for_user(user=request.user, delivery_id=delivery_id)
        if not schedule_may_change(user=request.user, schedule=delivery.schedule):
            raise PermissionDenied(
                "Only the schedule's owner or an administrator may retry its deliveries."
            )
        try:
            delivery = delivery_retry(
                user=request.user, delivery=delivery, origin=RequestOrigin.of(request)
            )
        except ReportInvalid as error:
            raise_invalid(error)
        delivery = selectors.delivery_get_for_user(user=request.user, delivery_id=delivery.pk)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
