"""The application's record: the review's state, typed and versioned, kept hidden in the status comment.

All state lives on GitHub (SPEC §7): the record is read back from the App's own status comment on
every delivery and every sweep, so the bot holds nothing that a restart could lose. Times are aware
UTC datetimes, money is `Decimal`, and every finding is a `Note` (a message id and its parameters)
so the status comment is rendered in the application's language from the record alone.

`bot.policy.record_json` turns it into JSON and reads every older version back.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.policy.evidence_pack import Evidence
from bot.policy.record_votes import Approval, VoteState

RECORD_VERSION = 4  # 3: `plan`, the tranche plan pinned at /approve; 4: a refused write is a `Note`, not English
KEEP_FAILURES = 5  # write failures shown in the status comment (the newest)
PENDING_FIGURE = "evidence.pending"  # the figure of a check that waits for the evidence pack
BOT_ACTOR = "fund-bot"  # who the record says acted, when the bot did (eligibility, assignment by load, a rebuild)


class RecordError(ValueError):
    """The hidden data could not be read as a record (damaged, or from an unknown version)."""


def iso(moment: dt.datetime) -> str:
    """A datetime as GitHub writes it: `2026-11-02T09:00:00Z`."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Note:
    """A finding to be put in words: a message id (`code`) and its parameters (JSON scalars).

    `bot.policy.status` renders it in the application's language; the record never holds prose,
    except the text of records written before version 2 (`code == "text"`)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """One eligibility check: whether it passed, the measured figure, what to do, and a warning."""

    id: str  # "repository", "licence", "activity", "community", "goals"
    ok: bool
    figure: Note
    detail: Note | None = None  # what to do about it, when it failed
    warning: Note | None = None  # shown even when ok (a declared licence that differs, a moved repository)

    @property
    def pending(self) -> bool:
        """A check of the evidence pack that waits for the pack (read after the status comment)."""
        return self.figure.code == PENDING_FIGURE


@dataclass(frozen=True)
class StageEntry:
    stage: str
    at: dt.datetime
    by: str
    via: str  # "intake", "/advance", "/stage", "label", "eligibility"


@dataclass(frozen=True)
class Waiver:
    check: str
    by: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class Outcome:
    name: str  # funded | declined | withdrawn
    by: str
    at: dt.datetime
    amount: Decimal | None = None  # granted, for funded
    reason: str | None = None


@dataclass(frozen=True)
class Score:
    reviewer: str
    criterion: str
    value: int
    stage: str  # the stage it was given in (min_scores counts per stage)
    at: dt.datetime


@dataclass(frozen=True)
class NeedsInfo:
    by: str
    at: dt.datetime
    text: str


@dataclass(frozen=True)
class ReportEntry:
    at: dt.datetime
    by: str
    ref: str  # "comment:<id>" or "issue:<number>"
    review: str = ""  # "", "accepted", "rejected" (tranches: a reviewer's word on the report)
    reviewed_by: str = ""
    reviewed_at: dt.datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class Tranche:
    """A part of the grant released for payment (SPEC §14): k of n, on whose word and when."""

    k: int
    n: int
    amount: Decimal
    at: dt.datetime
    by: str
    ref: str  # "approve" or the report it followed ("comment:<id>", "issue:<n>")


@dataclass(frozen=True)
class Recusal:
    """A reviewer off an application: by their own `/recuse`, or a conflict the bot found (`reason`
    then says which)."""

    reviewer: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class WriteFailure:
    """A write GitHub refused for good (422, 403 ...): shown in the status comment, never retried."""

    at: dt.datetime
    what: Note  # which write, as a message id and its parameters (`bot.policy.wording.WRITES`)
    status: int
    message: str  # GitHub's own words, as it answered


@dataclass(frozen=True)
class AuditEntry:
    """One decision, kept whatever later replaces it: who, when, what, and why (SPEC §14)."""

    at: dt.datetime
    by: str
    what: str  # "stage", "score", "waive", "recuse", "outcome", "tranche", "report", "review-report", "label"
    detail: str = ""


@dataclass(frozen=True)
class Record:
    """Everything the bot knows about one application beyond the issue itself."""

    body_sha: str = ""  # the issue body the checks last ran on
    form_problems: tuple[Note, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    checked_at: dt.datetime | None = None
    repository: str = ""  # OWNER/REPO as checked
    repo_people: tuple[str, ...] = ()  # the repository's owner and top contributors (lower-case): conflicts
    repo_org: str = ""  # the repository's owner when it is an organisation: its public members are conflicted
    stage: str = ""
    round: str = ""  # the funding round it was filed in
    history: tuple[StageEntry, ...] = ()
    outcome: Outcome | None = None
    scores: tuple[Score, ...] = ()  # the latest score of each reviewer for each criterion
    waivers: tuple[Waiver, ...] = ()
    needs_info: NeedsInfo | None = None
    votes_up: int = 0
    votes_down: int = 0
    reactions_seen: str = ""  # the issue's 👍/👎 roll-up when the votes were last counted ("up/down")
    vote: VoteState | None = None  # the community vote's window, when the stage has one (frozen once closed)
    votes_uncounted: Mapping[str, int] = field(default_factory=dict)  # 👍/👎 reactions not counted, by reason
    approvals: tuple[Approval, ...] = ()  # reviewers' words that money may move (`approvals:` in funding.yml)
    reports: tuple[ReportEntry, ...] = ()
    tranches: tuple[Tranche, ...] = ()
    plan: tuple[Decimal, ...] = ()  # the grant's parts (per cent) as they were at /approve; () before version 3
    recusals: tuple[Recusal, ...] = ()
    conflicts: tuple[Recusal, ...] = ()  # conflicts the bot found (their own application, their repository ...)
    affiliated: tuple[str, ...] = ()  # reviewers (lower-case) found to belong to the applicant's organisation
    cleared: tuple[str, ...] = ()  # reviewers (lower-case) whose membership was looked up and who are not members
    notices: tuple[str, ...] = ()  # keys of one-off comments already posted (reminders, ...)
    last_comment_id: int = 0
    failures: tuple[WriteFailure, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    evidence: Evidence | None = None  # the evidence pack at application and the latest (bot.policy.evidence)

    # --- derived views ---------------------------------------------------------------------

    @property
    def eligible(self) -> bool:
        waived = {w.check for w in self.waivers}
        return bool(self.checks) and not self.form_problems and all(c.ok or c.id in waived for c in self.checks)

    @property
    def eligibility_pending(self) -> bool:
        """Nothing has failed, but a check waits for the evidence pack: eligible or not is not known yet."""
        waived = {w.check for w in self.waivers}
        open_checks = [c for c in self.checks if not c.ok and c.id not in waived]
        return bool(open_checks) and not self.form_problems and all(c.pending for c in open_checks)

    @property
    def stage_since(self) -> dt.datetime | None:
        return self.history[-1].at if self.history else None

    @property
    def funded(self) -> bool:
        return self.outcome is not None and self.outcome.name == "funded"

    def recused(self, login: str) -> Recusal | None:
        return next((r for r in self.recusals if r.reviewer.lower() == login.lower()), None)

    def with_conflict(self, login: str, reason: str, at: dt.datetime) -> "Record":
        """A conflict the bot found, noted once per reviewer (shown in the status comment)."""
        if any(c.reviewer.lower() == login.lower() for c in self.conflicts):
            return self
        return dataclasses.replace(self, conflicts=self.conflicts + (Recusal(login, reason, at),))

    @property
    def granted(self) -> Decimal:
        """The grant's whole amount (0 when not funded)."""
        return self.outcome.amount or Decimal(0) if self.funded and self.outcome else Decimal(0)

    def tranche_plan(self, rules_plan: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        """The grant's parts (per cent): pinned at `/approve`, so a later change of the rules' `tranches`
        never changes a grant already made; a record written before plans were pinned follows the rules."""
        return self.plan or rules_plan

    @property
    def released(self) -> Decimal:
        return sum((t.amount for t in self.tranches), Decimal(0))

    def with_score(self, score: Score) -> "Record":
        """A later score by the same reviewer for the same criterion replaces theirs (SPEC §5)."""
        kept = tuple(
            s for s in self.scores
            if (s.reviewer.lower(), s.criterion) != (score.reviewer.lower(), score.criterion)
        )
        return dataclasses.replace(self, scores=kept + (score,))

    def counts(self, login: str) -> bool:
        """Whether `login`'s scores count: not recused, and no conflict found (SPEC §14)."""
        who = login.lower()
        return not self.recused(login) and who not in self.affiliated and \
            all(c.reviewer.lower() != who for c in self.conflicts)

    def scorers_in(self, stage: str) -> set[str]:
        """The distinct reviewers whose scores count, given while the application was in `stage`."""
        return {s.reviewer.lower() for s in self.scores if s.stage == stage and self.counts(s.reviewer)}

    def with_notice(self, key: str) -> "Record":
        return self if key in self.notices else dataclasses.replace(self, notices=self.notices + (key,))

    def audited(self, at: dt.datetime, by: str, what: str, detail: str = "") -> "Record":
        return dataclasses.replace(self, audit=self.audit + (AuditEntry(at, by, what, detail),))

    def moved_to(self, stage: str, at: dt.datetime, by: str, via: str) -> "Record":
        if stage == self.stage:
            return self
        entry = StageEntry(stage=stage, at=at, by=by, via=via)
        moved = dataclasses.replace(self, stage=stage, history=self.history + (entry,))
        return moved.audited(at, by, "stage", f"{self.stage or '-'} -> {stage} ({via})")

    def finished(self, outcome: str, *, by: str, at: dt.datetime, amount: Decimal | None = None,
                 reason: str | None = None) -> "Record":
        """The review ended with `outcome` (funded, declined, withdrawn): audited, any question dropped."""
        record = dataclasses.replace(self, outcome=Outcome(name=outcome, by=by, at=at, amount=amount, reason=reason),
                                     needs_info=None)
        return record.audited(at, by, "outcome", outcome + (f" {amount}" if amount is not None else "")
                              + (f": {reason}" if reason else ""))

    def with_failure(self, failure: WriteFailure) -> "Record":
        return dataclasses.replace(self, failures=(self.failures + (failure,))[-KEEP_FAILURES:])


def decision_date(record: Record) -> dt.date | None:
    return record.outcome.at.date() if record.funded and record.outcome else None



__all__ = [
    "RECORD_VERSION", "AuditEntry", "CheckResult", "NeedsInfo", "Note", "Outcome", "Record", "RecordError",
    "Recusal", "ReportEntry", "Score", "StageEntry", "Tranche", "Waiver", "WriteFailure", "decision_date",
    "iso", "parse_iso",
]
