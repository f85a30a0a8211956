"""The application's record as JSON (`to_json` / `from_json`), and every older version read back.

`bot.policy.markers` wraps the JSON into the status comment's hidden block. Older versions are read and
migrated: version 1 kept its findings as English text (they come back as `Note("text", ...)` and are
shown as they were); version 2 did not pin a grant's tranche plan (its tranches follow the rules, as they
did then); versions 2 and 3 kept a refused write as English words, read back once into its message id.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.policy.evidence_pack import Evidence
from bot.policy.i18n import read_back
from bot.policy.record import (
    RECORD_VERSION, AuditEntry, CheckResult, NeedsInfo, Note, Outcome, Record, RecordError, Recusal, ReportEntry,
    Score, StageEntry, Tranche, Waiver, WriteFailure, iso, parse_iso,
)
from bot.policy.record_votes import approvals_from_json, counts_from_json, vote_from_json


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

