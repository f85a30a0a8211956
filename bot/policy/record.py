"""The application's record: the review's state, typed and versioned, kept hidden in the status comment.

All state lives on GitHub (SPEC §7): the record is read back from the App's own status comment on
every delivery and every sweep, so the bot holds nothing that a restart could lose. Times are aware
UTC datetimes, money is `Decimal`, and every finding is a `Note` (a message id and its parameters)
so the status comment is rendered in the application's language from the record alone.

The record is turned into JSON here (`to_json` / `from_json`); `bot.policy.markers` wraps that
into the hidden block. Older versions are read by `from_json` and migrated (version 1 kept its
findings as English text: they come back as `Note("text", ...)` and are shown as they were; version 2
did not pin a grant's tranche plan: its tranches follow the rules, as they did then; versions 2 and 3
kept a refused write as English words, read back once into its message id here).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.policy.evidence_pack import Evidence
from bot.policy.i18n import read_back
from bot.policy.record_votes import Approval, VoteState, approvals_from_json, counts_from_json, vote_from_json

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


# --- JSON ------------------------------------------------------------------------------------


def to_json(record: Record) -> dict[str, Any]:
    """The record as JSON values (empty fields left out), with its version."""
    return {"v": RECORD_VERSION, **_compact(_plain(record))}


def _plain(value: Any) -> Any:
    if isinstance(value, Evidence):
        return value.to_json()  # its own compact form
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, [], "", 0, {}, False) or k == "stage"}


def from_json(data: Mapping[str, Any]) -> Record:
    """Read a record of any known version; raise `RecordError` when it cannot be read."""
    version = data.get("v")
    try:
        if version == 1:
            return _from_v1(data)
        if version in (2, 3):  # version 3 only added `plan` (absent from version 2: no plan)
            return _from_v2(data, _v3_write)
        if version == RECORD_VERSION:
            return _from_v2(data, _note)
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as err:
        raise RecordError(f"record v{version} could not be read: {err}") from None
    raise RecordError(f"unknown record version {version!r}")


def _time(value: Any) -> dt.datetime | None:
    return parse_iso(value) if value else None


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _note(data: Any) -> Note | None:
    if not data:
        return None
    return Note(str(data["code"]), dict(data.get("params") or {}))


# How versions 2 and 3 kept a refused write: these English words (frozen: it is what those records
# hold, whatever the catalogue says now), read back into the message id and parameters version 4 keeps.
_V3_WRITES = {"labels": "write.labels", "closing the issue": "write.close", "comment %(key)s": "write.comment",
              "reaction on comment %(comment)s": "write.reaction", "assign %(logins)s": "write.assign",
              "deleting comment %(comment)s": "write.delete"}


def _v3_write(text: Any) -> Note:
    found = read_back(str(text), _V3_WRITES)
    return Note(_V3_WRITES[found[0]], found[1]) if found else Note("text", {"text": str(text)})


def _from_v2(d: Mapping[str, Any], write: Callable[[Any], Note | None]) -> Record:
    def many(key: str) -> list[Mapping[str, Any]]:
        return list(d.get(key) or [])

    outcome = d.get("outcome")
    needs = d.get("needs_info")
    return Record(
        body_sha=d.get("body_sha", ""),
        form_problems=tuple(n for p in many("form_problems") if (n := _note(p))),
        checks=tuple(CheckResult(c["id"], bool(c.get("ok")), _note(c["figure"]) or Note("text", {}),
                                 _note(c.get("detail")), _note(c.get("warning"))) for c in many("checks")),
        checked_at=_time(d.get("checked_at")),
        repository=d.get("repository", ""),
        repo_people=tuple(d.get("repo_people") or ()),
        repo_org=d.get("repo_org", ""),
        stage=d.get("stage", ""),
        round=d.get("round", ""),
        history=tuple(StageEntry(e["stage"], parse_iso(e["at"]), e["by"], e["via"]) for e in many("history")),
        outcome=Outcome(outcome["name"], outcome["by"], parse_iso(outcome["at"]), _money(outcome.get("amount")),
                        outcome.get("reason")) if outcome else None,
        scores=tuple(Score(s["reviewer"], s["criterion"], int(s["value"]), s["stage"], parse_iso(s["at"]))
                     for s in many("scores")),
        waivers=tuple(Waiver(w["check"], w["by"], w["reason"], parse_iso(w["at"])) for w in many("waivers")),
        needs_info=NeedsInfo(needs["by"], parse_iso(needs["at"]), needs["text"]) if needs else None,
        votes_up=int(d.get("votes_up", 0)),
        votes_down=int(d.get("votes_down", 0)),
        reactions_seen=d.get("reactions_seen", ""),
        vote=vote_from_json(d.get("vote")),
        votes_uncounted=counts_from_json(d.get("votes_uncounted")),
        approvals=approvals_from_json(d.get("approvals")),
        reports=tuple(ReportEntry(r["at"] and parse_iso(r["at"]), r["by"], r["ref"], r.get("review", ""),
                                  r.get("reviewed_by", ""), _time(r.get("reviewed_at")), r.get("reason", ""))
                      for r in many("reports")),
        tranches=tuple(Tranche(int(t["k"]), int(t["n"]), Decimal(t["amount"]), parse_iso(t["at"]), t["by"], t["ref"])
                       for t in many("tranches")),
        plan=tuple(Decimal(str(p)) for p in d.get("plan") or ()),
        recusals=tuple(Recusal(r["reviewer"], r.get("reason", ""), parse_iso(r["at"])) for r in many("recusals")),
        conflicts=tuple(Recusal(r["reviewer"], r.get("reason", ""), parse_iso(r["at"])) for r in many("conflicts")),
        affiliated=tuple(d.get("affiliated") or ()),
        cleared=tuple(d.get("cleared") or ()),
        notices=tuple(d.get("notices") or ()),
        last_comment_id=int(d.get("last_comment_id", 0)),
        failures=tuple(WriteFailure(parse_iso(f["at"]), write(f["what"]) or Note("text", {}), int(f["status"]),
                                    f["message"])
                       for f in many("failures")),
        audit=tuple(AuditEntry(parse_iso(a["at"]), a["by"], a["what"], a.get("detail", "")) for a in many("audit")),
        evidence=Evidence.from_json(d.get("evidence")),
    )


def _from_v1(d: Mapping[str, Any]) -> Record:
    """Version 1 (wave 1): texts instead of notes, times and amounts as strings, no audit trail.

    Its findings stay as they were worded until the checks run again (the next edit or /recheck);
    its history, scores, waivers and outcome become the start of the audit trail."""
    def text(value: Any) -> Note | None:
        return Note("text", {"text": str(value)}) if value else None

    v2 = dict(d)
    v2["checks"] = [{"id": c["id"], "ok": c.get("ok"), "figure": {"code": "text", "params": {"text": c.get("figure", "")}},
                     "detail": text(c.get("detail")) and {"code": "text", "params": {"text": c["detail"]}},
                     "warning": text(c.get("warning")) and {"code": "text", "params": {"text": c["warning"]}}}
                    for c in d.get("checks") or []]
    v2["form_problems"] = [{"code": "text", "params": {"text": p}} for p in d.get("form_problems") or []]
    record = _from_v2(v2, _v3_write)
    audit = [AuditEntry(e.at, e.by, "stage", f"-> {e.stage} ({e.via})") for e in record.history]
    audit += [AuditEntry(s.at, s.reviewer, "score", f"{s.criterion} {s.value}") for s in record.scores]
    audit += [AuditEntry(w.at, w.by, "waive", f"{w.check}: {w.reason}") for w in record.waivers]
    if record.outcome:
        audit.append(AuditEntry(record.outcome.at, record.outcome.by, "outcome", record.outcome.name))
    audit += [AuditEntry(r.at, r.by, "report", r.ref) for r in record.reports]
    return dataclasses.replace(record, audit=tuple(sorted(audit, key=lambda a: a.at)))


__all__ = [
    "RECORD_VERSION", "AuditEntry", "CheckResult", "NeedsInfo", "Note", "Outcome", "Record", "RecordError",
    "Recusal", "ReportEntry", "Score", "StageEntry", "Tranche", "Waiver", "WriteFailure", "decision_date",
    "from_json", "iso", "parse_iso", "to_json",
]
