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
