"""The profile page, under /profile/: the signed-in user's details and personal
API tokens (``portal.api_tokens``).

A new token's secret is shown once, on the page that answers the creation form
(never stored in the session or anywhere else; the answer is ``no-store``), with a
copy button (``static/js/profile.js``). The expiry is a date: the token stops
working at 00:00 of that day in the portal's time zone, so the latest date that
may be chosen is ``API_TOKEN_MAX_DAYS`` days from today. Revoking asks for a
confirmation first (a disclosure, no script needed). The page lists the user's
own tokens, administrators included; administrators see and revoke everyone's
in the Django admin ("API tokens").
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.api_tokens import (
    NAME_MAX_LENGTH,
    ApiTokenInvalid,
    api_token_create,
    api_token_max_days,
    api_token_revoke,
    api_tokens_of,
)
from portal.authenticated import AuthenticatedHttpRequest
from portal.models import ApiToken, ApiTokenScope
from portal.origins import RequestOrigin

DEFAULT_LIFETIME_DAYS = 30


def _today() -> date:
    return timezone.localdate()


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="What the token is for, e.g. “Nightly risk export”.",
    )
    scope = forms.ChoiceField(
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read only: GET requests. Read and write: whatever you may do in the portal.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today, max_days = _today(), api_token_max_days()
        field = self.fields["expires_on"]
        field.initial = today + timedelta(days=min(DEFAULT_LIFETIME_DAYS, max_days))
        field.widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=max_days)).isoformat(),
        )
        field.help_text = (
            f"It stops working at 00:00 on this day ({timezone.get_current_timezone_name()}); "
            f"at most {max_days} days from today."
        )

    def expires_at(self) -> datetime:
        """The chosen day's first moment in the portal's time zone."""
        return timezone.make_aware(datetime.combine(self.cleaned_data["expires_on"], time.min))


def _page(request: AuthenticatedHttpRequest, form: ApiTokenForm, **extra) -> HttpResponse:
    now = timezone.now()
    tokens = [
        {"token": token, "expired": token.expiry is not None and token.expiry <= now}
        for token in api_tokens_of(request.user)
    ]
    return render(
        request,
        "portal/profile.html",
        {
            "form": form,
            "tokens": tokens,
            "teams": list(request.user.teams.values_list("name", flat=True)),
            "time_zone": timezone.get_current_timezone_name(),
            **extra,
        },
    )


@never_cache
@login_required
@require_GET
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's details, their tokens and the form that makes one."""
    return _page(request, ApiTokenForm())


@never_cache
@login_required
@require_POST
def profile_token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make a token and show its secret on this answer only."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, form_open=True)
    try:
        token, secret = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
            origin=RequestOrigin.of(request),
        )
    except ApiTokenInvalid as error:
        form.add_error("expires_on" if error.field == "expires_at" else error.field, error.message)
        return _page(request, form, form_open=True)
    return _page(request, ApiTokenForm(), new_token=token, new_secret=secret)


@login_required
@require_POST
def profile_token_revoke(request: AuthenticatedHttpRequest, token_key: str) -> HttpResponse:
    """Revoke one of the user's own tokens (anyone else's is a 404)."""
    token: ApiToken | None = api_tokens_of(request.user).filter(token_key=token_key).first()
    if token is None:
        raise Http404("No such token.")
    api_token_revoke(actor=request.user, token=token, origin=RequestOrigin.of(request))
    messages.success(request, f"The token “{token.name}” was revoked: it no longer works.")
    return redirect("profile")
