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

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable, NotFound
from bot.policy.commands import FundingLedger
from bot.policy.decide import Needs, Snapshot, Trigger, assignee_lookups, ledger_round, needs
from bot.policy.answers import RepoRef
from bot.policy.markers import FoundRecord, find_status, notices_posted, status_comments
from bot.policy.seal import verified
from bot.policy.models import Comment, Issue, RepoFacts, RepoStatus
from bot.policy.record import Record
from bot.policy.assign import ReviewerLoad
from bot.policy.roles import all_teams
from bot.policy.rules import Rules

TOP_CONTRIBUTORS = 10  # the repository's people a reviewer is conflicted by (SPEC §14)


def repo_facts(gateway: GitHubGateway, repo: RepoRef, rules: Rules, now: dt.datetime, *,
               refusals_are_findings: bool = True) -> RepoFacts:
    """SPEC §3's facts in at most three conditional requests; GitHub's refusals become findings
    (for an application's status comment), or are raised (`fundbot check`: the asker's credentials)."""
    requested = repo.full_name
    try:
        info = gateway.repository(requested)
    except NotFound:
        return RepoFacts(requested=requested, status=RepoStatus.NOT_FOUND)
    except GitHubUnavailable:
        raise  # retried already: leave the whole delivery for the sweep rather than record a false finding
    except GitHubError as err:
        if not refusals_are_findings:
            raise
        return RepoFacts(requested=requested, status=RepoStatus.ERROR, error=f"{err.status} {err.message}")
    facts = RepoFacts(
        requested=requested, status=RepoStatus.OK, full_name=info.full_name, html_url=info.html_url,
        private=info.private, archived=info.archived, default_branch=info.default_branch,
        pushed_at=info.pushed_at, licence_spdx=info.licence_spdx, licence_key=info.licence_key,
        people_logins=(info.full_name.split("/", 1)[0].lower(),), owner_is_org=info.owner_is_org,
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
    (the sweep puts the fund-state issue back in step with it). A record from before rounds were kept
    counts in the first round."""
    grants: dict[str, dict[int, Decimal]] = {}
    for number, record in records:
        if record.funded and record.outcome and record.outcome.amount:
            grants.setdefault(record.round or rules.funding.rounds[0].name, {})[number] = record.outcome.amount
    return grants


class TeamCache:
    """Memberships (of reviewer teams, and public ones of an applicant's organisation) looked up once
    and kept for a while: membership rarely changes."""

    def __init__(self, ttl_seconds: float = 600, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[tuple[str, str], tuple[bool, float]] = {}
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def _member(self, key: tuple[str, str], look_up: Callable[[], bool]) -> bool:
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and cached[1] >= self._clock():
            return cached[0]
        member = look_up()
        with self._lock:
            self._entries[key] = (member, self._clock() + self._ttl)
        return member

    def teams_of(self, gateway: GitHubGateway, login: str, teams: Iterable[str]) -> frozenset[str]:
        def look_up(team: str) -> Callable[[], bool]:
            org, slug = team.split("/", 1)
            return lambda: gateway.is_team_member(org, slug, login)

        return frozenset(team for team in teams if self._member((team.lower(), login.lower()), look_up(team)))

    def public_member(self, gateway: GitHubGateway, org: str, login: str) -> bool:
        return self._member((f"org:{org.lower()}", login.lower()), lambda: gateway.is_public_member(org, login))


@dataclass(frozen=True)
class FundAccess:
    """What an application's run reads of the fund beyond it, at most once per run (under the fund's
    lock when the run holds it): the round's ledger, and the reviewers' load for assignment."""

    ledger: Callable[[str, int], FundingLedger]  # (round name, application) -> the ledger of the round holding it
    load: Callable[[Rules], ReviewerLoad]


@dataclass(frozen=True)
class Opened:
    """What is read first, under the application's lock: the issue and its comments, and what they say
    `decide` will need."""

    issue: Issue
    comments: tuple[Comment, ...]
    wanted: Needs
    found: FoundRecord  # the status comment's record, if its seal holds
    seal_key: bytes | None = None


def open_application(gateway: GitHubGateway, issue: Issue, trigger: Trigger, rules: Rules, now: dt.datetime,
                     seal_key: bytes | None = None, seal_previous: tuple[bytes, ...] = ()) -> Opened:
    """:calls: the issue and its comments, again (the argument may be a stale payload, or a row of the
    sweep's listing). A record whose seal does not hold is not used: the state is rebuilt."""
    fresh = gateway.issue(issue.repo, issue.number)
    comments = tuple(gateway.comments(issue.repo, issue.number))
    if trigger.comment is not None and all(c.id != trigger.comment.id for c in comments):
        comments += (trigger.comment,)  # GitHub's list may lag the webhook by a moment
    found = verified(find_status(comments, gateway.app_login)[1], seal_key, fresh.repo, fresh.number, seal_previous)
    return Opened(fresh, comments, needs(trigger, fresh, comments, found.record, rules, now), found, seal_key)


def gather(
    gateway: GitHubGateway,
    opened: Opened,
    trigger: Trigger,
    rules: Rules,
    now: dt.datetime,
    *,
    teams: TeamCache,
    fund: FundAccess | None = None,
) -> Snapshot:
    """Read the rest of what `decide` needs for the application `opened` holds."""
    fresh, comments, wanted = opened.issue, opened.comments, opened.wanted
    login = gateway.app_login
    status_comment = find_status(comments, login)[0]
    found, seal_key = opened.found, opened.seal_key
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
    load = fund.load(rules) if wanted.load and fund is not None else None
    record = found.record
    round_name = ledger_round(record, fresh, rules)
    # Conflicts beyond the data read: reviewers who are public members of the applicant's organisation,
    # each looked up once per application (the record keeps the answer) and cached across applications.
    org = (facts.full_name or "").split("/", 1)[0].lower() if facts and facts.owner_is_org else \
        (record.repo_org if record else "")
    known = set(record.affiliated + record.cleared) if record else set()
    wanted_people = set(wanted.affiliation_lookups) | ({c for cs in load.candidates.values() for c in cs} if load else set())
    affiliations = {who: teams.public_member(gateway, org, who) for who in sorted(wanted_people - known)} if org else {}
    return Snapshot(
        issue=fresh, comments=comments, status_comment=status_comment, found=found, duplicates=duplicates,
        repo_facts=facts, reactions=reactions, team_members=members, assignable=assignable,
        # A rebuild (no trusted record) looks for the application's grant in every round of the ledger.
        ledger=fund.ledger(round_name, fresh.number) if wanted.ledger and fund is not None and (
            round_name or record is None) else None,
        posted=notices_posted(comments, login), form=form, collaborators=collaborators,
        affiliations=affiliations, load=load, seal_key=seal_key,
    )
