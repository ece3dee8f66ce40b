"""HTML pages of reports: the library, the builder, a run and the run history.

Views parse input, call one selector or service and render. Every read goes
through ``reports.selectors`` (a template or run the user may not see is a 404,
one they may see but not change is a 403), so a page offers only the actions the
user may take: Run for ``run`` access, Edit for ``edit``, Sharing and Delete for
the owner. The builder's live preview calls the REST API
(``POST /api/reports/preview/``) from ``static/js/report_builder.js``; the run
page polls ``GET /api/reports/runs/{id}/`` from ``static/js/report_run.js``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.authenticated import AuthenticatedHttpRequest
from portal.export_policy import ExportPolicy, export_policy_of
from portal.models import Team, User
from portal.origins import RequestOrigin
from reports import selectors
from reports.api.serializers import catalog_data, progress_of, sees_tracebacks
from reports.api.views import version_latest
from reports.blocks import CATALOG
from reports.errors import ReportInvalid
from reports.file_exports import (
    report_file_download,
    report_run_zip_download,
    run_report_kinds,
    watermark_asked,
)
from reports.forms import (
    DEFAULT_FORMATS,
    FORMAT_CHOICES,
    FORMAT_LABELS,
    SCOPE_CHOICES,
    RunForm,
    ShareForm,
    TemplateForm,
)
from reports.models import ReportFile, ReportRun, ReportTemplate, ReportTemplateVersion, ShareLevel
from reports.periods import PERIODS
from reports.services import deliveries as delivery_services
from reports.services import runs as run_services
from reports.services import shares as share_services
from reports.services import templates as template_services

PERIOD_LABELS = dict(PERIODS)
SCOPE_LABELS = dict(SCOPE_CHOICES)
RUNS_PER_PAGE = 25


# --- Library


@dataclass(frozen=True)
class LibraryEntry:
    """A template as its library card shows it, with what the user may do."""

    template: ReportTemplate
    version: int
    block_titles: list[str]
    period_label: str
    scope_label: str
    owner_name: str
    share_level: str
    share_level_label: str
    can_run: bool
    can_edit: bool
    can_copy: bool
    formats: list[tuple[str, str]] = field(default_factory=list)


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _period_label(parameters: dict[str, Any]) -> str:
    key = parameters.get("period", "")
    if key == "custom" and parameters.get("start") and parameters.get("end"):
        return f"{parameters['start']} to {parameters['end']}"
    return PERIOD_LABELS.get(key, key)


def _scope_label(parameters: dict[str, Any]) -> str:
    scope = parameters.get("scope", "")
    if scope == "portfolios":
        codes = parameters.get("portfolios") or []
        return ", ".join(codes[:3]) + (f" and {len(codes) - 3} more" if len(codes) > 3 else "")
    return SCOPE_LABELS.get(scope, scope)


def _block_title(kind: str) -> str:
    block = CATALOG.get(kind)
    return block.title if block is not None else kind


def _entry(
    template: ReportTemplate,
    version: ReportTemplateVersion,
    *,
    user: User,
    policy: ExportPolicy,
) -> LibraryEntry:
    level = selectors.report_template_level(user=user, template=template)
    shared = not template.is_builtin and level not in (selectors.OWNER, None)
    return LibraryEntry(
        template=template,
        version=version.number,
        block_titles=[_block_title(block["kind"]) for block in version.blocks],
        period_label=_period_label(version.parameters),
        scope_label=_scope_label(version.parameters),
        owner_name=_person(template.owner),
        share_level=level if shared and level else "",
        share_level_label=ShareLevel(level).label if shared and level else "",
        can_run=selectors.report_template_allows(level, "run"),
        can_edit=not template.is_builtin and selectors.report_template_allows(level, "edit"),
        can_copy=level is not None,
        # Only the formats the export policy lets this user take of this report.
        formats=_formats_offered(
            policy, report_kinds=[str(block.get("kind")) for block in version.blocks]
        ),
    )


def _formats_offered(
    policy: ExportPolicy, *, report_kinds: Sequence[str] = ()
) -> list[tuple[str, str]]:
    allowed = policy.formats_allowed(
        formats=[key for key, _ in FORMAT_CHOICES], report_kinds=report_kinds
    )
    return [(key, label) for key, label in FORMAT_CHOICES if key in allowed]


def _latest_versions(templates: list[ReportTemplate]) -> dict[int, ReportTemplateVersion]:
    latest: dict[int, ReportTemplateVersion] = {}
    for version in ReportTemplateVersion.objects.filter(template__in=templates).order_by(
        "template", "number"
    ):
        latest[version.template_id] = version
    return latest


@login_required
@require_GET
def library(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's templates, those shared with them and the built-in ones."""
    templates = list(
        selectors.report_templates_visible_to(user=request.user)
        .select_related("owner")
        .order_by("name", "id")
    )
    latest = _latest_versions(templates)
    policy = export_policy_of(user=request.user)  # one query for every card's formats
    entries = [
        _entry(t, latest[t.id], user=request.user, policy=policy)
        for t in templates
        if t.id in latest
    ]
    mine = [
        e for e in entries if not e.template.is_builtin and e.template.owner_id == request.user.pk
    ]
    builtin = [e for e in entries if e.template.is_builtin]
    shared = [e for e in entries if e not in mine and e not in builtin]
    sections = [
        {
            "key": "mine",
            "title": "My reports",
            "entries": mine,
            "empty": (
                "You have no reports of your own yet: start a new one, or copy a built-in one."
            ),
        },
        {
            "key": "shared",
            "title": "Shared with me",
            "entries": shared,
            "empty": "Nobody has shared a report with you yet.",
        },
        {
            "key": "builtin",
            "title": "Built-in",
            "entries": builtin,
            "empty": "No built-in reports are installed.",
        },
    ]
    return render(
        request,
        "reports/library.html",
        {"sections": sections, "default_formats": DEFAULT_FORMATS},
    )


@login_required
@require_POST
def template_run(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    """Run a template with its own parameters in the formats chosen."""
    template = selectors.report_template_get_for_user(
        user=request.user, template=template_id, level="run"
    )
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"“{template.name}” was not run: choose at least one format.")
        return redirect("reports:index")
    try:
        run = run_services.report_run_request(
            user=request.user,
            template=template,
            formats=form.cleaned_data["formats"],
            origin=RequestOrigin.of(request),
        )
    except ReportInvalid as error:
        messages.error(request, f"“{template.name}” was not run: {error.message}")
        return redirect("reports:index")
    return redirect("reports:run-detail", run_id=run.pk)


# --- Builder


def _teams_of(user: User) -> QuerySet[Team]:
    teams = Team.objects.order_by("name")
    return teams if user.is_superuser else teams.filter(members=user)


def _builder_form(request: AuthenticatedHttpRequest, **kwargs: Any) -> TemplateForm:
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        portfolios=portfolio_list_visible_to(user=request.user).filter(is_active=True),
        teams=_teams_of(request.user),
        **kwargs,
    )
    # A run refuses a format the export policy forbids; the builder does not offer it.
    form.fields["formats"].choices = _formats_offered(  # type: ignore[attr-defined]
        export_policy_of(user=request.user)
    )
    return form


def _initial_of(version: ReportTemplateVersion, *, name: str | None = None) -> dict[str, Any]:
    return TemplateForm.initial_from(
        name=version.name if name is None else name,
        description=version.description,
        blocks=version.blocks,
        parameters=version.parameters,
        layout=version.layout,
    )


@dataclass
class SharePanel:
    shares: list[dict[str, Any]]
    levels: list[tuple[str, str]]
    form: ShareForm


def _share_panel(
    request: AuthenticatedHttpRequest, template: ReportTemplate, form: ShareForm | None = None
) -> SharePanel | None:
    """The owner's sharing panel; None for anyone else (they may not share)."""
    level = selectors.report_template_level(user=request.user, template=template)
    if template.is_builtin or not selectors.report_template_allows(level, selectors.OWNER):
        return None
    shares = [
        {
            "id": share.id,
            "recipient": _person(share.user) if share.user else f"Team {share.team}",
            "level": share.level,
        }
        for share in selectors.report_template_shares(template=template)
    ]
    owner = template.owner or request.user
    return SharePanel(
        shares=shares, levels=list(ShareLevel.choices), form=form or ShareForm(owner=owner)
    )


def _builder(
    request: AuthenticatedHttpRequest,
    *,
    template: ReportTemplate | None,
    initial: dict[str, Any],
) -> HttpResponse:
    form = _builder_form(request, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if form.is_valid():
            response = _builder_submit(request, form=form, template=template, action=action)
            if response is not None:
                return response
        return _builder_page(request, form=form, template=template, status=400)
    return _builder_page(request, form=form, template=template)


def _builder_page(
    request: AuthenticatedHttpRequest,
    *,
    form: TemplateForm,
    template: ReportTemplate | None,
    share_form: ShareForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The builder page: the form, the catalog and, for the owner, sharing and delete."""
    blocks = form["blocks"].value() or "[]"
    share_panel = _share_panel(request, template, share_form) if template else None
    return render(
        request,
        "reports/builder.html",
        {
            "form": form,
            "template": template,
            "version": version_latest(template) if template else None,
            "catalog": catalog_data(),
            "initial_blocks": blocks not in ("", "[]"),
            "share_panel": share_panel,
            # Sharing and deleting are both the owner's (the panel is None otherwise).
            "can_delete": share_panel is not None,
        },
        status=status,
    )


def _builder_submit(
    request: AuthenticatedHttpRequest,
    *,
    form: TemplateForm,
    template: ReportTemplate | None,
    action: str,
) -> HttpResponse | None:
    """Save the template or run the draft; None (errors on the form) when the
    services refused it."""
    definition = form.definition()
    origin = RequestOrigin.of(request)
    try:
        if action == "run":
            formats = form.cleaned_data["formats"]
            if not formats:
                form.add_error("formats", "Choose at least one format to run the report.")
                return None
            run = run_services.report_run_request(
                user=request.user, definition=definition, formats=formats, origin=origin
            )
            return redirect("reports:run-detail", run_id=run.pk)
        if template is None:
            created = template_services.report_template_create(
                user=request.user, origin=origin, **definition
            )
            messages.success(request, f"“{created.name}” saved.")
            return redirect("reports:template-edit", template_id=created.pk)
        version = template_services.report_template_update(
            user=request.user, template=template, origin=origin, **definition
        )
        messages.success(request, f"“{version.name}” saved as version {version.number}.")
        return redirect("reports:template-edit", template_id=template.pk)
    except ReportInvalid as error:
        form.add_report_error(error.field, error.message)
        return None


@login_required
def template_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new template, empty or (``?from=<id>``) starting from one the user may see."""
    initial: dict[str, Any] = TemplateForm.initial_from(
        name="", description="", blocks=[], parameters={}, layout={}
    )
    source = request.GET.get("from", "")
    if source.isdigit():
        original = selectors.report_template_get_for_user(user=request.user, template=int(source))
        version = version_latest(original)
        initial = _initial_of(version, name=f"{version.name} (copy)")
    return _builder(request, template=None, initial=initial)


@login_required
def template_edit(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    template = selectors.report_template_get_for_user(
        user=request.user, template=template_id, level="edit"
    )
    return _builder(request, template=template, initial=_initial_of(version_latest(template)))


@login_required
@require_POST
def template_share(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    """Share (``action=add``), change a share's level (``change``) or stop it (``revoke``)."""
    template = selectors.report_template_get_for_user(
        user=request.user, template=template_id, level="owner"
    )
    action = request.POST.get("action", "add")
    origin = RequestOrigin.of(request)
    edit_url = reverse("reports:template-edit", args=[template.pk]) + "#sharing"
    if action in ("change", "revoke"):
        share_id = request.POST.get("share", "")
        share = (
            selectors.report_template_shares(template=template)
            .filter(id=int(share_id) if share_id.isdigit() else 0)
            .first()
        )
        if share is None:
            messages.error(request, "That share no longer exists.")
            return redirect(edit_url)
        recipient = _person(share.user) if share.user else f"team {share.team}"
        if action == "revoke":
            share_services.report_template_unshare(actor=request.user, share=share, origin=origin)
            messages.success(request, f"No longer shared with {recipient}.")
            return redirect(edit_url)
        level = request.POST.get("level", "")
        try:
            share_services.report_template_share(
                actor=request.user,
                template=template,
                user=share.user,
                team=share.team,
                level=level,
                origin=origin,
            )
        except ReportInvalid as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{recipient} may now {level} it.")
        return redirect(edit_url)
    owner = template.owner or request.user
    form = ShareForm(request.POST, owner=owner)
    if form.is_valid():
        data = form.cleaned_data
        user = User.objects.filter(username=data["user"]).first() if data["user"] else None
        team = Team.objects.filter(id=data["team"]).first() if data["team"] else None
        try:
            share = share_services.report_template_share(
                actor=request.user,
                template=template,
                user=user,
                team=team,
                level=data["level"],
                origin=origin,
            )
        except ReportInvalid as error:
            form.add_error(None, error.message)
        else:
            who = _person(share.user) if share.user else f"team {share.team}"
            messages.success(request, f"Shared with {who} ({share.get_level_display().lower()}).")
            return redirect(edit_url)
    builder_form = TemplateForm(
        initial=_initial_of(version_latest(template)),
        portfolios=portfolio_list_visible_to(user=request.user).filter(is_active=True),
        teams=_teams_of(request.user),
    )
    return _builder_page(request, form=builder_form, template=template, share_form=form, status=400)


@login_required
@require_POST
def template_delete(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    template = selectors.report_template_get_for_user(
        user=request.user, template=template_id, level="owner"
    )
    name = template.name
    template_services.report_template_delete(
        user=request.user, template=template, origin=RequestOrigin.of(request)
    )
    messages.success(request, f"“{name}” deleted; its runs and files are kept.")
    return redirect("reports:index")


# --- Runs


@dataclass(frozen=True)
class FileView:
    name: str
    format: str
    format_label: str
    size: int
    sha256: str
    pages: int | None
    sheets: int | None
    url: str
    allowed: bool = True


@dataclass(frozen=True)
class PortfolioRow:
    code: str
    name: str
    as_of: str | None
    stale: bool
    data_version: int | None
    completeness: str
    open_findings: int | None


@dataclass
class RunView:
    """A run as its page and the history show it."""

    id: int
    title: str
    state: str
    state_label: str
    finished: bool
    percent: float
    step: str
    duration: str
    run_as: str
    requested_by: str
    requested_at: Any
    period_label: str
    template_name: str
    template_version: int | None
    template_url: str
    as_of: Any
    status_url: str
    files: list[FileView]
    failure_message: str = ""
    traceback: str = ""
    warnings: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    portfolios: list[PortfolioRow] = field(default_factory=list)
    can_run_again: bool = False
    zip_url: str = ""


def duration_text(seconds: float | None) -> str:
    """``0.8 s``, ``42 s``, ``3 min 05 s``, ``1 h 02 min``; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = math.floor(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _file_view(file: ReportFile, *, allowed: bool = True) -> FileView:
    return FileView(
        name=file.name,
        format=file.format,
        format_label=FORMAT_LABELS.get(file.format, file.format.upper()),
        size=file.size,
        sha256=file.sha256,
        pages=file.pages,
        sheets=file.sheets,
        url=reverse("reports:run-file", args=[file.run_id, file.name]),
        allowed=allowed,
    )


def _file_views(run: ReportRun, *, policy: ExportPolicy) -> list[FileView]:
    """The run's files, each marked whether the export ``policy`` (the viewer's)
    lets them take it."""
    files = list(run.files.all())
    allowed = set(
        policy.formats_allowed(
            formats={file.format for file in files}, report_kinds=run_report_kinds(run)
        )
    )
    return [_file_view(file, allowed=file.format in allowed) for file in files]


def _completeness(value: Any) -> str:
    if not isinstance(value, int | float):
        return ""
    return f"{value:.0%}" if value >= 0.995 or value == 0 else f"{value:.1%}"


def _portfolio_rows(run: ReportRun, *, names: dict[str, str]) -> list[PortfolioRow]:
    """One row per portfolio the run rendered: its data and its data quality then."""
    rows = []
    for code in run.data or {}:
        data = run.data.get(code) or {}
        quality = (run.quality or {}).get(code) or {}
        findings = quality.get("findings")
        rows.append(
            PortfolioRow(
                code=code,
                name=names.get(code, ""),
                as_of=data.get("as_of"),
                stale=bool(data.get("stale")),
                data_version=data.get("data_version"),
                completeness=_completeness(quality.get("completeness")),
                open_findings=sum(findings.values()) if isinstance(findings, dict) else None,
            )
        )
    return rows


def run_view(
    run: ReportRun, *, user: User, detail: bool = False, policy: ExportPolicy | None = None
) -> RunView:
    """The run as the history lists it, or (``detail``) as its page shows it; its
    files marked by the viewer's export ``policy`` (read here when not given)."""
    progress = progress_of(run)
    view = RunView(
        id=run.pk,
        title=run.title,
        state=run.status,
        state_label=run.get_status_display(),
        finished=run.is_finished,
        percent=progress["percent"],
        step=progress["step"],
        duration=duration_text(run.duration_seconds),
        run_as=_person(run.run_as),
        requested_by=_person(run.requested_by),
        requested_at=run.requested_at,
        period_label=_period_label(run.parameters),
        template_name=run.version.name if run.version else run.title,
        template_version=run.version.number if run.version else None,
        template_url="",
        as_of=run.data_as_of,
        status_url=reverse("api-report-run", args=[run.pk]),
        files=_file_views(run, policy=policy or export_policy_of(user=user)),
        warnings=list(run.warnings or []),
    )
    if not detail:
        return view
    if sum(file.allowed for file in view.files) > 1:
        view.zip_url = reverse("reports:run-files-zip", args=[run.pk])
    template = run.template
    level = (
        selectors.report_template_level(user=user, template=template)
        if template is not None
        else None
    )
    editable = template is not None and not template.is_builtin
    if template is not None and editable and selectors.report_template_allows(level, "edit"):
        view.template_url = reverse("reports:template-edit", args=[template.pk])
    view.failure_message = run.error
    view.traceback = run.traceback if sees_tracebacks(user) else ""
    names = dict(
        portfolio_list_visible_to(user=user)
        .filter(code__in=list(run.data or {}))
        .values_list("code", "name")
    )
    view.portfolios = _portfolio_rows(run, names=names)
    view.incomplete = list(run.incomplete or []) if run.is_finished else []
    view.can_run_again = run.requested_by_id == user.pk and (
        bool(run.definition) or selectors.report_template_allows(level, "run")
    )
    return view


@login_required
@require_GET
def run_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    runs = (
        selectors.report_runs_visible_to(user=request.user)
        .prefetch_related("files")
        .order_by("-requested_at", "-id")
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    policy = export_policy_of(user=request.user)  # one query for the whole page
    return render(
        request,
        "reports/run_list.html",
        {
            "page": page,
            "runs": [run_view(run, user=request.user, policy=policy) for run in page.object_list],
        },
    )


@login_required
@require_GET
def run_detail(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = selectors.report_run_get_for_user(user=request.user, run_id=run_id)
    # A recipient opening a report delivered to them confirms its delivery.
    delivery_services.deliveries_confirm_run_opened(user=request.user, run=run)
    return render(
        request, "reports/run_detail.html", {"run": run_view(run, user=request.user, detail=True)}
    )


@login_required
@require_POST
def run_again(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """The same report, parameters and formats again (a template's latest version)."""
    run = selectors.report_run_get_for_user(user=request.user, run_id=run_id)
    template = None
    if not run.definition:
        if run.template is None:
            messages.error(request, "The template of this run was deleted; it cannot run again.")
            return redirect("reports:run-detail", run_id=run.pk)
        template = selectors.report_template_get_for_user(
            user=request.user, template=run.template.pk, level="run"
        )
    try:
        again = run_services.report_run_request(
            user=request.user,
            template=template,
            definition=run.definition or None,
            parameters={k: v for k, v in run.parameters.items() if k != "portfolios_requested"},
            formats=run.formats,
            origin=RequestOrigin.of(request),
        )
    except ReportInvalid as error:
        messages.error(request, f"The report was not run again: {error.message}")
        return redirect("reports:run-detail", run_id=run.pk)
    return redirect("reports:run-detail", run_id=again.pk)


@login_required
@require_GET
def run_file(request: AuthenticatedHttpRequest, run_id: int, name: str) -> HttpResponseBase:
    """Download a run's file (audited, with its SHA-256 in the response headers;
    a PDF watermarked when asked with ``?watermark=1`` or by the setting). The
    export policy's refusal is the 403 page with its reason (audited)."""
    file = selectors.report_file_get_for_user(user=request.user, run_id=run_id, name=name)
    return report_file_download(
        file=file,
        user=request.user,
        origin=RequestOrigin.of(request),
        watermark=watermark_asked(request.GET),
    )


@login_required
@require_GET
def run_files_zip(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponseBase:
    """Every file of the run the user may export, as one ZIP with its manifest."""
    run = selectors.report_run_get_for_user(user=request.user, run_id=run_id)
    return report_run_zip_download(
        run=run,
        user=request.user,
        origin=RequestOrigin.of(request),
        watermark=watermark_asked(request.GET),
    )
