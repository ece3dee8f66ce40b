"""Serializers of the reports API: the block catalog, template definitions (in and
out), versions, shares, run requests and runs with their files.

A definition travels as ``{"name", "description", "blocks": [{"kind",
"options"}], "parameters": {...}, "layout": {...}}``, the JSON of
``reports.models`` (portfolios by code, the team by id, dates ISO 8601); the
services check it (``reports.definition.definition_clean``), so these serializers
only parse types and describe the schema.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import Role
from reports.blocks import CATALOG
from reports.definition import SCOPES
from reports.models import RunStatus, ShareLevel
from reports.periods import PERIODS
from reports.renderers.base import FORMATS

# --- The block catalog


def catalog_data() -> list[dict[str, Any]]:
    """Every block of ``reports.blocks.CATALOG`` in the builder's order, as JSON:
    kind, title, description, per_portfolio and options (name, label, default,
    choices as ``{"value", "label"}``; no choices means a free value of the
    default's type)."""
    return [
        {
            "kind": block.kind,
            "title": block.title,
            "description": block.description,
            "per_portfolio": block.per_portfolio,
            "options": [
                {
                    "name": option.name,
                    "label": option.label,
                    "default": option.default,
                    "choices": [
                        {"value": value, "label": label} for value, label in option.choices
                    ],
                }
                for option in block.options
            ],
        }
        for block in CATALOG.values()
    ]


class ReportChoiceOutputSerializer(serializers.Serializer):
    value = serializers.JSONField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class ReportBlockOptionOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    default = serializers.JSONField(help_text="The value when the template does not set one.")
    choices = ReportChoiceOutputSerializer(many=True, help_text="Allowed values; empty: any value.")


class ReportBlockOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The catalog key stored in templates.")
    title = serializers.CharField()
    description = serializers.CharField()
    per_portfolio = serializers.BooleanField(
        help_text="True: one section per portfolio; false: one for all portfolios."
    )
    options = ReportBlockOptionOutputSerializer(many=True)


# --- Definitions


class ReportBlockInputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    options = serializers.DictField(required=False, default=dict)


class ReportParametersSerializer(serializers.Serializer):
    """The parameters of a template; any left out take their defaults."""

    scope = serializers.ChoiceField(
        choices=SCOPES,
        required=False,
        help_text=(
            "portfolios: the listed codes; entitled: every portfolio the running "
            "user may see; team: the team's portfolios the user may also see."
        ),
    )
    portfolios = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Portfolio codes."
    )
    team = serializers.IntegerField(required=False, allow_null=True, help_text="Team id.")
    period = serializers.ChoiceField(choices=[key for key, _ in PERIODS], required=False)
    start = serializers.DateField(required=False, allow_null=True, help_text="Custom period.")
    end = serializers.DateField(required=False, allow_null=True, help_text="Custom period.")
    benchmark = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="A benchmark code."
    )
    reporting_currency = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="ISO 4217 code."
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        for name in ("start", "end"):
            if values.get(name) is not None:
                values[name] = values[name].isoformat()
        return values


class ReportLayoutSerializer(serializers.Serializer):
    """Layout options; any left out take their defaults."""

    orientation = serializers.ChoiceField(choices=["portrait", "landscape"], required=False)
    accent_colour = serializers.CharField(required=False, help_text="Hex colour, #1f4e79.")
    logo = serializers.CharField(
        required=False, allow_blank=True, help_text="A path under the static files, or empty."
    )
    cover_page = serializers.BooleanField(required=False)
    disclaimer = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ReportDefinitionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    blocks = ReportBlockInputSerializer(many=True)
    parameters = ReportParametersSerializer(required=False, default=dict)
    layout = ReportLayoutSerializer(required=False, default=dict)


class ReportTemplateCreateInputSerializer(ReportDefinitionInputSerializer):
    slug = serializers.SlugField(
        required=False, max_length=100, help_text="Defaults to one made from the name."
    )


class ReportPreviewInputSerializer(ReportDefinitionInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReportTemplateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    is_builtin = serializers.BooleanField()
    access = serializers.CharField(
        help_text="Your level on it: owner, edit, run or view.", source="access_level"
    )
    version = serializers.IntegerField(source="latest.number")
    blocks = serializers.JSONField(source="latest.blocks")
    parameters = serializers.JSONField(source="latest.parameters")
    layout = serializers.JSONField(source="latest.layout")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReportVersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    blocks = serializers.JSONField()
    parameters = serializers.JSONField()
    layout = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


# --- Shares


class ReportShareInputSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="A username.")
    team = serializers.IntegerField(required=False, help_text="A team id.")
    level = serializers.ChoiceField(choices=ShareLevel.choices, default=ShareLevel.VIEW)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == ("team" in attrs):
            raise serializers.ValidationError(
                {"non_field_errors": ["Give either a user or a team."]}
            )
        return attrs


class ReportUnshareInputSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="A username.")
    team = serializers.IntegerField(required=False, help_text="A team id.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == ("team" in attrs):
            raise serializers.ValidationError(
                {"non_field_errors": ["Give either a user or a team."]}
            )
        return attrs


class ReportShareOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    team = serializers.IntegerField(source="team.id", allow_null=True, default=None)
    team_name = serializers.CharField(source="team.name", allow_null=True, default=None)
    level = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- Runs


def sees_tracebacks(user: Any) -> bool:
    """Whether ``user`` is an administrator, who sees a failed run's traceback."""
    return bool(user.is_superuser or getattr(user, "role", "") == Role.ADMIN)


def progress_of(run: Any) -> dict[str, Any]:
    """A run's progress: ``done`` of ``total`` steps, ``percent`` (0-100; 100 once
    the run has succeeded; a failed run stays where it stopped) and the ``step``
    text."""
    total = run.progress_total
    if run.status == RunStatus.SUCCEEDED:
        percent = 100.0
    elif total:
        percent = 100.0 * min(run.progress_done, total) / total
    else:
        percent = 0.0
    step = run.progress_label
    if not step:
        step = {"queued": "Waiting for a worker…", "running": "Starting…"}.get(run.status, "")
    return {"done": run.progress_done, "total": total, "percent": round(percent, 1), "step": step}


class ReportRunRequestInputSerializer(serializers.Serializer):
    """Run a saved template (``template``: its slug or id) or an unsaved
    ``definition``; ``portfolios``, ``period`` (with ``start``/``end`` for a
    custom one), ``benchmark`` and ``reporting_currency`` override the
    template's parameters."""

    template = serializers.CharField(required=False, help_text="A template's slug or id.")
    definition = ReportDefinitionInputSerializer(required=False, help_text="An ad hoc definition.")
    portfolios = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Portfolio codes."
    )
    period = serializers.ChoiceField(choices=[key for key, _ in PERIODS], required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    benchmark = serializers.CharField(required=False)
    reporting_currency = serializers.CharField(required=False)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=FORMATS), allow_empty=False, default=["pdf"]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("template" in attrs) == ("definition" in attrs):
            raise serializers.ValidationError(
                {"template": ["Give either a template or a definition."]}
            )
        return attrs

    def overrides(self) -> dict[str, Any]:
        """The parameter overrides given (dates as ISO strings)."""
        data = self.validated_data
        overrides: dict[str, Any] = {}
        for name in ("portfolios", "period", "benchmark", "reporting_currency"):
            if name in data:
                overrides[name] = data[name]
        for name in ("start", "end"):
            if name in data:
                overrides[name] = data[name].isoformat()
        return overrides


class ReportProgressOutputSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Steps finished (one per block, then per format).")
    total = serializers.IntegerField()
    percent = serializers.FloatField(help_text="0 to 100.")
    step = serializers.CharField(help_text="What is being done, or what was done last.")


class ReportPersonOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()


class ReportFileOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    format = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    sha256 = serializers.CharField()
    pages = serializers.IntegerField(allow_null=True)
    sheets = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, file: Any) -> str:
        return reverse("api-report-run-file", args=[file.run_id, file.name])


class ReportRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    template = serializers.CharField(source="template.slug", allow_null=True, default=None)
    template_version = serializers.IntegerField(
        source="version.number", allow_null=True, default=None
    )
    state = serializers.CharField(source="status")
    state_label = serializers.CharField(source="get_status_display")
    progress = serializers.SerializerMethodField()
    run_as = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    parameters = serializers.JSONField()
    formats = serializers.JSONField()
    requested_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    data_as_of = serializers.DateField(allow_null=True)
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named like Serializer.data
        help_text="Per portfolio code: data_version, snapshot_id, as_of, stale, period dates."
    )
    quality = serializers.JSONField(help_text="The data-quality summary at the time of the run.")
    warnings = serializers.JSONField()
    error = serializers.CharField(help_text="Why the run failed, for the user; empty otherwise.")
    traceback = serializers.SerializerMethodField()
    files = ReportFileOutputSerializer(many=True, source="files.all")
    url = serializers.SerializerMethodField(help_text="This run in the API.")
    page = serializers.SerializerMethodField(help_text="The run's page in the portal.")

    @staticmethod
    def _person(user: Any) -> dict[str, str] | None:
        if user is None:
            return None
        return {"username": user.username, "full_name": user.get_full_name() or user.username}

    @extend_schema_field(ReportProgressOutputSerializer)
    def get_progress(self, run: Any) -> dict[str, Any]:
        return dict(ReportProgressOutputSerializer(progress_of(run)).data)

    @extend_schema_field(ReportPersonOutputSerializer)
    def get_run_as(self, run: Any) -> dict[str, str] | None:
        return self._person(run.run_as)

    @extend_schema_field(ReportPersonOutputSerializer(allow_null=True))
    def get_requested_by(self, run: Any) -> dict[str, str] | None:
        return self._person(run.requested_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_traceback(self, run: Any) -> str | None:
        """Shown to administrators only (None for everyone else)."""
        request = self.context.get("request")
        if request is not None and sees_tracebacks(request.user):
            return run.traceback
        return None

    def get_url(self, run: Any) -> str:
        return reverse("api-report-run", args=[run.id])

    def get_page(self, run: Any) -> str:
        return reverse("reports:run-detail", args=[run.id])
