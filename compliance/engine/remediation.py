"""Remediation timelines of regulatory rules, counted in business days (pure).

SEC Rule 18f-4(c)(2)(ii) (17 CFR 270.18f-4): a fund out of compliance with its VaR
test must come back promptly; if it is not back **within five business days**:

* the derivatives risk manager reports to the board, explaining how and by when the
  fund expects to come back into compliance;
* the fund reports the exceedance on **Form N-RN** (Part E, within one business
  day);
* until back in compliance, the fund enters only into transactions that reduce
  its VaR: the pre-trade check refuses any trade that does not lower the VaR
  rule's utilisation;

and once back in compliance after that, the **follow-up**: a written report to the
board within thirty calendar days of the exceedance on how the fund came back and
what was changed, and Form N-RN Part F.

Counting convention: business days are the sessions of the fund's calendar (an
ISO 10383 MIC, :func:`analytics.engine.quality.trading_sessions` builds them), and
the count is inclusive of the first day out of compliance. A fund first out of
compliance on a Monday has been out five business days on the Friday of a week
without holidays; the escalation comes with the sixth, the next Monday. A holiday
is not a business day, so it moves that Monday to the Tuesday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class RemediationStep:
    """One thing the fund must do (``key`` is stable; ``label`` and ``text`` read on pages)."""

    key: str
    label: str
    text: str


@dataclass(frozen=True)
class RemediationTimeline:
    """A rule's remediation: after more than ``business_days`` out of compliance the
    ``escalation`` steps are due (and, with ``reducing_only``, only trades that lower
    the rule's utilisation are allowed); back in compliance after that, the
    ``follow_up`` steps."""

    key: str
    citation: str
    business_days: int
    escalation: tuple[RemediationStep, ...]
    follow_up: tuple[RemediationStep, ...]
    reducing_only: bool = True


SEC_18F4_VAR_TEST = RemediationTimeline(
    key="sec_18f4_var_test",
    citation="SEC Rule 18f-4(c)(2)(ii)",
    business_days=5,
    escalation=(
        RemediationStep(
            "board_report",
            "Report to the board",
            "The derivatives risk manager reports to the board how and by when (in business "
            "days) the fund is expected to come back into compliance with the VaR test.",
        ),
        RemediationStep(
            "form_n_rn",
            "Form N-RN, Part E",
            "Report the VaR test exceedance to the SEC on Form N-RN within one business day.",
        ),
        RemediationStep(
            "reducing_only",
            "VaR-reducing transactions only",
            "Until the fund is back in compliance, enter only into transactions that reduce "
            "its VaR; the pre-trade check refuses any other.",
        ),
    ),
    follow_up=(
        RemediationStep(
            "follow_up_report",
            "Follow-up report to the board",
            "Within thirty calendar days of the exceedance, report to the board how the fund "
            "came back into compliance and the analysis and program updates made.",
        ),
        RemediationStep(
            "form_n_rn_back",
            "Form N-RN, Part F",
            "Report on Form N-RN that the fund is back in compliance with the VaR test.",
        ),
    ),
)


def business_days_out(*, first_day: dt.date, as_of: dt.date, sessions: pd.DatetimeIndex) -> int:
    """Business days from ``first_day`` to ``as_of``, both included (module docstring):
    the sessions in that range; 0 when ``as_of`` is before ``first_day``."""
    start, end = pd.Timestamp(first_day), pd.Timestamp(as_of)
    return int(((sessions >= start) & (sessions <= end)).sum())


def escalation_due(
    *, timeline: RemediationTimeline, first_day: dt.date, as_of: dt.date, sessions: pd.DatetimeIndex
) -> bool:
    """Whether a rule out of compliance since ``first_day`` and still out on
    ``as_of`` has been out **more than** ``timeline.business_days`` business days."""
    return business_days_out(first_day=first_day, as_of=as_of, sessions=sessions) > (
        timeline.business_days
    )


def follow_up_due_by(*, first_day: dt.date) -> dt.date:
    """The follow-up report's deadline: thirty calendar days after the exceedance."""
    return first_day + dt.timedelta(days=30)
