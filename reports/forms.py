"""Forms of the report pages: the builder, a run request and a share.

The builder's form holds a template's whole definition. Each control that belongs
to it carries ``data-field`` (its path in the definition's JSON: ``name``,
``parameters.period``, ``layout.cover_page``...), which is how
``static/js/report_builder.js`` sends the draft to the preview API; the blocks
are one hidden JSON field the script edits. :meth:`TemplateForm.definition` gives
the same JSON the REST API takes, so pages and API hand the services one shape,
and the services (``reports.definition.definition_clean``) are the one validator:
this form only parses.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib.staticfiles import finders
from django.db.models import QuerySet

from analytics.models import Benchmark, Portfolio
from portal.models import Team, User
from reports.definition import PARAMETER_DEFAULTS
from reports.document import Layout
from reports.models import ShareLevel
from reports.periods import PERIODS
from reports.renderers.base import FORMATS

SCOPE_CHOICES = (
    ("entitled", "All my entitled portfolios"),
    ("portfolios", "Chosen portfolios"),
    ("team", "A team's portfolios"),
)
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "Excel", "csv": "CSV", "json": "JSON", "html": "HTML"}
FORMAT_CHOICES = tuple((key, FORMAT_LABELS.get(key, key.upper())) for key in FORMATS)
DEFAULT_FORMATS = ("pdf",)
LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


def _field(path: str, **attrs: str) -> dict[str, str]:
    return {"data-field": path, **attrs}


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def logo_choices() -> list[tuple[str, str]]:
    """``("", "No logo")`` and every static image whose path names a logo."""
    found: set[str] = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list([]):
            name = path.replace("\\", "/")
            if "logo" in name.lower() and name.lower().endswith(LOGO_SUFFIXES):
                found.add(name)
    return [("", "No logo"), *((name, name) for name in sorted(found))]


def currency_choices() -> list[tuple[str, str]]:
    """Each portfolio's base currency (the default) and every base currency in use."""
    codes = sorted(set(Portfolio.objects.values_list("base_currency", flat=True)))
    return [("", "Each portfolio's base currency"), *((code, code) for code in codes)]


class TemplateForm(forms.Form):
    """A template's definition (see the module docstring)."""

    name = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs=_field("name", autocomplete="off"))
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs=_field("description", rows="2"))
    )
    blocks = forms.CharField(widget=forms.HiddenInput, initial="[]")
    scope = forms.ChoiceField(
        label="Portfolios",
        choices=SCOPE_CHOICES,
        initial=PARAMETER_DEFAULTS["scope"],
        widget=forms.RadioSelect(attrs=_field("parameters.scope", **{"class": "choice-row"})),
        help_text="Whoever runs the report sees only the portfolios they are entitled to.",
    )
    portfolios = forms.MultipleChoiceField(
        label="Chosen portfolios",
        required=False,
        widget=forms.CheckboxSelectMultiple(
            attrs=_field("parameters.portfolios", **{"class": "check-list"})
        ),
    )
    team = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs=_field("parameters.team", **{"data-type": "int"})),
    )
    period = forms.ChoiceField(
        choices=PERIODS,
        initial=PARAMETER_DEFAULTS["period"],
        widget=forms.Select(attrs=_field("parameters.period")),
    )
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(
            attrs=_field("parameters.start", type="date", **{"data-empty": "null"})
        ),
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(
            attrs=_field("parameters.end", type="date", **{"data-empty": "null"})
        ),
    )
    benchmark = forms.ChoiceField(
        required=False,
        widget=forms.Select(attrs=_field("parameters.benchmark", **{"data-empty": "null"})),
        help_text="Compare every portfolio with this benchmark instead of its own.",
    )
    reporting_currency = forms.ChoiceField(
        required=False,
        widget=forms.Select(
            attrs=_field("parameters.reporting_currency", **{"data-empty": "null"})
        ),
    )
    orientation = forms.ChoiceField(
        choices=(("portrait", "Portrait"), ("landscape", "Landscape")),
        initial=Layout.orientation,
        widget=forms.RadioSelect(attrs=_field("layout.orientation", **{"class": "choice-row"})),
    )
    accent_colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        initial=Layout.accent_colour,
        error_messages={"invalid": "Enter a hex colour such as #1f4e79."},
        widget=forms.TextInput(attrs=_field("layout.accent_colour", type="color")),
    )
    cover_page = forms.BooleanField(
        required=False,
        initial=Layout.cover_page,
        widget=forms.CheckboxInput(attrs=_field("layout.cover_page", **{"data-type": "bool"})),
    )
    logo = forms.ChoiceField(required=False, widget=forms.Select(attrs=_field("layout.logo")))
    disclaimer = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs=_field("layout.disclaimer", rows="3")),
    )
    formats = forms.MultipleChoiceField(
        label="Formats of a run",
        choices=FORMAT_CHOICES,
        initial=DEFAULT_FORMATS,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-row"}),
    )

    def __init__(
        self,
        *args: Any,
        portfolios: QuerySet[Portfolio],
        teams: QuerySet[Team],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "portfolios").choices = [
            (p.code, f"{p.code} · {p.name}") for p in portfolios.order_by("code")
        ]
        _choice_field(self, "team").choices = [
            ("", "Choose a team"),
            *((t.id, t.name) for t in teams),
        ]
        _choice_field(self, "benchmark").choices = [
            ("", "Each portfolio's own"),
            *((b.code, f"{b.code} · {b.name}") for b in Benchmark.objects.order_by("code")),
        ]
        _choice_field(self, "reporting_currency").choices = currency_choices()
        _choice_field(self, "logo").choices = logo_choices()

    def clean_blocks(self) -> list[Any]:
        try:
            blocks = json.loads(self.cleaned_data["blocks"] or "[]")
        except ValueError:
            raise forms.ValidationError("The blocks could not be read.") from None
        if not isinstance(blocks, list):
            raise forms.ValidationError("The blocks could not be read.")
        return blocks

    def definition(self) -> dict[str, Any]:
        """The cleaned form as the definition JSON the services and the API take."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "blocks": data["blocks"],
            "parameters": {
                "scope": data["scope"],
                "portfolios": list(data["portfolios"]) if data["scope"] == "portfolios" else [],
                "team": data["team"] if data["scope"] == "team" else None,
                "period": data["period"],
                "start": data["start"].isoformat() if data["start"] else None,
                "end": data["end"].isoformat() if data["end"] else None,
                "benchmark": data["benchmark"] or None,
                "reporting_currency": data["reporting_currency"] or None,
            },
            "layout": {
                "orientation": data["orientation"],
                "accent_colour": data["accent_colour"],
                "cover_page": data["cover_page"],
                "logo": data["logo"],
                "disclaimer": data["disclaimer"],
            },
        }

    @classmethod
    def initial_from(
        cls, *, name: str, description: str, blocks: list, parameters: dict, layout: dict
    ) -> dict[str, Any]:
        """The form's initial data for a stored definition."""
        layout = {**vars(Layout()), **layout}
        parameters = {**PARAMETER_DEFAULTS, **parameters}
        return {
            "name": name,
            "description": description,
            "blocks": json.dumps(blocks),
            "scope": parameters["scope"],
            "portfolios": parameters["portfolios"],
            "team": parameters["team"],
            "period": parameters["period"],
            "start": parameters["start"],
            "end": parameters["end"],
            "benchmark": parameters["benchmark"] or "",
            "reporting_currency": parameters["reporting_currency"] or "",
            "orientation": layout["orientation"],
            "accent_colour": layout["accent_colour"],
            "cover_page": layout["cover_page"],
            "logo": layout["logo"],
            "disclaimer": layout["disclaimer"],
            "formats": list(DEFAULT_FORMATS),
        }

    def add_report_error(self, field: str | None, message: str) -> None:
        """A service's ``ReportInvalid`` on the field it names (else on the form)."""
        self.add_error(field if field in self.fields else None, message)


class RunForm(forms.Form):
    """The formats of a run requested from the library or a run page."""

    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES,
        error_messages={"required": "Choose at least one format."},
    )


class ShareForm(forms.Form):
    """Share a template with one user or one team at a level."""

    user = forms.ChoiceField(label="With a person", required=False)
    team = forms.TypedChoiceField(label="Or a team", required=False, coerce=int, empty_value=None)
    level = forms.ChoiceField(choices=ShareLevel.choices, initial=ShareLevel.VIEW)

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = (
            User.objects.filter(is_active=True)
            .exclude(pk=owner.pk)
            .order_by("last_name", "first_name", "username")
        )
        _choice_field(self, "user").choices = [
            ("", "Nobody"),
            *((u.username, u.get_full_name() or u.username) for u in people),
        ]
        _choice_field(self, "team").choices = [
            ("", "No team"),
            *((t.id, t.name) for t in Team.objects.order_by("name")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError("Choose either a person or a team.")
        return data
