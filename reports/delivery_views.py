"""The signed download link of a delivered report's file, ``/reports/d/<token>/``.

No login: the token is the credential (``reports.delivery_links``), since a link
in an e-mail or a webhook's body must open for its recipient wherever they are.
A good link answers the file, audited and with its SHA-256 headers, and confirms
the delivery; an expired one is a 410 page saying so, a changed or unknown one a
404 page, a withdrawn one (its recipient no longer entitled) a 410 page.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from portal.origins import RequestOrigin
from reports.delivery_links import (
    DeliveryLinkExpired,
    DeliveryLinkInvalid,
    DeliveryLinkWithdrawn,
    delivery_link_resolve,
)
from reports.services.deliveries import delivery_file_download


def _refused(request: HttpRequest, *, status: HTTPStatus, reason: str, kind: str) -> HttpResponse:
    response = render(
        request,
        "reports/delivery_link_refused.html",
        {
            "reason": reason,
            "kind": kind,
            "back_url": reverse("home"),
            "request_path": request.path,
        },
        status=status,
    )
    # The page names no file, but a proxy should keep no copy of a refusal either.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def delivery_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The file a delivery's signed link names (see the module)."""
    try:
        delivery, file = delivery_link_resolve(token)
    except DeliveryLinkExpired as error:
        return _refused(request, status=HTTPStatus.GONE, reason=str(error), kind="expired")
    except DeliveryLinkWithdrawn as error:
        return _refused(request, status=HTTPStatus.GONE, reason=str(error), kind="withdrawn")
    except DeliveryLinkInvalid as error:
        return _refused(request, status=HTTPStatus.NOT_FOUND, reason=str(error), kind="invalid")
    response = delivery_file_download(
        delivery=delivery, file=file, origin=RequestOrigin.of(request)
    )
    response["Cache-Control"] = "private, no-store"
    return response
