"""HTML forms of the compliance pages. They parse input; services validate
business rules and their ValidationErrors are shown on the same form."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from analytics.models import Instrument, Portfolio, TradeSide
from compliance.engine.templates import TEMPLATES
from compliance.models import RULE_KIND_CHOICES, AlertState, RuleScope, Severity
from portal.models import Team, User

STATE_CHOICES = [("active", "Needs attention"), ("", "All states"), *AlertState.choices]


class AlertFilterForm(forms.Form):
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False, initial="active")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    rule = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    portfolio = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    min_age = forms.IntegerField(required=False, min_value=0, label="Open at least (days)")
    max_age = forms.IntegerField(required=False, min_value=0, label="Open at most (days)")

    def __init__(self, *args, rules=(), portfolios=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", "Any rule")] + [(r.id, r.display_name) for r in rules]
        self.fields["portfolio"].choices = [("", "Any portfolio")] + [
            (p.id, p.code) for p in portfolios
        ]


class BulkAcknowledgeForm(forms.Form):
    alerts = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": "Select at least one alert."}
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Acknowledging an alert requires a comment."},
    )

    def __init__(self, *args, alert_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alerts"].choices = [(i, i) for i in alert_ids]


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class WaiveForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    comment = forms.CharField(required=False)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            (u.id, u.get_full_name() or u.username) for u in officers
        ]

    def clean_assignee(self) -> User:
        return User.objects.get(id=self.cleaned_data["assignee"])


class ScopeFields(forms.Form):
    scope = forms.ChoiceField(choices=RuleScope.choices, initial=RuleScope.PORTFOLIO)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    portfolio: forms.ModelChoiceField[Portfolio] = forms.ModelChoiceField(
        queryset=None, required=False
    )

    def __init__(self, *args, portfolios=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = portfolios


class RuleForm(ScopeFields):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=RULE_KIND_CHOICES)
    limit = forms.FloatField(min_value=0, help_text="Fractions: 0.10 = 10%; counts as numbers.")
    warning_level = forms.FloatField(initial=0.9, min_value=0.01, max_value=1)
    params = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Parameters as JSON, e.g. {"attribute": "sector", "group": "Energy"}.',
    )
    cure_period_days = forms.IntegerField(initial=5, min_value=0)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = (
        "name",
        "kind",
        "limit",
        "warning_level",
        "params",
        "scope",
        "team",
        "portfolio",
        "cure_period_days",
        "description",
    )

    def clean_params(self):
        text = self.cleaned_data["params"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(f"Not valid JSON: {error.msg}.") from None
        if not isinstance(value, dict):
            raise ValidationError("Give an object of parameter names and values.")
        return value


class RuleEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    limit = forms.FloatField(min_value=0)
    warning_level = forms.FloatField(min_value=0.01, max_value=1)
    params = RuleForm.base_fields["params"]
    cure_period_days = forms.IntegerField(min_value=0)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    clean_params = RuleForm.clean_params


class TemplateForm(ScopeFields):
    template = forms.ChoiceField(choices=[(k, t.name) for k, t in TEMPLATES.items()])
    # Django renders help text as HTML: a "<code>" placeholder would open a tag.
    reference = forms.CharField(
        required=False,
        help_text="18f-4 relative test only: benchmark (default), benchmark:CODE or "
        "portfolio:CODE.",
    )


class PreTradeForm(forms.Form):
    portfolio: forms.ModelChoiceField[Portfolio] = forms.ModelChoiceField(queryset=None)
    instrument = forms.CharField(max_length=32, help_text="Identifier, e.g. AAPL")
    side = forms.ChoiceField(choices=TradeSide.choices)
    quantity = forms.DecimalField(min_value=0, max_digits=24, decimal_places=6)
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=24,
        decimal_places=6,
        help_text="Default: the latest close.",
    )

    def __init__(self, *args, portfolios=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = portfolios

    def clean_instrument(self):
        identifier = self.cleaned_data["instrument"].strip()
        instrument = Instrument.objects.filter(identifier__iexact=identifier).first()
        if instrument is None:
            raise ValidationError(f"No instrument {identifier!r}.")
        return instrument

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity <= 0:
            raise ValidationError("Enter a quantity greater than 0.")
        return quantity
