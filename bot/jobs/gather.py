"""gather: read, through the gateway, what `decide` needs for one application — and nothing more.

Called under the application's lock, it re-reads the issue and its comments (conditional requests,
free when nothing changed) instead of trusting the payload: a payload's labels, body and comment
count were taken when the event happened and are often stale (SPEC §11). Then `policy.decide.needs`
says what else to read, from what is now known: repository facts only when the form is new or
changed (SPEC §3: at most 3 requests, conditional), reactions in the community stage, team
memberships of commenters whose role depends on them, and `/assign` names — only a reviewer's.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.github.gateway import GitHubError, GitHubGateway, GitHubUnavailable, NotFound
from bot.policy.commands import FundingLedger
from bot.policy.decide import Needs, Snapshot, Trigger, assignee_lookups, needs, round_of
from bot.policy.forms import RepoRef
from bot.policy.markers import find_status, notices_posted, status_comments
from bot.policy.models import Comment, Issue, RepoFacts, RepoStatus
from bot.policy.record import Record
from bot.policy.roles import all_teams
from bot.policy.rules import Rules

TOP_CONTRIBUTORS = 10  # the repository's people a reviewer is conflicted by (SPEC §14)


def repo_facts(gateway: GitHubGateway, repo: RepoRef, rules: Rules, now: dt.datetime) -> RepoFacts:
    """SPEC §3's facts in at most three conditional requests; GitHub's refusals become findings."""
    requested = repo.full_name
    try:
        info = gateway.repository(requested)
    except NotFound:
        return RepoFacts(requested=requested, status=RepoStatus.NOT_FOUND)
    except GitHubUnavailable:
        raise  # retried already: leave the whole delivery for the sweep rather than record a false finding
    except GitHubError as err:
        return RepoFacts(requested=requested, status=RepoStatus.ERROR, error=f"{err.status} {err.message}")
    facts = RepoFacts(
        requested=requested, status=RepoStatus.OK, full_name=info.full_name, html_url=info.html_url,
        private=info.private, archived=info.archived, default_branch=info.default_branch,
        pushed_at=info.pushed_at, licence_spdx=info.licence_spdx, licence_key=info.licence_key,
        people_logins=(info.full_name.split("/", 1)[0].lower(),),
    )
    since = now - dt.timedelta(days=rules.eligibility.window_days)
    try:
        window = gateway.commits_since(info.full_name, since)
    except GitHubError as err:
        if err.status == 409:  # "Git Repository is empty."
            return _replace(facts, empty=True, commits_in_window=0, people=0)
        raise
    page = gateway.contributors(info.full_name)
    if page.empty:
        return _replace(facts, empty=True, commits_in_window=window.count, last_commit_at=window.newest_at, people=0)
    bots = sum(1 for user in page.contributors if user.is_bot)
    people = len(page.contributors) - bots
    top = [u.login.lower() for u in page.contributors if not u.is_bot and "@" not in u.login][:TOP_CONTRIBUTORS]
    return _replace(
        facts, commits_in_window=window.count, last_commit_at=window.newest_at,
        people=people, people_at_least=page.more or page.too_large, bots=bots,
        people_logins=tuple(dict.fromkeys(facts.people_logins + tuple(top))),
    )


def _replace(facts: RepoFacts, **changes: object) -> RepoFacts:
    import dataclasses

    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def grants_by_round(records: Iterable[tuple[int, Record]], rules: Rules) -> dict[str, dict[int, Decimal]]:
    """The grants the funded applications' own records hold, by round: what the ledger must say
    (the sweep puts the fund-state issue back in step with it)."""
    grants: dict[str, dict[int, Decimal]] = {}
    for number, record in records:
        if record.funded and record.outcome and record.outcome.amount:
            grants.setdefault(record.round or round_of(rules), {})[number] = record.outcome.amount
    return grants


class TeamCache:
    """Team memberships looked up once and kept for a while (membership rarely changes)."""

    def __init__(self, ttl_seconds: float = 600, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[tuple[str, str], tuple[bool, float]] = {}
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def teams_of(self, gateway: GitHubGateway, login: str, teams: Iterable[str]) -> frozenset[str]:
        found = set()
        for team in teams:
            key = (team.lower(), login.lower())
            with self._lock:
                cached = self._entries.get(key)
            if cached is None or cached[1] < self._clock():
                org, slug = team.split("/", 1)
                member = gateway.is_team_member(org, slug, login)
                with self._lock:
                    self._entries[key] = (member, self._clock() + self._ttl)
                cached = (member, 0.0)
            if cached[0]:
                found.add(team)
        return frozenset(found)


@dataclass(frozen=True)
class Opened:
    """What is read first, under the application's lock: the issue and its comments, and what they say
    `decide` will need."""

    issue: Issue
    comments: tuple[Comment, ...]
    wanted: Needs


def open_application(gateway: GitHubGateway, issue: Issue, trigger: Trigger, rules: Rules, now: dt.datetime) -> Opened:
    """:calls: the issue and its comments, again (the argument may be a stale payload, or a row of the
    sweep's listing)."""
    fresh = gateway.issue(issue.repo, issue.number)
    comments = tuple(gateway.comments(issue.repo, issue.number))
    if trigger.comment is not None and all(c.id != trigger.comment.id for c in comments):
        comments += (trigger.comment,)  # GitHub's list may lag the webhook by a moment
    record = find_status(comments, gateway.app_login)[1].record
    return Opened(fresh, comments, needs(trigger, fresh, comments, record, rules, now))


def gather(
    gateway: GitHubGateway,
    opened: Opened,
    trigger: Trigger,
    rules: Rules,
    now: dt.datetime,
    *,
    teams: TeamCache,
    ledger: Callable[[], FundingLedger] | None = None,
) -> Snapshot:
    """Read the rest of what `decide` needs for the application `opened` holds."""
    fresh, comments, wanted = opened.issue, opened.comments, opened.wanted
    login = gateway.app_login
    status_comment, found = find_status(comments, login)
    duplicates = tuple(status_comments(comments, login)[1:])
    form = rules.read_application(fresh.body)

    facts = None
    if wanted.repo_facts and form.repository is not None:
        facts = repo_facts(gateway, form.repository, rules, now)
    reactions = tuple(gateway.issue_reactions(fresh.repo, fresh.number)) if wanted.reactions else None
    team_names = all_teams(rules)
    members = {login.lower(): teams.teams_of(gateway, login, team_names) for login in wanted.team_lookups}
    # Only now, with the roles known, the names a reviewer's /assign gives are looked up.
    named = assignee_lookups(trigger, fresh, comments, found.record, form, rules, members)
    assignable = {name.lower(): gateway.can_be_assigned(fresh.repo, name) for name in named}
    collaborators = gateway.collaborators(fresh.repo) if wanted.collaborators else None
    return Snapshot(
        issue=fresh, comments=comments, status_comment=status_comment, found=found, duplicates=duplicates,
        repo_facts=facts, reactions=reactions, team_members=members, assignable=assignable,
        ledger=ledger() if wanted.ledger and ledger is not None else None,
        posted=notices_posted(comments, login), form=form, collaborators=collaborators,
    )
