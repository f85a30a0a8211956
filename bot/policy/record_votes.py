"""The parts of the application's record that votes and approvals keep (SPEC §14). Pure data.

`bot.policy.record.Record` holds them (`vote`, `votes_uncounted`, `approvals`), written and read with
the rest of the record; they are optional fields, absent from records written before them (which read
back as no window, nothing uncounted, no approvals), so they needed no new record version.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.timezone.utc) if value else None


@dataclass(frozen=True)
class VoteState:
    """A community vote with a window (`vote:` in the stage's rules): its dates pinned when it opened, so a
    later change of the rules never moves a vote people already see; and, once closed, when and by whom.
    The counts are the record's `votes_up` / `votes_down`: live while open, frozen from the close."""

    stage: str
    opened: dt.datetime
    earliest: dt.datetime  # the vote may close (and the stage be left) from then on
    closes: dt.datetime | None = None  # it closes by itself then (None: by `/close-vote` or leaving the stage)
    manual: bool = False  # `close: manual`: a reviewer may close it with `/close-vote`
    closed: dt.datetime | None = None
    closed_by: str = ""  # the reviewer who closed it, or the bot (its time came, the stage was left)

    @property
    def is_open(self) -> bool:
        return self.closed is None


@dataclass(frozen=True)
class Approval:
    """One reviewer's word that money may move: a grant's `/approve <amount>`, or a tranche's
    `/accept-report` of the report `target` names. Kept, with who and when, after the money moved."""

    kind: str  # "grant" | "tranche"
    by: str
    at: dt.datetime
    ref: str  # the comment that gave it ("comment:<id>")
    amount: Decimal | None = None  # grant
    target: str = ""  # tranche: the progress report's ref
    entered: dt.datetime | None = None  # grant: when the application entered the stage it was given in


def vote_from_json(data: Mapping[str, Any] | None) -> VoteState | None:
    if not data:
        return None
    return VoteState(str(data["stage"]), _time(data["opened"]), _time(data["earliest"]),  # type: ignore[arg-type]
                     _time(data.get("closes")), bool(data.get("manual")), _time(data.get("closed")),
                     str(data.get("closed_by", "")))


def approvals_from_json(items: Any) -> tuple[Approval, ...]:
    return tuple(Approval(str(a["kind"]), str(a["by"]), _time(a["at"]), str(a.get("ref", "")),  # type: ignore[arg-type]
                          Decimal(str(a["amount"])) if a.get("amount") not in (None, "") else None,
                          str(a.get("target", "")), _time(a.get("entered")))
                 for a in items or ())


def counts_from_json(data: Any) -> Mapping[str, int]:
    return {str(k): int(v) for k, v in (data or {}).items() if int(v)}


__all__ = ["Approval", "VoteState", "approvals_from_json", "counts_from_json", "vote_from_json"]
