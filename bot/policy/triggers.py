"""What set a run going: a delivery, or the operator's schedule (`fundbot sweep`, `fundbot recheck`).
Pure data. Scheduled work enters the same pipeline as a webhook, with a synthetic trigger, so it is
tested the same way."""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from bot.policy.evidence_pack import Pack
from bot.policy.models import Comment


class TriggerKind(enum.Enum):
    OPENED = "opened"
    EDITED = "edited"
    REOPENED = "reopened"
    COMMENT = "comment"
    LABELED = "labeled"
    REPORT_ISSUE = "report_issue"
    SWEEP = "sweep"
    RECHECK = "recheck"  # `fundbot recheck`: a sweep that also runs the eligibility checks again in screening
    EVIDENCE = "evidence"  # the evidence pack, read after the status comment (`bot.jobs.evidence`)

    @property
    def scheduled(self) -> bool:
        """Work the operator's schedule or command started, not a person on the issue."""
        return self in (TriggerKind.SWEEP, TriggerKind.RECHECK, TriggerKind.EVIDENCE)


@dataclass(frozen=True)
class ReportIssue:
    """A progress-report issue that names this application."""

    number: int
    author: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    actor: str | None = None
    label: str | None = None
    comment: Comment | None = None  # the comment of an issue_comment delivery
    report: ReportIssue | None = None
    delivery: str = ""  # X-GitHub-Delivery (kept by a redelivery): keys a reply to a labelling
    pack: Pack | None = None  # the evidence pack an EVIDENCE trigger carries
