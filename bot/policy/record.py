"""The application's record: the review's state, kept as hidden JSON inside the status comment.

All state lives on GitHub (SPEC §7): the record is read back from the bot's status comment on
every delivery and every sweep, so the bot holds nothing that a restart could lose. It is
written inside an HTML comment; `--` is escaped so user text can never end the comment early.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.policy.text import hidden_json, read_hidden_json

STATUS_MARKER = "<!-- fund-bot:status -->"
RECORD_VERSION = 1


@dataclass(frozen=True)
class StageEntry:
    stage: str
    at: str  # ISO-8601 UTC
    by: str
    via: str  # "intake", "/advance", "/stage", "label", "eligibility"


@dataclass(frozen=True)
class CheckResult:
    """One eligibility check as shown in the status comment."""

    id: str  # "licence", "activity", "community", "goals"
    ok: bool
    figure: str  # the measured value, e.g. "MIT", "12 commits in 90 days"
    detail: str = ""  # what to do about it, when it failed
    warning: str = ""  # shown even when ok (e.g. a declared licence that differs)


@dataclass(frozen=True)
class Waiver:
    check: str
    by: str
    reason: str
    at: str


@dataclass(frozen=True)
class Outcome:
    name: str  # funded | declined | withdrawn
    by: str
    at: str
    amount: str | None = None  # decimal text, for funded
    reason: str | None = None


@dataclass(frozen=True)
class Score:
    reviewer: str
    criterion: str
    value: int
    stage: str  # the stage it was given in (min_scores counts per stage)
    at: str


@dataclass(frozen=True)
class NeedsInfo:
    by: str
    at: str
    text: str


@dataclass(frozen=True)
class ReportEntry:
    at: str
    by: str
    ref: str  # "comment:<id>" or "issue:<number>"
    url: str = ""


@dataclass(frozen=True)
class Record:
    """Everything the bot knows about one application beyond the issue itself."""

    body_sha: str = ""  # the issue body the checks last ran on
    form_problems: tuple[str, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    checked_at: str = ""
    repository: str = ""  # OWNER/REPO as checked
    stage: str = ""
    history: tuple[StageEntry, ...] = ()
    outcome: Outcome | None = None
    scores: tuple[Score, ...] = ()  # the latest score of each reviewer for each criterion
    waivers: tuple[Waiver, ...] = ()
    needs_info: NeedsInfo | None = None
    votes_up: int = 0
    votes_down: int = 0
    reactions_seen: str = ""  # the issue's 👍/👎 roll-up when the votes were last counted ("up/down")
    reports: tuple[ReportEntry, ...] = ()
    notices: tuple[str, ...] = ()  # keys of one-off comments already posted (reminders, ...)
    last_comment_id: int = 0

    # --- derived views ---------------------------------------------------------------------

    @property
    def eligible(self) -> bool:
        waived = {w.check for w in self.waivers}
        return bool(self.checks) and not self.form_problems and all(c.ok or c.id in waived for c in self.checks)

    @property
    def stage_since(self) -> str | None:
        return self.history[-1].at if self.history else None

    def with_score(self, score: Score) -> "Record":
        """A later score by the same reviewer for the same criterion replaces theirs (SPEC §5)."""
        kept = tuple(
            s for s in self.scores
            if (s.reviewer.lower(), s.criterion) != (score.reviewer.lower(), score.criterion)
        )
        return dataclasses.replace(self, scores=kept + (score,))

    def scorers_in(self, stage: str) -> set[str]:
        """The distinct reviewers who gave a score while the application was in `stage`."""
        return {s.reviewer.lower() for s in self.scores if s.stage == stage}

    def with_notice(self, key: str) -> "Record":
        return self if key in self.notices else dataclasses.replace(self, notices=self.notices + (key,))

    def moved_to(self, stage: str, at: str, by: str, via: str) -> "Record":
        if stage == self.stage:
            return self
        entry = StageEntry(stage=stage, at=at, by=by, via=via)
        return dataclasses.replace(self, stage=stage, history=self.history + (entry,))


def decision_date(record: Record) -> dt.date | None:
    if record.outcome is None or record.outcome.name != "funded":
        return None
    return dt.datetime.fromisoformat(record.outcome.at.replace("Z", "+00:00")).date()


# --- (de)serialisation -------------------------------------------------------------------


def encode(record: Record) -> str:
    """The hidden data block for the status comment."""
    return hidden_json("data", {"v": RECORD_VERSION, **_to_json(record)})


def decode(comment_body: str) -> Record | None:
    """The record inside a status comment, or None when there is none or it cannot be read."""
    data = read_hidden_json("data", comment_body, RECORD_VERSION)
    if data is None:
        return None
    try:
        return _from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def _to_json(record: Record) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    return {k: v for k, v in data.items() if v not in (None, (), [], "", 0, {}) or k == "stage"}


def _from_json(data: dict[str, Any]) -> Record:
    def many(kind: type, key: str) -> tuple[Any, ...]:
        return tuple(kind(**item) for item in data.get(key, []))

    return Record(
        body_sha=data.get("body_sha", ""),
        form_problems=tuple(data.get("form_problems", [])),
        checks=many(CheckResult, "checks"),
        checked_at=data.get("checked_at", ""),
        repository=data.get("repository", ""),
        stage=data.get("stage", ""),
        history=many(StageEntry, "history"),
        outcome=Outcome(**data["outcome"]) if data.get("outcome") else None,
        scores=many(Score, "scores"),
        waivers=many(Waiver, "waivers"),
        needs_info=NeedsInfo(**data["needs_info"]) if data.get("needs_info") else None,
        votes_up=int(data.get("votes_up", 0)),
        votes_down=int(data.get("votes_down", 0)),
        reactions_seen=data.get("reactions_seen", ""),
        reports=many(ReportEntry, "reports"),
        notices=tuple(data.get("notices", [])),
        last_comment_id=int(data.get("last_comment_id", 0)),
    )


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "STATUS_MARKER", "Record", "StageEntry", "CheckResult", "Waiver", "Outcome", "NeedsInfo", "ReportEntry",
    "Score", "encode", "decode", "iso", "decision_date",
]
