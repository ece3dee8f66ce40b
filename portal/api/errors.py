"""Every error under ``/api/`` answers JSON, ``{"detail": "..."}`` as DRF's own do.

* ``api_exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``): DRF's
  handler, plus a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's
  ``RequestDataTooBig``, which Django would answer with a 400 page) answered
  413 with the limit in bytes.
* ``ApiErrorsJsonMiddleware``: any other error response under ``/api/`` that is
  not JSON (Django's 404 for an unknown URL, its 500 page for an uncaught
  exception, which Django has logged by then, a CSRF refusal, the 400 of a
  suspicious request) becomes a JSON body with the same status. DRF's own
  responses keep their content negotiation (the browsable API answers HTML to a
  browser that asks for it). The HTML pages of other paths are not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler

API_PREFIX = "/api/"


def body_too_big_detail() -> dict[str, Any]:
    """The JSON body of a 413: what was wrong and the limit (bytes)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {
        "detail": (
            f"The request body is larger than the limit of {limit:,} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); send the rows in smaller batches."
        ),
        "limit_bytes": limit,
    }


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, and 413 for a body over the upload limit."""
    if isinstance(exc, RequestDataTooBig):
        return Response(body_too_big_detail(), status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return exception_handler(exc, context)


class ApiErrorsJsonMiddleware:
    """Error responses under ``/api/`` as JSON (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not _is_api(request) or response.status_code < 400 or _is_left_alone(response):
            return response
        return JsonResponse({"detail": _phrase(response.status_code)}, status=response.status_code)

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        """A body over the limit in a view that is not DRF's: 413 too."""
        if _is_api(request) and isinstance(exception, RequestDataTooBig):
            return JsonResponse(body_too_big_detail(), status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return None


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_left_alone(response: HttpResponseBase) -> bool:
    """JSON already, a DRF response (its renderer was negotiated), or streamed."""
    if isinstance(response, Response) or response.streaming:
        return True
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _phrase(status_code: int) -> str:
    """``Not found.``, ``Internal server error.``: the status's reason phrase."""
    try:
        return HTTPStatus(status_code).phrase.capitalize() + "."
    except ValueError:
        return f"Error {status_code}."
