"""HTML pages: the alert queue, an alert, rules and templates, the pre-trade
check and in-app notifications. Views parse input, call one selector or service,
and render; every read goes through the entitlement-scoped selectors."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from plotly.utils import PlotlyJSONEncoder

from analytics.presentation.figures import utilisation_figure
from analytics.selectors.entitlements import portfolio_list_visible_to
from compliance import forms, selectors, tables
from compliance.engine.kinds import KINDS
from compliance.engine.templates import TEMPLATES
from compliance.models import Alert, RuleScope
from compliance.services import alerts as alert_services
from compliance.services import notifications as notification_services
from compliance.services import rules as rule_services
from compliance.services.evaluation.pretrade import pretrade_check
from compliance.services.remediation import remediation_status
from portal.authenticated import AuthenticatedHttpRequest
from portal.models import Role, User
from portal.origins import RequestOrigin
from portal.sorting import (
    Sort,
    SortColumn,
    SortError,
    queryset_sorted,
    rows_sorted,
    sort_headers,
    sort_parse,
)


def _add_errors(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form (unknown fields as form errors)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _sort(request: AuthenticatedHttpRequest, columns, default: str) -> Sort | SortError:
    """The sort the URL asks for, or the error that names the valid ones."""
    try:
        return sort_parse(request.GET, columns, default=default)
    except SortError as error:
        return error


def _bad_sort(request: AuthenticatedHttpRequest, error: SortError, *, title: str) -> HttpResponse:
    """400 for an unknown ``?sort=``: what went wrong, the valid sorts, and the way back."""
    return render(
        request,
        "compliance/bad_sort.html",
        {"title": title, "error": str(error), "back": request.path},
        status=400,
    )


def _sorted_page(request, queryset, columns: tuple[SortColumn, ...], sort: Sort):
    """``queryset`` in the order the URL asks for (its own order without ``?sort=``),
    paged on the server (``?page=``)."""
    if "sort" in request.GET:
        queryset = queryset_sorted(queryset, columns, sort)
    return Paginator(queryset, tables.PER_PAGE).get_page(request.GET.get("page"))


@login_required
def alert_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The compliance officer's queue: filters, sortable by any column and paged on
    the server (``?sort=``, ``?page=``, kept together with the filters in every
    link), and bulk acknowledge (POST). An unknown sort is a 400 naming the valid ones."""
    sort = _sort(request, tables.ALERT_COLUMNS, tables.ALERT_DEFAULT_SORT)
    if isinstance(sort, SortError):
        return _bad_sort(request, sort, title="Compliance alerts")
    visible = portfolio_list_visible_to(user=request.user).order_by("code")
    rules = selectors.rule_list_for_user(user=request.user).order_by("name")
    data = request.GET.copy()
    if "state" not in data:
        data["state"] = "active"
    filter_form = forms.AlertFilterForm(data, rules=rules, portfolios=visible)
    filters = selectors.AlertFilters(state="active")
    if filter_form.is_valid():
        cleaned = filter_form.cleaned_data
        filters = selectors.AlertFilters(
            state=cleaned["state"],
            severity=cleaned["severity"],
            rule_id=cleaned["rule"],
            portfolio_id=cleaned["portfolio"],
            min_age_days=cleaned["min_age"],
            max_age_days=cleaned["max_age"],
        )
    alerts = selectors.alert_list_for_user(user=request.user, filters=filters)
    # The server says why a comment is needed; the browser's own "required" bubble would not.
    bulk_form = forms.BulkAcknowledgeForm(use_required_attribute=False)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("alerts") if i.isdigit()]
        bulk_form = forms.BulkAcknowledgeForm(
            request.POST, alert_ids=ids, use_required_attribute=False
        )
        if bulk_form.is_valid():
            try:
                chosen = selectors.alerts_get_for_user(
                    user=request.user, alert_ids=bulk_form.cleaned_data["alerts"], decide=True
                )
                done = alert_services.alert_bulk_acknowledge(
                    alerts=chosen,
                    user=request.user,
                    comment=bulk_form.cleaned_data["comment"],
                    origin=RequestOrigin.of(request),
                )
            except ValidationError as error:
                _add_errors(bulk_form, error)
            else:
                messages.success(request, f"Acknowledged {len(done)} alert(s).")
                return redirect(request.get_full_path())
    page = _sorted_page(request, tables.alerts_sortable(alerts), tables.ALERT_COLUMNS, sort)
    return render(
        request,
        "compliance/alert_queue.html",
        {
            "filter_form": filter_form,
            "bulk_form": bulk_form,
            "page": page,
            "headers": sort_headers(request.GET, tables.ALERT_COLUMNS, sort),
            "sort_columns": tables.ALERT_COLUMNS,
            "sort": sort.param,
            "sort_asked": "sort" in request.GET,
            "can_decide": alert_services.user_can_decide(request.user),
            "selected": set(bulk_form["alerts"].value() or []),
        },
    )


def _officers_for(alert: Alert) -> list[User]:
    """Active compliance officers and administrators entitled to the alert's portfolio."""
    officers = User.objects.filter(is_active=True, role__in=[Role.COMPLIANCE_OFFICER, Role.ADMIN])
    return [
        u
        for u in officers.order_by("username")
        if portfolio_list_visible_to(user=u).filter(id=alert.portfolio_id).exists()
    ]


# Each decision of ``alert_services.ALERT_ACTIONS``: its form and its success message.
ACTIONS: dict[str, tuple[type[Form], str]] = {
    "acknowledge": (forms.CommentForm, "Acknowledged."),
    "resolve": (forms.CommentForm, "Resolved."),
    "reopen": (forms.CommentForm, "Reopened."),
    "waive": (forms.WaiveForm, "Waived."),
    "snooze": (forms.SnoozeForm, "Snoozed."),
    "assign": (forms.AssignForm, "Assigned."),
}


def _action_form(
    action: str, *, alert: Alert, officers: list[User], data: QueryDict | None = None
) -> Form:
    if action == "assign":
        return forms.AssignForm(
            data, prefix=action, officers=officers, initial={"assignee": alert.assignee_id}
        )
    form_class, _ = ACTIONS[action]
    return form_class(data, prefix=action)


def _people_named(history) -> dict[str, str]:
    """Full names of the users a history names by username (assignments)."""
    usernames = {
        name
        for event in history
        for name in (event.details.get("assignee"), event.details.get("previous_assignee"))
        if name
    }
    return {
        user.username: user.get_full_name() or user.username
        for user in User.objects.filter(username__in=usernames)
    }


@login_required
def alert_detail(request: AuthenticatedHttpRequest, alert_id: int) -> HttpResponse:
    """One alert: its facts, the decisions its state allows (an error is shown at
    the decision's own form, which the page scrolls to, and summarised at the top),
    the utilisation chart, the holdings behind it, any regulatory remediation, its
    observations and history."""
    alert = selectors.alert_get_for_user(user=request.user, alert_id=alert_id)
    officers = _officers_for(alert)
    allowed = alert_services.alert_actions_allowed(alert)
    action_forms = {name: _action_form(name, alert=alert, officers=officers) for name in allowed}
    failed_action = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            return HttpResponse("Unknown action.", status=400)
        alert = selectors.alert_get_for_user(user=request.user, alert_id=alert_id, decide=True)
        form = _action_form(action, alert=alert, officers=officers, data=request.POST)
        action_forms[action] = form
        if form.is_valid():
            try:
                alert_services.alert_decide(
                    action=action,
                    alert=alert,
                    user=request.user,
                    origin=RequestOrigin.of(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, ACTIONS[action][1])
                return redirect("compliance:alert-detail", alert_id=alert.id)
        failed_action = action
    series = selectors.rule_utilisation_series(rule=alert.rule, portfolio_id=alert.portfolio_id)
    figure = utilisation_figure(
        series,
        warning_level=alert.rule.warning_level,
        title=f"Utilisation of {alert.rule.name} on {alert.portfolio.code}",
    )
    as_of, causing = selectors.alert_causing_holdings(alert=alert)
    history = list(selectors.alert_history(alert=alert))
    return render(
        request,
        "compliance/alert_detail.html",
        {
            "alert": alert,
            "observations": selectors.alert_observations(alert=alert),
            "history": history,
            "people": _people_named(history),
            "remediation": remediation_status(alert=alert),
            "last_group": selectors.alert_last_group(alert=alert),
            "holdings": causing,
            "holdings_as_of": as_of,
            "figure": json.loads(json.dumps(figure, cls=PlotlyJSONEncoder)),
            "forms": action_forms,
            "failed_action": failed_action,
            "can_decide": alert_services.user_can_decide(request.user),
        },
        status=400 if failed_action else 200,
    )


def _portfolio_choices(user):
    return portfolio_list_visible_to(user=user).order_by("code")


def _scope_target(data: dict) -> dict:
    """The scope fields of a rule or template form as the services take them."""
    return {
        "scope": data["scope"],
        "team": data["team"] if data["scope"] == RuleScope.TEAM else None,
        "portfolio": data["portfolio"] if data["scope"] == RuleScope.PORTFOLIO else None,
    }


@login_required
def rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Rules that apply to the user's portfolios, sortable by any column and paged
    on the server (``?sort=``, ``?page=``), and (for those who configure rules)
    forms to add a rule or apply a regulatory template."""
    sort = _sort(request, tables.RULE_COLUMNS, tables.RULE_DEFAULT_SORT)
    if isinstance(sort, SortError):
        return _bad_sort(request, sort, title="Compliance rules")
    portfolios = _portfolio_choices(request.user)
    rule_form = forms.RuleForm(prefix="rule", portfolios=portfolios)
    template_form = forms.TemplateForm(prefix="template", portfolios=portfolios)
    can_configure = rule_services.user_can_configure_rules(request.user)
    status = 200
    if request.method == "POST":
        if not can_configure:
            raise PermissionDenied("Only administrators and compliance officers configure rules.")
        if "template-template" in request.POST:
            template_form = forms.TemplateForm(
                request.POST, prefix="template", portfolios=portfolios
            )
            if template_form.is_valid():
                data = template_form.cleaned_data
                try:
                    created = rule_services.template_apply(
                        user=request.user,
                        template=data["template"],
                        reference=data["reference"],
                        origin=RequestOrigin.of(request),
                        **_scope_target(data),
                    )
                except ValidationError as error:
                    _add_errors(template_form, error)
                else:
                    messages.success(request, f"Created {len(created)} rule(s) from the template.")
                    return redirect("compliance:rules")
        else:
            rule_form = forms.RuleForm(request.POST, prefix="rule", portfolios=portfolios)
            if rule_form.is_valid():
                data = rule_form.cleaned_data
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
                        **_scope_target(data),
                    )
                except ValidationError as error:
                    _add_errors(rule_form, error)
                else:
                    messages.success(request, f"Rule “{rule.name}” created.")
                    return redirect("compliance:rules")
        status = 400
    rules = tables.rules_sortable(selectors.rule_list_for_user(user=request.user))
    page = _sorted_page(request, rules, tables.RULE_COLUMNS, sort)
    return render(
        request,
        "compliance/rule_list.html",
        {
            "page": page,
            "headers": sort_headers(request.GET, tables.RULE_COLUMNS, sort),
            "sort_columns": tables.RULE_COLUMNS,
            "sort": sort.param,
            "sort_asked": "sort" in request.GET,
            "rule_form": rule_form,
            "template_form": template_form,
            "can_configure": can_configure,
            "templates": TEMPLATES.values(),
            "kinds": [(kind.value, info) for kind, info in KINDS.items()],
        },
        status=status,
    )


@login_required
def rule_detail(request: AuthenticatedHttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
    can_configure = rule_services.user_can_edit_rule(request.user, rule)
    initial = {
        "name": rule.name,
        "limit": rule.limit,
        "warning_level": rule.warning_level,
        "params": json.dumps(rule.params),
        "cure_period_days": rule.cure_period_days,
        "description": rule.description,
    }
    form = forms.RuleEditForm(initial=initial)
    status = 200
    if request.method == "POST":
        if not can_configure:
            raise PermissionDenied("You may not change this rule.")
        if request.POST.get("action") == "deactivate":
            rule_services.rule_deactivate(
                user=request.user, rule=rule, origin=RequestOrigin.of(request)
            )
            messages.success(request, "Rule deactivated; its history is kept.")
            return redirect("compliance:rules")
        form = forms.RuleEditForm(request.POST)
        if form.is_valid():
            try:
                rule_services.rule_update(
                    user=request.user,
                    rule=rule,
                    origin=RequestOrigin.of(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Rule saved.")
                return redirect("compliance:rule-detail", rule_id=rule.id)
        status = 400
    alerts = selectors.alert_list_for_user(
        user=request.user, filters=selectors.AlertFilters(rule_id=rule.id)
    )[:50]
    return render(
        request,
        "compliance/rule_detail.html",
        {
            "rule": rule,
            "form": form,
            "can_configure": can_configure,
            "alerts": alerts,
            "info": rule.kind_info,
        },
        status=status,
    )


@login_required
def pretrade(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Which rules a proposed trade would warn on or breach; changes nothing."""
    portfolios = _portfolio_choices(request.user)
    form = forms.PreTradeForm(request.POST or None, portfolios=portfolios)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = pretrade_check(
                    portfolio=data["portfolio"],
                    instrument=data["instrument"],
                    side=data["side"],
                    quantity=float(data["quantity"]),
                    price=float(data["price"]) if data["price"] is not None else None,
                )
            except ValidationError as error:
                _add_errors(form, error)
                status = 400
        else:
            status = 400
    return render(
        request, "compliance/pretrade.html", {"form": form, "result": result}, status=status
    )


HEADROOM_SORT_CHOICES = (
    ("-utilisation", "Utilisation, highest first"),
    ("utilisation", "Utilisation, lowest first"),
    ("headroom", "Headroom, least left first"),
    ("rule", "Rule, A to Z"),
    ("portfolio", "Portfolio, A to Z"),
    ("-as_of", "Evaluated, newest first"),
)
"""The sort menu of narrow screens, where the table's headers are hidden."""


@login_required
def headroom(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every active rule on every portfolio the user may see, at its latest
    evaluation: utilisation and headroom, sortable by any column (``?sort=``, the
    most used first by default), so what is about to breach is on top."""
    try:
        sort = sort_parse(
            request.GET, selectors.HEADROOM_COLUMNS, default=selectors.HEADROOM_DEFAULT_SORT
        )
    except SortError as error:
        return render(
            request,
            "compliance/headroom.html",
            {"error": str(error), "rows": [], "headers": []},
            status=400,
        )
    rows = rows_sorted(
        selectors.headroom_list_for_user(user=request.user), selectors.HEADROOM_COLUMNS, sort
    )
    return render(
        request,
        "compliance/headroom.html",
        {
            "rows": rows,
            "headers": sort_headers(request.GET, selectors.HEADROOM_COLUMNS, sort),
            "sort": sort.param,
            "sort_choices": HEADROOM_SORT_CHOICES,
        },
    )


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications = selectors.notification_list_for_user(user=request.user)
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(request, "compliance/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("notifications") if i.isdigit()]
    if request.POST.get("all"):
        ids = list(
            selectors.notification_list_for_user(user=request.user)
            .filter(message__read_at__isnull=True)
            .values_list("id", flat=True)
        )
    count = notification_services.notification_mark_read(user=request.user, notification_ids=ids)
    messages.success(request, f"Marked {count} notification(s) read.")
    return redirect("compliance:notifications")
