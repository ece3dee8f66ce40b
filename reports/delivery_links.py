"""Signed, expiring download links to the files of a delivered report.

An e-mail whose files are too large to attach, and every webhook, carries one
link per file: ``/reports/d/<token>/`` under ``settings.PORTAL_BASE_URL``. The
token is the credential (whoever holds it may download that one file without
logging in, as a link in an e-mail must work): it names the delivery and the
file, is signed with the project's ``SECRET_KEY`` under its own salt
(``django.core.signing.TimestampSigner``, so a token made for anything else never
opens a file) and expires ``settings.DELIVERY_LINK_MAX_AGE_SECONDS`` after it was
made (24 hours unless configured). Changing one character of it, or waiting
too long, gets a 403 refusal page and a ``DOWNLOAD_REFUSED`` audit event
(``reports.delivery_views``).

:func:`delivery_link_resolve` also withdraws a link whose delivery no longer
stands: a refused delivery, a file that is not its run's, or a user recipient who
is no longer active or no longer entitled to a portfolio the report shows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from analytics.selectors.entitlements import portfolio_list_visible_to
from reports.models import Delivery, DeliveryState, ReportFile

SALT = "reports.delivery_links"


class DeliveryLinkInvalid(Exception):
    """The token was not made by the portal, or was changed (tampered: 403).
    ``delivery_id`` and ``file_id`` are what a genuine token named (None when it
    was not genuine), for the audit event of the refusal."""

    reason = "tampered"

    def __init__(
        self, message: str, *, delivery_id: int | None = None, file_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.delivery_id = delivery_id
        self.file_id = file_id


class DeliveryLinkExpired(DeliveryLinkInvalid):
    """The token was genuine but is older than its maximum age (403)."""

    reason = "expired"


class DeliveryLinkWithdrawn(DeliveryLinkInvalid):
    """The token was genuine, but its delivery no longer stands (403); the message
    says why, for the person who followed the link."""

    reason = "withdrawn"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def delivery_link_token(*, delivery: Delivery, file: ReportFile) -> str:
    """The signed, timestamped token naming ``delivery`` and one ``file`` of its run
    (URL-safe: base64 and colons)."""
    return _signer().sign_object({"d": delivery.pk, "f": file.pk})


def delivery_link_path(*, delivery: Delivery, file: ReportFile) -> str:
    """The link's path inside the portal, ``/reports/d/<token>/``."""
    return reverse(
        "reports:delivery-download", args=[delivery_link_token(delivery=delivery, file=file)]
    )


def delivery_link_url(*, delivery: Delivery, file: ReportFile) -> str:
    """The absolute link as a recipient outside the portal follows it
    (``settings.PORTAL_BASE_URL`` and the path)."""
    return settings.PORTAL_BASE_URL.rstrip("/") + delivery_link_path(delivery=delivery, file=file)


def delivery_link_read(token: str) -> tuple[int, int]:
    """The ``(delivery id, file id)`` a token names. Raises
    :class:`DeliveryLinkExpired` for a genuine token past
    ``DELIVERY_LINK_MAX_AGE_SECONDS``, :class:`DeliveryLinkInvalid` for anything
    else that is not a token made by :func:`delivery_link_token`."""
    try:
        value: Any = _signer().unsign_object(token, max_age=settings.DELIVERY_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired as error:
        named = _named(_signer().unsign_object(token))  # genuine, only too old
        raise DeliveryLinkExpired(
            "This download link has expired.",
            delivery_id=named[0] if named else None,
            file_id=named[1] if named else None,
        ) from error
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as error:
        raise DeliveryLinkInvalid("This download link is not valid.") from error
    named = _named(value)
    if named is None:
        raise DeliveryLinkInvalid("This download link is not valid.")
    return named


def _named(value: Any) -> tuple[int, int] | None:
    if (
        isinstance(value, dict)
        and isinstance(value.get("d"), int)
        and isinstance(value.get("f"), int)
    ):
        return value["d"], value["f"]
    return None


def delivery_link_resolve(token: str) -> tuple[Delivery, ReportFile]:
    """The delivery and file a link opens, checked as described in the module.
    Raises :class:`DeliveryLinkInvalid` (or its subclasses)."""
    delivery_id, file_id = delivery_link_read(token)
    named = {"delivery_id": delivery_id, "file_id": file_id}
    delivery = (
        Delivery.objects.select_related("recipient", "schedule", "run")
        .filter(pk=delivery_id)
        .first()
    )
    file = ReportFile.objects.select_related("run").filter(pk=file_id).first()
    if delivery is None or file is None or delivery.run_id is None:
        raise DeliveryLinkWithdrawn("The report this link belonged to is no longer kept.", **named)
    if file.run_id != delivery.run_id:
        # A file of another run (one rendered again since): not what was sent.
        raise DeliveryLinkWithdrawn("This file is no longer the one that was delivered.", **named)
    if delivery.state == DeliveryState.REFUSED:
        raise DeliveryLinkWithdrawn("This delivery was refused.", **named)
    recipient = delivery.recipient
    if recipient is not None:
        if not recipient.is_active:
            raise DeliveryLinkWithdrawn(
                "The account this report was delivered to is closed.", **named
            )
        shown = set((file.run.data or {}).keys())
        visible = set(
            portfolio_list_visible_to(user=recipient)
            .filter(code__in=shown)
            .values_list("code", flat=True)
        )
        if shown - visible:
            raise DeliveryLinkWithdrawn(
                "The recipient is no longer entitled to every portfolio in this report.", **named
            )
    return delivery, file
