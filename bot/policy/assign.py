"""Assignment by load (SPEC §14): who reviews an application that enters a stage with `assign`. Pure.

The candidates are the stage's reviewers named by login (or, when the rules name none, the
repository's collaborators with push access); of them, the ones with no conflict on this
application and not away are taken, fewest open assignments first, then whoever was assigned by
load least recently (never before everyone else), then by login — so the same state always gives
the same answer.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.policy.parsed_form import ParsedForm
from bot.policy.fundstate import FundState
from bot.policy.models import Action, Assign, Issue, RecordAssignment
from bot.policy.plan import assignment_due, assignment_key_of
from bot.policy.record import BOT_ACTOR, Record
from bot.policy.roles import conflicts_of
from bot.policy.rules import Rules

NEVER = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class ReviewerLoad:
    """What the choice needs, read once under the fund's lock: the candidates, their open assignments
    (from the open applications' assignees), when each was last assigned by load, and who is away."""

    candidates: Mapping[str, tuple[str, ...]]  # stage -> its candidates (lower-case logins)
    open: Mapping[str, int] = field(default_factory=dict)
    last: Mapping[str, dt.datetime] = field(default_factory=dict)
    away: frozenset[str] = frozenset()


def pick_reviewers(load: ReviewerLoad, stage: str, count: int, *, excluded: Iterable[str] = (),
                   assigned: Iterable[str] = ()) -> tuple[str, ...]:
    """Up to `count` of `stage`'s reviewers in all, beyond those `assigned` already (who count towards
    it); never one `excluded` (conflicted) or away."""
    candidates = load.candidates.get(stage, ())
    already = {a.lower() for a in assigned}
    wanted = count - len(already & set(candidates))
    if wanted <= 0:
        return ()
    skip = {e.lower() for e in excluded} | set(load.away) | already
    free = [c for c in dict.fromkeys(candidates) if c not in skip]
    free.sort(key=lambda c: (load.open.get(c, 0), load.last.get(c, NEVER), c))
    return tuple(free[:wanted])


def reviewer_load(rules: Rules, open_applications: Iterable[Issue], collaborators: tuple[str, ...] | None,
                  state: FundState, today: dt.date) -> ReviewerLoad:
    """The load the choice weighs: each stage's candidates (its named reviewers, else the repository's
    collaborators), their open assignments (the open applications' assignees), when each was last
    assigned by load and who is away (the fund-state issue)."""
    counts: dict[str, int] = {}
    for other in open_applications:
        for login in other.assignees:
            counts[login.lower()] = counts.get(login.lower(), 0) + 1
    candidates: dict[str, tuple[str, ...]] = {}
    for stage in rules.stages.stages:
        if stage.assign_count:
            named = rules.stages.reviewers_for(stage.name).users
            candidates[stage.name] = tuple(sorted(named)) if named else tuple(c.lower() for c in collaborators or ())
    return ReviewerLoad(candidates=candidates, open=counts, last=dict(state.assigned), away=state.away_on(today))


def assign_on_entry(record: Record, issue: Issue, form: ParsedForm, load: ReviewerLoad | None, rules: Rules,
                    now: dt.datetime) -> tuple[Record, list[Action]]:
    """On entering a stage with `assign`, its reviewers by load (once per entry into the stage)."""
    stage = rules.stages.stage(record.stage)
    if not assignment_due(record, rules) or load is None or stage is None:
        return record, []
    excluded = [c for c in load.candidates.get(stage.name, ()) if conflicts_of(c, issue, form, record)]
    chosen = pick_reviewers(load, stage.name, stage.assign_count, excluded=excluded, assigned=issue.assignees)
    record = record.with_notice(assignment_key_of(record))
    if not chosen:
        return record, []
    record = record.audited(now, BOT_ACTOR, "assign", f"{stage.name}: {', '.join(chosen)} (by load)")
    return record, [Assign(chosen), RecordAssignment(chosen, now)]
