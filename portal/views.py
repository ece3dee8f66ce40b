"""Portal-wide pages: the home redirect and a health check for load balancers."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    return redirect("portfolio-list" if request.user.is_authenticated else "login")


def health(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; used by the quickstart runner and probes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
