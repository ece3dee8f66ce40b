"""The signed download link of a delivered report's file, ``/reports/d/<token>/``.

No login: the token is the credential (``reports.delivery_links``), since a link
in an e-mail or a webhook's body must open for its recipient wherever they are.
A good link answers the file, audited and with its SHA-256 headers, and confirms
the delivery. Every refusal is a 403 page saying why, and one
``DOWNLOAD_REFUSED`` audit event with the ``reason`` (``expired``, ``tampered``:
changed or not made by the portal, ``withdrawn``: its recipient no longer
entitled, its file replaced..., ``policy``: the export policy forbids it), the
client's IP and user agent, and the delivery and file a genuine token named.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from portal.origins import RequestOrigin
from reports.delivery_links import DeliveryLinkInvalid, delivery_link_resolve
from reports.file_exports import ExportRefused, export_refused_record
from reports.services.deliveries import delivery_file_download


def _refused(request: HttpRequest, *, reason: str, kind: str) -> HttpResponse:
    response = render(
        request,
        "reports/delivery_link_refused.html",
        {
            "reason": reason,
            "kind": kind,
            "back_url": reverse("home"),
            "request_path": request.path,
        },
        status=HTTPStatus.FORBIDDEN,
    )
    # The page names no file, but a proxy should keep no copy of a refusal either.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def delivery_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The file a delivery's signed link names (see the module)."""
    origin = RequestOrigin.of(request)
    try:
        delivery, file = delivery_link_resolve(token)
    except DeliveryLinkInvalid as error:
        named = {"delivery": error.delivery_id, "file_id": error.file_id}
        export_refused_record(
            actor=None,
            reason=error.reason,
            why=str(error),
            origin=origin,
            details={
                "via": "signed link",
                **{key: value for key, value in named.items() if value is not None},
            },
        )
        return _refused(request, reason=str(error), kind=error.reason)
    try:
        response = delivery_file_download(delivery=delivery, file=file, origin=origin)
    except ExportRefused as refused:  # audited by the download
        return _refused(request, reason=str(refused), kind="policy")
    response["Cache-Control"] = "private, no-store"
    return response
