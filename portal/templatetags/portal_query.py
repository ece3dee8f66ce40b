"""``{% query_with name=value %}``: the current URL's query string with some
parameters replaced (pagination and filter links keep the sort and the rest)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    params = context["request"].GET.copy()
    for name, value in changes.items():
        params[name] = value
    return f"?{params.urlencode()}"
