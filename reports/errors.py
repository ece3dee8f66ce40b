"""The reports app's domain errors. Services and selectors raise them; pages and
API views turn them into status codes (404, 403 and 400 with the message)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ReportNotFound(Http404):
    """The template, run or file does not exist *or* the user may not see it: the
    two are never told apart, so ids leak nothing (404)."""


class ReportPermissionDenied(PermissionDenied):
    """The user may see the object but not do this to it, such as editing a
    template shared with them to view only (403)."""


class ReportInvalid(ValueError):
    """Input a user can correct (400). ``field`` names the input at fault
    (``"blocks"``, ``"parameters"``, ``"portfolios"``, ``"period"``, ``"formats"``,
    ``"layout"``, ``"name"``...) or is None for the request as a whole;
    ``message`` is a sentence to show as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict[str, list[str]]:
        """The error in the shape of a form's or serializer's errors."""
        return {self.field or "non_field_errors": [self.message]}


class ReportBlockFailed(Exception):
    """A block raised while building its sections; the message names the block
    (“The block “Risk” failed: …”) and is what the run page shows."""
