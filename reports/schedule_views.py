"""HTML pages of schedules, under /reports/schedules/: "My schedules" (and, for
administrators, "All schedules"), the create/edit form with the next ten run
times, and a schedule's page with its occurrences and each delivery per
recipient and channel.

Views parse input, call one selector or service and render; every read goes
through ``reports.schedule_selectors`` (a schedule the user may not see is a
404), and a page offers only what the user may do: pause, resume, run now, edit,
delete and retry are shown to the schedule's owner and administrators. The
form's preview is rendered on the server and refreshed as the rule changes from
``static/js/schedule_form.js`` through ``GET /api/schedules/preview/``.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.authenticated import AuthenticatedHttpRequest
from portal.export_policy import export_formats_allowed
from portal.models import Team, User
from portal.origins import RequestOrigin
from portal.sorting import SortColumn, SortError, queryset_sorted, sort_headers, sort_parse
from reports import schedule_selectors, selectors
from reports.api.schedules import calendar_rule_text
from reports.errors import ReportInvalid
from reports.forms import DEFAULT_FORMATS, FORMAT_CHOICES
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Schedule,
    ScheduleCalendarRule,
    ScheduleCopies,
    ScheduleIncompleteAction,
    ScheduleMissedAction,
    ScheduleOccurrence,
)
from reports.schedule_times import (
    SCHEDULE_PERIODS,
    ScheduleTimeError,
    TimeRule,
    calendar_rule_parse,
)
from reports.services import schedules as schedule_services
from reports.services.schedules import schedule_zone

SCHEDULES_PER_PAGE = 25
OCCURRENCES_PER_PAGE = 10
PREVIEW_COUNT = 10
EXCHANGES = (
    ("XNYS", "XNYS · New York Stock Exchange"),
    ("XNAS", "XNAS · Nasdaq"),
    ("XLON", "XLON · London Stock Exchange"),
    ("XPAR", "XPAR · Euronext Paris"),
    ("XETR", "XETR · Xetra (Frankfurt)"),
    ("XSWX", "XSWX · SIX Swiss Exchange"),
    ("XTKS", "XTKS · Tokyo Stock Exchange"),
    ("XHKG", "XHKG · Hong Kong Exchanges"),
    ("XASX", "XASX · Australian Securities Exchange"),
    ("XTSE", "XTSE · Toronto Stock Exchange"),
)
RULE_KINDS = (("cron", "A cron expression"), ("calendar", "A market-calendar rule"))
FORM_FIELD_OF = {
    "recipients": None,  # users, teams or e-mails: shown above the form, named
    "users": "recipient_users",
    "teams": "recipient_teams",
    "emails": "recipient_emails",
}
"""A service's field name → the form's field, where the two differ."""


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@cache
def timezone_choices() -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in sorted(zoneinfo.available_timezones()))


def period_choices() -> list[tuple[str, str]]:
    return list(SCHEDULE_PERIODS)


def period_label(key: str) -> str:
    return dict(period_choices()).get(key, key)


def local_text(moment: dt.datetime | None, zone: dt.tzinfo) -> str:
    """``2026-03-30 08:00 BST``: a moment in a schedule's zone, as a page shows it."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def preview_text(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """``Mon 2026-03-30 08:00 +01:00``: a previewed run time in the schedule's zone,
    as ``static/js/schedule_form.js`` writes the API's ISO 8601 times."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%a %Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def rule_description(schedule: Schedule) -> str:
    """The schedule's rule in words: ``cron 0 8 * * 1-5 · Europe/London`` or
    ``3rd business day of the month at 08:00 · XNYS · America/New_York``."""
    if schedule.cron:
        return f"cron {schedule.cron} · {schedule.timezone}"
    at = f" at {schedule.time:%H:%M}" if schedule.time else ""
    if schedule.calendar_rule == ScheduleCalendarRule.NTH_BUSINESS_DAY and schedule.calendar_n:
        words = f"{_ordinal(schedule.calendar_n)} business day of the month"
    else:
        words = ScheduleCalendarRule(schedule.calendar_rule).label.capitalize()
    return f"{words}{at} · {schedule.exchange} · {schedule.timezone}"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _may_change(user: User, schedule: Schedule) -> bool:
    return schedule_services.schedule_may_change(user=user, schedule=schedule)


def _schedule_for_change(request: AuthenticatedHttpRequest, schedule_id: int) -> Schedule:
    schedule = schedule_selectors.schedule_get_for_user(user=request.user, schedule_id=schedule_id)
    if not _may_change(request.user, schedule):
        raise PermissionDenied("Only the schedule's owner or an administrator may change it.")
    return schedule


def _back(request: AuthenticatedHttpRequest, default: str) -> HttpResponse:
    """Back to the page the action was taken on (``next``, a path of this site)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


# --- The list


@dataclass(frozen=True)
class ScheduleRow:
    schedule: Schedule
    rule: str
    next_run: str
    last_run: str
    owner_name: str
    can_change: bool


SCHEDULE_COLUMNS = (
    SortColumn("name", "Schedule"),
    SortColumn("template", "Report", field="template__name", css="wide-only"),
    SortColumn("next", "Next run", field="next_run_at"),
    SortColumn("last", "Last run", field="last_run_at", numeric=True, css="wide-only"),
)
OWNER_COLUMN = SortColumn("owner", "Owner", field="owner__username")


@login_required
@require_GET
def schedule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "My schedules"; administrators also get "All schedules" (``?all=1``)."""
    is_admin = schedule_selectors.schedule_admin(request.user)
    show_all = is_admin and request.GET.get("all") == "1"
    columns = (*SCHEDULE_COLUMNS, OWNER_COLUMN) if show_all else SCHEDULE_COLUMNS
    try:
        sort = sort_parse(request.GET, columns, default="name")
    except SortError as error:
        return HttpResponseBadRequest(str(error))
    schedules: QuerySet[Schedule] = schedule_selectors.schedules_visible_to(user=request.user)
    if not show_all:
        schedules = schedules.filter(owner=request.user)
    page = Paginator(queryset_sorted(schedules, columns, sort), SCHEDULES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for schedule in page:
        zone = schedule_zone(schedule)
        rows.append(
            ScheduleRow(
                schedule=schedule,
                rule=rule_description(schedule),
                next_run=local_text(schedule.next_run_at, zone),
                last_run=local_text(schedule.last_run_at, zone),
                owner_name=_person(schedule.owner),
                can_change=_may_change(request.user, schedule),
            )
        )
    return render(
        request,
        "reports/schedules/list.html",
        {
            "rows": rows,
            "page": page,
            "headers": sort_headers(request.GET, columns, sort),
            "show_all": show_all,
            "is_admin": is_admin,
            "here": request.get_full_path(),
        },
    )


# --- The form


class ScheduleForm(forms.Form):
    """A schedule's fields as the page edits them; :meth:`service_data` gives the
    API's shape, which the schedules service validates."""

    name = forms.CharField(max_length=200)
    template = forms.ChoiceField(label="Report")
    portfolios = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "check-list"}),
        help_text="None ticked: every portfolio you are entitled to when it runs.",
    )
    rule_kind = forms.ChoiceField(
        label="Runs on",
        choices=RULE_KINDS,
        initial="calendar",
        widget=forms.RadioSelect(attrs={"class": "choice-row", "data-rule": "kind"}),
    )
    cron = forms.CharField(
        required=False,
        max_length=100,
        help_text="Five fields read in the time zone below, e.g. 0 8 * * 1-5 (08:00 on weekdays).",
        widget=forms.TextInput(attrs={"data-rule": "cron", "autocomplete": "off"}),
    )
    calendar_rule = forms.ChoiceField(
        required=False,
        choices=ScheduleCalendarRule.choices,
        initial=ScheduleCalendarRule.EVERY_BUSINESS_DAY,
        widget=forms.Select(attrs={"data-rule": "calendar_rule"}),
    )
    calendar_n = forms.IntegerField(
        label="Which business day",
        required=False,
        min_value=1,
        max_value=23,
        initial=1,
        widget=forms.NumberInput(attrs={"data-rule": "calendar_n"}),
    )
    exchange = forms.ChoiceField(
        label="Market calendar",
        choices=EXCHANGES,
        initial="XNYS",
        help_text="Its holidays are skipped.",
        widget=forms.Select(attrs={"data-rule": "exchange"}),
    )
    time = forms.TimeField(
        label="Local time",
        required=False,
        initial=dt.time(8, 0),
        widget=forms.TimeInput(attrs={"type": "time", "data-rule": "time"}, format="%H:%M"),
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        initial="Europe/London",
        widget=forms.Select(attrs={"data-rule": "timezone"}),
    )
    period = forms.ChoiceField(choices=period_choices, initial="previous_month")
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES,
        initial=DEFAULT_FORMATS,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-row"}),
    )
    channels = forms.MultipleChoiceField(
        choices=DeliveryChannel.choices,
        initial=[DeliveryChannel.EMAIL],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-row"}),
    )
    recipient_users = forms.CharField(
        label="Users",
        required=False,
        help_text="Usernames, separated by commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    recipient_teams = forms.MultipleChoiceField(
        label="Teams",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "check-list"}),
    )
    recipient_emails = forms.CharField(
        label="External e-mail addresses",
        required=False,
        help_text="One a line; only addresses an administrator has allowed.",
        widget=forms.Textarea(attrs={"rows": "2"}),
    )
    webhook_url = forms.CharField(
        label="Webhook URL",
        required=False,
        max_length=500,
        help_text="For the webhook channel; its host must be allowed by an administrator.",
    )
    burst = forms.BooleanField(
        label="One file per portfolio (burst)",
        required=False,
    )
    copies = forms.ChoiceField(
        choices=ScheduleCopies.choices,
        initial=ScheduleCopies.PER_RECIPIENT,
        widget=forms.RadioSelect(attrs={"class": "check-list"}),
    )
    ready_wait_minutes = forms.IntegerField(
        label="Wait for complete data (minutes)",
        min_value=0,
        initial=120,
    )
    incomplete_action = forms.ChoiceField(
        label="If the data is still incomplete",
        choices=ScheduleIncompleteAction.choices,
        initial=ScheduleIncompleteAction.SEND_WITH_BANNER,
        widget=forms.RadioSelect(attrs={"class": "check-list"}),
    )
    missed_action = forms.ChoiceField(
        label="A slot missed while the portal was down",
        choices=ScheduleMissedAction.choices,
        initial=ScheduleMissedAction.RUN_ONCE,
        widget=forms.RadioSelect(attrs={"class": "check-list"}),
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args: Any, user: User, exchange: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The export policy's forbidden formats are not offered (the owner's rules).
        allowed = export_formats_allowed(user=user, formats=[key for key, _ in FORMAT_CHOICES])
        self._choices("formats").choices = [
            (key, label) for key, label in FORMAT_CHOICES if key in allowed
        ]
        runnable = [
            template
            for template in selectors.report_templates_visible_to(user=user).order_by("name", "id")
            if selectors.report_template_allows(
                selectors.report_template_level(user=user, template=template), "run"
            )
        ]
        self._choices("template").choices = [("", "Choose a report")] + [
            (str(template.id), template.name) for template in runnable
        ]
        self._choices("portfolios").choices = [
            (portfolio.code, f"{portfolio.code} · {portfolio.name}")
            for portfolio in portfolio_list_visible_to(user=user)
            .filter(is_active=True)
            .order_by("code")
        ]
        teams = Team.objects.order_by("name")
        if not schedule_selectors.schedule_admin(user):
            teams = teams.filter(members=user)
        self._choices("recipient_teams").choices = [(str(team.id), team.name) for team in teams]
        if exchange and exchange not in dict(EXCHANGES):
            self._choices("exchange").choices = [*EXCHANGES, (exchange, exchange)]

    def _choices(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    @staticmethod
    def initial_of(schedule: Schedule) -> dict[str, Any]:
        return {
            "name": schedule.name,
            "template": str(schedule.template_id),
            "portfolios": list((schedule.parameters or {}).get("portfolios") or []),
            "rule_kind": "cron" if schedule.cron else "calendar",
            "cron": schedule.cron,
            "calendar_rule": schedule.calendar_rule or ScheduleCalendarRule.EVERY_BUSINESS_DAY,
            "calendar_n": schedule.calendar_n or 1,
            "exchange": schedule.exchange,
            "time": schedule.time or dt.time(8, 0),  # offered if switched to a calendar rule
            "timezone": schedule.timezone,
            "period": schedule.period,
            "formats": list(schedule.formats),
            "channels": list(schedule.channels),
            "recipient_users": ", ".join(
                schedule.recipient_users.order_by("username").values_list("username", flat=True)
            ),
            "recipient_teams": [
                str(team_id) for team_id in schedule.recipient_teams.values_list("id", flat=True)
            ],
            "recipient_emails": "\n".join(schedule.recipient_emails or []),
            "webhook_url": schedule.webhook_url,
            "burst": schedule.burst,
            "copies": schedule.copies,
            "ready_wait_minutes": schedule.ready_wait_minutes,
            "incomplete_action": schedule.incomplete_action,
            "missed_action": schedule.missed_action,
            "enabled": schedule.enabled,
        }

    def service_data(self) -> dict[str, Any]:
        """The cleaned form in the API's shape (``reports.services.schedules``)."""
        data = self.cleaned_data
        calendar = data["rule_kind"] == "calendar"
        calendar_rule = data.get("calendar_rule") or ""
        if calendar and calendar_rule == ScheduleCalendarRule.NTH_BUSINESS_DAY:
            calendar_rule = f"{calendar_rule}:{data.get('calendar_n') or 1}"
        local_time = data.get("time")
        return {
            "name": data["name"],
            "template": int(data["template"]),
            "portfolios": list(data["portfolios"]),
            "cron": None if calendar else data.get("cron", "").strip(),
            "calendar_rule": calendar_rule if calendar else None,
            "exchange": data["exchange"],
            "time": local_time.strftime("%H:%M") if calendar and local_time else None,
            "timezone": data["timezone"],
            "period": data["period"],
            "formats": list(data["formats"]),
            "channels": list(data["channels"]),
            "recipients": {
                "users": [name for name in re.split(r"[\s,;]+", data["recipient_users"]) if name],
                "teams": [int(team_id) for team_id in data["recipient_teams"]],
                "emails": [
                    email for email in re.split(r"[\s,;]+", data["recipient_emails"]) if email
                ],
            },
            "webhook_url": data["webhook_url"].strip() or None,
            "burst": data["burst"],
            "copies": data["copies"],
            "ready_wait_minutes": data["ready_wait_minutes"],
            "incomplete_action": data["incomplete_action"],
            "missed_action": data["missed_action"],
            "enabled": data["enabled"],
        }

    def add_service_error(self, error: ReportInvalid) -> None:
        """A service's refusal on the field it names (the form's own name for it)."""
        field = FORM_FIELD_OF.get(error.field or "", error.field)
        if field in ("cron", "calendar_rule") and self.cleaned_data.get("rule_kind") == "calendar":
            field = "calendar_rule"
        if field is None or field not in self.fields:
            label = (error.field or "").replace("_", " ").capitalize()
            self.add_error(None, f"{label}: {error.message}" if label else error.message)
            return
        self.add_error(field, error.message)


def form_preview(form: ScheduleForm, schedule: Schedule | None) -> tuple[list[str], str]:
    """The next ten run times the form shows on load (in the rule's zone), and a
    sentence when the rule as entered is not valid."""
    now = timezone.now()
    if not form.is_bound and schedule is not None:
        zone = schedule_zone(schedule)
        runs = schedule_services.schedule_preview(schedule=schedule, start=now, count=PREVIEW_COUNT)
        return [preview_text(moment, zone) for moment in runs], ""
    values = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}

    def value(name: str) -> Any:
        if name in values:
            return values[name]
        return form.initial.get(name, form.fields[name].initial)

    try:
        calendar = value("rule_kind") == "calendar"
        rule_text = value("calendar_rule") or ""
        if calendar and rule_text == ScheduleCalendarRule.NTH_BUSINESS_DAY:
            rule_text = f"{rule_text}:{value('calendar_n') or 1}"
        calendar_rule, calendar_n = calendar_rule_parse(rule_text) if calendar else (None, None)
        rule = TimeRule(
            cron=None if calendar else (value("cron") or "").strip() or None,
            calendar_rule=calendar_rule,
            calendar_n=calendar_n,
            exchange=value("exchange") or "XNYS",
            time=value("time") if calendar else None,
            timezone=value("timezone") or "UTC",
        )
        runs = schedule_services.schedule_preview(rule=rule, start=now, count=PREVIEW_COUNT)
    except (ScheduleTimeError, ReportInvalid, ValueError) as error:
        return [], str(getattr(error, "message", error))
    zone = ZoneInfo(rule.timezone)
    return [preview_text(moment, zone) for moment in runs], ""


def _render_form(
    request: AuthenticatedHttpRequest, form: ScheduleForm, schedule: Schedule | None
) -> HttpResponse:
    preview, preview_error = form_preview(form, schedule)
    return render(
        request,
        "reports/schedules/form.html",
        {
            "form": form,
            "schedule": schedule,
            "preview": preview,
            "preview_error": preview_error,
            "preview_url": reverse("api-schedule-rule-preview"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new schedule of the user's (a template may be preselected: ``?template=``)."""
    if request.method != "POST":
        initial = {"template": request.GET.get("template", "")}
        return _render_form(request, ScheduleForm(user=request.user, initial=initial), None)
    form = ScheduleForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            schedule = schedule_services.schedule_create(
                user=request.user, data=form.service_data(), origin=RequestOrigin.of(request)
            )
        except ReportInvalid as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Schedule “{schedule.name}” created.")
            return redirect("reports:schedule-detail", schedule_id=schedule.pk)
    return _render_form(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    """Edit a schedule (owner or administrator); its next run is recomputed from now."""
    schedule = _schedule_for_change(request, schedule_id)
    if request.method != "POST":
        form = ScheduleForm(
            user=request.user, initial=ScheduleForm.initial_of(schedule), exchange=schedule.exchange
        )
        return _render_form(request, form, schedule)
    form = ScheduleForm(request.POST, user=request.user, exchange=schedule.exchange)
    if form.is_valid():
        try:
            schedule_services.schedule_update(
                user=request.user,
                schedule=schedule,
                data=form.service_data(),
                origin=RequestOrigin.of(request),
            )
        except ReportInvalid as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Schedule “{schedule.name}” saved.")
            return redirect("reports:schedule-detail", schedule_id=schedule.pk)
    return _render_form(request, form, schedule)


# --- A schedule's page


@dataclass(frozen=True)
class DeliveryRow:
    delivery: Delivery
    recipient: str
    can_retry: bool


@dataclass(frozen=True)
class OccurrenceBlock:
    occurrence: ScheduleOccurrence
    slot: str
    deliveries: list[DeliveryRow]


def _recipient_text(delivery: Delivery) -> str:
    if delivery.recipient is not None:
        return _person(delivery.recipient)
    if delivery.channel == DeliveryChannel.WEBHOOK:
        return "Webhook"
    return delivery.address


@login_required
@require_GET
def schedule_detail(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    """A schedule: its rule and settings, the next ten runs, and its occurrences
    (latest first, paged) with every delivery's state, attempts and confirmation."""
    schedule = schedule_selectors.schedule_get_for_user(user=request.user, schedule_id=schedule_id)
    zone = schedule_zone(schedule)
    can_change = _may_change(request.user, schedule)
    preview = (
        [
            preview_text(moment, zone)
            for moment in schedule_services.schedule_preview(
                schedule=schedule, start=timezone.now(), count=PREVIEW_COUNT
            )
        ]
        if schedule.enabled
        else []
    )
    page = Paginator(
        schedule_selectors.schedule_occurrences(schedule=schedule), OCCURRENCES_PER_PAGE
    ).get_page(request.GET.get("page"))
    occurrences = list(page)
    by_occurrence: dict[int, list[DeliveryRow]] = {o.pk: [] for o in occurrences}
    for delivery in (
        schedule_selectors.schedule_deliveries(schedule=schedule)
        .filter(occurrence__in=occurrences)
        .order_by("recipient__username", "address", "channel", "portfolio__code", "id")
    ):
        by_occurrence[delivery.occurrence_id].append(
            DeliveryRow(
                delivery=delivery,
                recipient=_recipient_text(delivery),
                can_retry=can_change and delivery.state == DeliveryState.FAILED,
            )
        )
    blocks = [
        OccurrenceBlock(
            occurrence=occurrence,
            slot=local_text(occurrence.slot_at, zone),
            deliveries=by_occurrence[occurrence.pk],
        )
        for occurrence in occurrences
    ]
    return render(
        request,
        "reports/schedules/detail.html",
        {
            "schedule": schedule,
            "rule": rule_description(schedule),
            "calendar_rule": calendar_rule_text(schedule),
            "period_label": period_label(schedule.period),
            "channel_labels": [
                DeliveryChannel(channel).label
                for channel in schedule.channels
                if channel in DeliveryChannel.values
            ],
            "next_run": local_text(schedule.next_run_at, zone),
            "last_run": local_text(schedule.last_run_at, zone),
            "preview": preview,
            "page": page,
            "blocks": blocks,
            "can_change": can_change,
            "recipient_users": [
                _person(user) for user in schedule.recipient_users.order_by("username")
            ],
            "recipient_teams": [team.name for team in schedule.recipient_teams.order_by("name")],
            "portfolios": (schedule.parameters or {}).get("portfolios") or [],
            "here": request.get_full_path(),
        },
    )


# --- Actions (POST; owner or administrator)


@login_required
@require_POST
def schedule_pause(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_for_change(request, schedule_id)
    schedule_services.schedule_pause(
        user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
    )
    messages.success(request, f"“{schedule.name}” is paused: it will not run until resumed.")
    return _back(request, reverse("reports:schedule-detail", args=[schedule.pk]))


@login_required
@require_POST
def schedule_resume(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_for_change(request, schedule_id)
    try:
        schedule = schedule_services.schedule_resume(
            user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
        )
    except ReportInvalid as error:
        messages.error(request, f"“{schedule.name}” was not resumed: {error.message}")
    else:
        next_run = local_text(schedule.next_run_at, schedule_zone(schedule))
        messages.success(
            request,
            f"“{schedule.name}” is resumed"
            + (f": next run {next_run}." if next_run else ", but its rule has no slot left."),
        )
    return _back(request, reverse("reports:schedule-detail", args=[schedule.pk]))


@login_required
@require_POST
def schedule_run_now(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_for_change(request, schedule_id)
    try:
        schedule_services.schedule_run_now(
            user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
        )
    except ReportInvalid as error:
        messages.error(request, f"“{schedule.name}” was not run: {error.message}")
    else:
        messages.success(request, f"“{schedule.name}” is running now; its deliveries appear below.")
    return _back(request, reverse("reports:schedule-detail", args=[schedule.pk]))


@login_required
@require_POST
def schedule_delete(request: AuthenticatedHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_for_change(request, schedule_id)
    name = schedule.name
    schedule_services.schedule_delete(
        user=request.user, schedule=schedule, origin=RequestOrigin.of(request)
    )
    messages.success(request, f"Schedule “{name}” deleted; what it delivered is kept.")
    return redirect("reports:schedules")


@login_required
@require_POST
def delivery_retry(request: AuthenticatedHttpRequest, delivery_id: int) -> HttpResponse:
    from reports.services.deliveries import delivery_retry as retry

    delivery = schedule_selectors.delivery_get_for_user(user=request.user, delivery_id=delivery_id)
    if not _may_change(request.user, delivery.schedule):
        raise PermissionDenied(
            "Only the schedule's owner or an administrator may retry its deliveries."
        )
    try:
        retry(user=request.user, delivery=delivery, origin=RequestOrigin.of(request))
    except ReportInvalid as error:
        messages.error(request, f"The delivery was not retried: {error.message}")
    else:
        messages.success(request, f"The delivery to {_recipient_text(delivery)} is queued again.")
    return _back(request, reverse("reports:schedule-detail", args=[delivery.schedule_id]))
