"""``{% portfolio_data_quality portfolio as dq %}``: the data-as-of date,
completeness and open findings of a portfolio, for any page, report or dashboard
that shows its numbers. The portfolio must already be authorised by the view
(``analytics.selectors.entitlements.portfolio_get_for_user``); the tag reads, it never
widens access."""

from django import template

from analytics.selectors.ingest import portfolio_data_quality

register = template.Library()


@register.simple_tag
def portfolio_data_quality_summary(portfolio, as_of=None):
    return portfolio_data_quality(portfolio=portfolio, as_of=as_of)
