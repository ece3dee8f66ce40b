"""Request types for views behind a login check: pages under ``login_required``
and API views under DRF's ``IsAuthenticated`` (the API's default permission).
There the user is a :class:`~portal.models.User`, never anonymous, so a view may
hand it to a service that acts as that user. Annotations only: nothing changes at
run time."""

from django.http import HttpRequest
from rest_framework.request import Request

from portal.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """An HTML view's request after ``login_required``."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF view's request after ``IsAuthenticated``."""

    user: User
