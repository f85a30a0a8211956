"""A repository's facts for eligibility (SPEC §3), read in at most three conditional requests.

`GET /repos/{o}/{r}`, the commits of the window (`per_page=1`, counted through the `Link` header) and
the contributors (likewise); GitHub's refusals become findings — a missing or private repository, an
empty one (409 on commits, 204 on contributors), a huge one (403 "too large") — never exceptions, for an
application's status comment; `fundbot check` asks for them raised instead (the asker's credentials).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable, NotFound
from bot.policy.answers import RepoRef
from bot.policy.models import RepoFacts, RepoStatus


TOP_CONTRIBUTORS = 10  # the repository's people a reviewer is conflicted by (SPEC §14)


def repo_facts(gateway: GitHubGateway, repo: RepoRef, window_days: int, now: dt.datetime, *,
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
    since = now - dt.timedelta(days=window_days)
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
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]

