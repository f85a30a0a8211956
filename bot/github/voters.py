"""Voters looked up for the rules' `voters:` (SPEC §14): each voter read once and kept — in a cache bounded in
size, for a day — and at most `limit` new voters a run, so a vote of thousands costs a bounded number of
requests per run (the next runs look up the rest, and the tally counts them as not checked meanwhile).

- members: `GET /orgs/{org}/members/{username}`, one request a voter;
- team: `GET /orgs/{org}/teams/{slug}/memberships/{username}`, one request a voter;
- established: GitHub's GraphQL API, `GRAPHQL_BATCH` voters a request — the account's `createdAt` and its
  public contributions in the year before the vote opened (the REST API has no count of contributions).

What is read depends only on the voter, the rule and the day the vote opened, so one answer serves every
application and every run of the process that asks the same.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable
from bot.policy.governance_rules import VoterKind, VoterRules
from bot.policy.models import Reaction
from bot.policy.votes import VoterFacts, to_look_up

YEAR = dt.timedelta(days=365)


class VoterCache:
    """What was read of voters, by rule and login, kept `ttl_seconds` and at most `size` of them (the least
    recently used go first)."""

    def __init__(self, size: int = 50_000, ttl_seconds: float = 86_400,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[VoterFacts, float]] = OrderedDict()
        self._size, self._ttl, self._clock = size, ttl_seconds, clock
        self._lock = threading.Lock()
        self.looked_up = 0  # voters read from GitHub by this process (the benchmark and tests count them)

    def get(self, rule: str, login: str) -> VoterFacts | None:
        with self._lock:
            entry = self._entries.get((rule, login))
            if entry is None or entry[1] < self._clock():
                return None
            self._entries.move_to_end((rule, login))
            return entry[0]

    def put(self, rule: str, facts: Iterable[VoterFacts]) -> None:
        with self._lock:
            for item in facts:
                self._entries[(rule, item.login)] = (item, self._clock() + self._ttl)
                self._entries.move_to_end((rule, item.login))
                self.looked_up += 1
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def rule_key(rules: VoterRules, opened: dt.datetime) -> str:
    """What an answer depends on besides the voter."""
    if rules.who is VoterKind.MEMBERS:
        return f"members:{rules.org.lower()}"
    if rules.who is VoterKind.TEAM:
        return f"team:{rules.team.lower()}"
    return f"established:{opened.astimezone(dt.timezone.utc).date().isoformat()}"


def voter_facts(gateway: GitHubGateway, cache: VoterCache, rules: VoterRules, opened: dt.datetime,
                reactions: tuple[Reaction, ...], excluded: frozenset[str], limit: int) -> dict[str, VoterFacts]:
    """What is known of the people who voted (lower-case login -> facts): from the cache, and at most `limit`
    voters read now. A voter whose lookup failed (GitHub refused it) stays unknown: not checked yet."""
    if not rules.looked_up:
        return {}
    key = rule_key(rules, opened)
    voted = {r.user.login.lower() for r in reactions}
    known = {login: facts for login in voted if (facts := cache.get(key, login)) is not None}
    todo = to_look_up(reactions, excluded, known, limit)
    if not todo:
        return known
    fresh: list[VoterFacts] = []
    try:
        if rules.who is VoterKind.ESTABLISHED:
            answers = gateway.users_contributions(list(todo), opened - YEAR, opened)
            fresh = [VoterFacts(login, created_at=found[0], contributions=found[1]) if found is not None
                     else VoterFacts(login, exists=False) for login, found in answers.items()]
        else:
            org, _, slug = rules.team.partition("/")
            for login in todo:
                member = gateway.is_org_member(rules.org, login) if rules.who is VoterKind.MEMBERS else \
                    gateway.is_team_member(org, slug, login)
                fresh.append(VoterFacts(login, member=member))
    except GitHubUnavailable:
        raise
    except GitHubError:
        pass  # what was read before the refusal is kept; the rest are looked up by a later run
    cache.put(key, fresh)
    return known | {f.login: f for f in fresh}


__all__ = ["VoterCache", "rule_key", "voter_facts"]
