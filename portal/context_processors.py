"""Template context shared by every page: the navigation of the portal's areas.

An area appears as a link once its app registers the named URL; until then it is
shown greyed out, so the layout stays stable as areas are added.
"""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

NAVIGATION = (
    ("portfolios", "Portfolios", "portfolio-list"),
    ("dashboards", "Dashboards", "dashboards:index"),
    ("reports", "Reports", "reports:index"),
    ("schedules", "Schedules", "reports:schedules"),
    ("compliance", "Compliance", "compliance:index"),
)


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def portal_areas() -> list[dict]:
    """The portal's areas as ``{"key", "label", "url"}`` (``url`` ``None`` until the
    area's app registers it). Reads no database, so the 500 page can show it."""
    return [
        {"key": key, "label": label, "url": _url_or_none(url_name)}
        for key, label, url_name in NAVIGATION
    ]


def navigation(request: HttpRequest) -> dict:
    items = portal_areas()
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        items.append({"key": "admin", "label": "Admin", "url": reverse("admin:index")})
    match = getattr(request, "resolver_match", None)
    active = ""
    if match is not None:
        active = match.namespace or (
            "portfolios" if match.url_name and "portfolio" in match.url_name else ""
        )
    return {"nav_items": items, "nav_active": active}
