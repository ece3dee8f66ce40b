"""Template context shared by every page: the navigation of the portal's areas
and the inbox link with the user's unread count.

An area appears as a link once its app registers the named URL; until then it is
shown greyed out, so the layout stays stable as areas are added.
"""

from django.http import HttpRequest
from django.urls import NoReverseMatch, ResolverMatch, reverse

from portal.audit_selectors import audit_readable_by
from portal.models import InboxMessage

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


def _active_area(match: ResolverMatch | None) -> str:
    """The area a page belongs to: its URL namespace, except that the schedule
    pages (named ``schedule…``/``delivery…`` in ``reports``) are "Schedules", the
    inbox is "inbox" and the portfolio pages (no namespace) "portfolios"."""
    if match is None:
        return ""
    name = match.url_name or ""
    if match.namespace == "reports" and name.startswith(("schedule", "delivery")):
        return "schedules"
    if not match.namespace and name.startswith("inbox"):
        return "inbox"
    if not match.namespace and name.startswith("audit"):
        return "audit"
    return match.namespace or ("portfolios" if "portfolio" in name else "")


def navigation(request: HttpRequest) -> dict:
    """The areas, the audit log for those who may read it, the admin link for
    staff, the active area, and the signed-in user's inbox link with its unread
    count (one indexed COUNT per page)."""
    items = portal_areas()
    user = getattr(request, "user", None)
    if user is not None and audit_readable_by(user):
        items.append({"key": "audit", "label": "Audit log", "url": reverse("audit")})
    if user is not None and user.is_staff:
        items.append({"key": "admin", "label": "Admin", "url": reverse("admin:index")})
    inbox_unread = 0
    if user is not None and user.is_authenticated:
        inbox_unread = InboxMessage.objects.filter(recipient=user, read_at__isnull=True).count()
    return {
        "nav_items": items,
        "nav_active": _active_area(getattr(request, "resolver_match", None)),
        "inbox_url": _url_or_none("inbox"),
        "inbox_unread": inbox_unread,
    }
