"""gather: read, through the gateway, what `decide` needs for one application — and nothing more.

`decide.needs` says what is needed from what is already known (the payload, the comments), so an
issue opened with no comments costs no comment listing, and repository facts are fetched only when
the form is new or changed (SPEC §3: at most 3 requests per repository, conditional).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

from bot.policy.commands import FundingLedger
from bot.policy.decide import Snapshot, Trigger, needs
from bot.policy.forms import RepoRef, parse_form
from bot.github.gateway import GitHubError, GitHubGateway, GitHubUnavailable, NotFound
from bot.policy.models import Comment, Issue, RepoFacts, RepoStatus
from bot.policy.record import STATUS_MARKER, Record, decode
from bot.policy.rules import Rules

NOTICE_RE = re.compile(r"<!-- fund-bot:notice (\S+) -->")


def notice_marker(key: str) -> str:
    return f"<!-- fund-bot:notice {key} -->"


def find_status(comments: Iterable[Comment]) -> tuple[Comment | None, Record | None]:
    """The bot's status comment (the oldest bot comment carrying the marker) and its record."""
    for comment in comments:
        if comment.user.is_bot and STATUS_MARKER in comment.body:
            return comment, decode(comment.body)
    return None, None


def bot_markers(comments: Iterable[Comment]) -> frozenset[str]:
    return frozenset(key for c in comments if c.user.is_bot for key in NOTICE_RE.findall(c.body))


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
    return _replace(
        facts, commits_in_window=window.count, last_commit_at=window.newest_at,
        people=people, people_at_least=page.more or page.too_large, bots=bots,
    )


def _replace(facts: RepoFacts, **changes: object) -> RepoFacts:
    import dataclasses

    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def ledger_from_records(records: Iterable[tuple[int, Record]], rules: Rules) -> FundingLedger:
    """Money granted in the round so far, from the funded applications' records."""
    starts = rules.funding.round_starts
    grants: dict[int, Decimal] = {}
    for number, record in records:
        outcome = record.outcome
        if outcome and outcome.name == "funded" and outcome.amount:
            if starts is None or outcome.at[:10] >= starts.isoformat():
                grants[number] = Decimal(outcome.amount)
    return FundingLedger(committed=sum(grants.values(), Decimal(0)), grants=grants)


def fetch_ledger(gateway: GitHubGateway, repo: str, rules: Rules) -> FundingLedger:
    """:calls: the funded applications (one listing) and each one's comments (conditional)."""
    funded = gateway.issues(repo, labels=rules.stages.outcomes["funded"].label.name, state="all")
    records = []
    for issue in funded:
        _, record = find_status(gateway.comments(repo, issue.number))
        if record:
            records.append((issue.number, record))
    return ledger_from_records(records, rules)


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


def all_teams(rules: Rules) -> list[str]:
    teams = {str(t) for t in rules.stages.reviewers.teams}
    for stage in rules.stages.stages:
        if stage.reviewers:
            teams |= {str(t) for t in stage.reviewers.teams}
    return sorted(teams)


def gather(
    gateway: GitHubGateway,
    issue: Issue,
    trigger: Trigger,
    rules: Rules,
    now: dt.datetime,
    *,
    teams: TeamCache,
    comments: tuple[Comment, ...] | None = None,
    ledger: FundingLedger | None = None,
    extra_markers: frozenset[str] = frozenset(),
) -> Snapshot:
    """Read what `decide` needs for `issue` (comments may be passed in when already listed)."""
    if comments is None:
        listed = issue.comments > 0 or trigger.comment is not None
        comments = tuple(gateway.comments(issue.repo, issue.number)) if listed else ()
    status_comment, record = find_status(comments)
    wanted = needs(trigger, issue, comments, record, rules)
    form = parse_form(rules.application_form, issue.body)

    facts = None
    if wanted.repo_facts and form.repository is not None:
        facts = repo_facts(gateway, form.repository, rules, now)
    reactions = None
    if wanted.reactions:
        reactions = tuple(gateway.issue_reactions(issue.repo, issue.number))
    if wanted.ledger and ledger is None:
        ledger = fetch_ledger(gateway, issue.repo, rules)
    team_names = all_teams(rules)
    members = {login.lower(): teams.teams_of(gateway, login, team_names) for login in wanted.team_lookups}
    assignable = {login.lower(): gateway.can_be_assigned(issue.repo, login) for login in wanted.assignees}
    return Snapshot(
        issue=issue, comments=comments, status_comment=status_comment, record=record, repo_facts=facts,
        reactions=reactions, team_members=members, assignable=assignable, ledger=ledger,
        bot_markers=bot_markers(comments) | extra_markers, form=form,
    )
