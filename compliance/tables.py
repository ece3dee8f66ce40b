"""The long tables of the compliance pages (the alert queue, the rules list):
their sortable columns and the values they sort on.

Both tables sort in the database and page on the server (``?sort=`` and
``?page=`` in the URL, with the filters), so a link reproduces the view. A column
shown as computed text (a person's full name, a rule's kind, scope or template) sorts on the same
text, annotated onto the queryset here, so the order matches what the page shows.
"""

from __future__ import annotations

from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Concat

from analytics.selectors.records import person_name
from compliance.engine.kinds import KINDS
from compliance.engine.templates import TEMPLATES
from compliance.models import Alert, Rule, RuleScope
from portal.sorting import SortColumn

PER_PAGE = 50
"""Rows per page of both tables."""


ALERT_COLUMNS = (
    SortColumn("id", "Alert", field="id", numeric=True),
    SortColumn("portfolio", "Portfolio", field="portfolio__code"),
    SortColumn("rule", "Rule", field="rule__name", css="wide-only"),
    SortColumn("severity", "Severity"),  # "breach" before "warning": breaches first
    SortColumn("state", "State"),
    SortColumn("utilisation", "Utilisation", field="last_utilisation", numeric=True, css="num"),
    SortColumn("opened_on", "Open since", numeric=True, css="wide-only"),
    SortColumn("assignee", "Assignee", field="assignee_name", css="wide-only"),
)
ALERT_DEFAULT_SORT = "severity"
"""Without ``?sort=`` the queue keeps the selector's order: breaches first, then
the newest (severity ascending, as the header says, then by open date)."""


def alerts_sortable(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """The alerts with what their columns sort on."""
    return alerts.annotate(assignee_name=person_name("assignee"))


RULE_COLUMNS = (
    SortColumn("name", "Rule"),
    SortColumn("kind", "Kind", field="kind_name", css="wide-only"),
    SortColumn("scope", "Scope", field="scope_name"),
    SortColumn("limit", "Limit", numeric=True, css="num"),
    SortColumn("warning_level", "Warn at", numeric=True, css="num wide-only"),
    SortColumn("template", "Template", field="template_name", css="wide-only"),
    SortColumn("status", "Status", field="is_active", numeric=True),
)
RULE_DEFAULT_SORT = "-status"
"""Without ``?sort=`` the list shows active rules first, each group by name."""


def rules_sortable(rules: QuerySet[Rule]) -> QuerySet[Rule]:
    """The rules (one row each: the selector's ``distinct`` is resolved into an id
    filter, so sorting on a related column cannot repeat a rule) with their kind,
    scope and template as the page names them."""
    return (
        Rule.objects.filter(id__in=rules.values("id"))
        .select_related("team", "portfolio")
        .annotate(
            scope_name=Case(
                When(scope=RuleScope.TEAM, then=Concat(Value("Team "), F("team__name"))),
                When(scope=RuleScope.PORTFOLIO, then=F("portfolio__code")),
                default=Value("All portfolios"),
                output_field=CharField(),
            ),
            kind_name=Case(
                *(When(kind=kind.value, then=Value(info.label)) for kind, info in KINDS.items()),
                default=F("kind"),
                output_field=CharField(),
            ),
            template_name=Case(
                *(When(template=key, then=Value(t.name)) for key, t in TEMPLATES.items()),
                default=Value(None),
                output_field=CharField(),
            ),
        )
        .order_by("-is_active", "name", "id")
    )
