"""GitHub-shaped JSON for what the evidence pack reads: the community profile, releases, stargazers with
when they starred, and the statistics of contributors and participation. Each body starts as GitHub's own
example (``shapes/``: community-profile, release, stargazer-items, contributor-activity-items,
participation-stats) with the fields we model filled in from the state (``model.py``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .model import Account, Release, Repo
from .render import Urls, example, iso, node_id, template, user

UTC = timezone.utc
# The files GitHub's community profile looks for, where it looks for them (lower-case paths).
COMMUNITY_FILES = {
    "readme": ("readme", "readme.md", "readme.rst", "docs/readme.md", ".github/readme.md"),
    "contributing": ("contributing", "contributing.md", "docs/contributing.md", ".github/contributing.md"),
    "code_of_conduct": ("code_of_conduct.md", "docs/code_of_conduct.md", ".github/code_of_conduct.md"),
    "license": ("license", "license.md", "license.txt", "copying"),
    "pull_request_template": ("pull_request_template.md", ".github/pull_request_template.md",
                              "docs/pull_request_template.md"),
}
RECOMMENDED = 7  # description, README, code of conduct, contributing, licence, issue templates, PR template


def community_profile(repo: Repo, urls: Urls) -> dict:
    """``GET /repos/{o}/{r}/community/profile``: which recommended files exist, and how many of them (the
    sandbox's health percentage is the share of the seven recommended items present)."""
    body = example("community-profile", repo.full_name, urls)
    paths = {p.lower(): p for p in repo.files}

    def found(kind: str) -> str | None:
        return next((paths[p] for p in COMMUNITY_FILES[kind] if p in paths), None)

    def file_link(path: str | None) -> dict | None:
        if path is None:
            return None
        return {"url": f"{urls.api}/repos/{repo.full_name}/contents/{path}",
                "html_url": f"{urls.web}/{repo.full_name}/blob/{repo.default_branch}/{path}"}

    issue_templates = any(p.startswith(".github/issue_template/") or p == ".github/issue_template.md" for p in paths)
    files = body["files"]
    conduct = found("code_of_conduct")
    files["code_of_conduct"] = dict(files["code_of_conduct"], html_url=file_link(conduct)["html_url"]) if conduct else None
    files["code_of_conduct_file"] = file_link(conduct)
    files["contributing"] = file_link(found("contributing"))
    files["readme"] = file_link(found("readme"))
    files["pull_request_template"] = file_link(found("pull_request_template"))
    files["issue_template"] = file_link(".github/ISSUE_TEMPLATE") if issue_templates else None
    licence = found("license")
    files["license"] = {"name": repo.license_name, "key": repo.license_key, "spdx_id": repo.license_spdx,
                        "url": f"{urls.api}/licenses/{repo.license_key}", "node_id": node_id("License", repo.license_key or 0),
                        "html_url": file_link(licence)["html_url"]} if licence and repo.license_spdx else None
    present = [bool(repo.description)] + [files[k] is not None for k in
                                          ("readme", "code_of_conduct", "contributing", "license", "issue_template",
                                           "pull_request_template")]
    body.update(health_percentage=100 * sum(present) // RECOMMENDED, description=repo.description,
                documentation=None, updated_at=iso(repo.updated_at), content_reports_enabled=False)
    return body


def release(item: Release, repo: Repo, urls: Urls) -> dict:
    body = example("release", repo.full_name, urls, ("v1.0.0", item.tag), ("releases/1", f"releases/{item.id}"))
    body.update(id=item.id, node_id=node_id("Release", item.id), tag_name=item.tag, name=item.tag,
                draft=item.published_at is None, prerelease=item.prerelease, created_at=iso(item.created_at),
                published_at=iso(item.published_at), author=user(item.author, urls), assets=[])
    return body


def stargazer(account: Account, starred_at: datetime, urls: Urls, with_time: bool) -> dict:
    """A stargazer: the user, or with ``application/vnd.github.star+json`` the user and ``starred_at``."""
    if not with_time:
        return user(account, urls)
    body = template("stargazer-items")[0]
    body.update(starred_at=iso(starred_at), user=user(account, urls))
    return body


def week_of(moment: datetime) -> datetime:
    """The start of the week (Sunday, 00:00 UTC) GitHub's statistics count a moment in."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def contributor_activity(repo: Repo, urls: Urls) -> list[dict]:
    """``/stats/contributors``: each author's commits per week, from the first week of the history to the
    last; ordered by total, smallest first. Additions and deletions are not modelled (0)."""
    if not repo.commits:
        return []
    first, last = week_of(repo.commits[-1].date), week_of(repo.commits[0].date)
    weeks = []
    moment = first
    while moment <= last:
        weeks.append(moment)
        moment += timedelta(days=7)
    by_author: dict[str, tuple[Account, dict[datetime, int]]] = {}
    for commit in repo.commits:
        entry = by_author.setdefault(commit.author.login.lower(), (commit.author, {}))
        week = week_of(commit.date)
        entry[1][week] = entry[1].get(week, 0) + 1
    shape = template("contributor-activity-items")[0]
    out = []
    for account, counts in by_author.values():
        body = dict(shape, author=user(account, urls), total=sum(counts.values()),
                    weeks=[{"w": int(w.timestamp()), "a": 0, "d": 0, "c": counts.get(w, 0)} for w in weeks])
        out.append(body)
    return sorted(out, key=lambda b: b["total"])


def participation(repo: Repo, now: datetime) -> dict:
    """``/stats/participation``: commits in each of the last 52 weeks, oldest first (the newest week ends
    today at 00:00 UTC), everyone's and the owner's."""
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [end - timedelta(days=7 * (52 - i)) for i in range(52)]

    def counts(commits: list) -> list[int]:
        return [sum(1 for c in commits if start <= c.date < start + timedelta(days=7)) for start in starts]

    body = template("participation-stats")
    body.update({"all": counts(repo.commits),
                 "owner": counts([c for c in repo.commits if c.author.login.lower() == repo.owner.login.lower()])})
    return body
