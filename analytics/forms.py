"""Filter forms of the portfolio pages' long tables (GET forms: the filters sit in
the URL with the sort and the page)."""

from django import forms

from analytics.models import FindingKind, Severity, TradeSide
from analytics.selectors.records import FINDING_STATUSES


class TradeFilterForm(forms.Form):
    side = forms.ChoiceField(choices=[("", "Buys and sells"), *TradeSide.choices], required=False)
    instrument = forms.CharField(required=False, max_length=64, label="Instrument")
    start = forms.DateField(
        required=False, label="Traded from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="Traded to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date.")
        return cleaned


class FindingFilterForm(forms.Form):
    status = forms.ChoiceField(choices=FINDING_STATUSES.items(), required=False, initial="open")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *FindingKind.choices], required=False)
