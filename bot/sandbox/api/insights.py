"""Handlers for what the evidence pack reads of a repository: its community profile (refused for a fork),
the statistics of contributors and participation (202 while being computed, 204 when empty, 422 past
10,000 commits), releases, stargazers (with `starred_at` for `application/vnd.github.star+json`; GitHub
pages through at most 400 pages of them), and the comments on all its issues and pull requests."""
from __future__ import annotations

from .. import render, render_insights
from ..state.errors import GitHubError, not_found
from .call import Call, Listing, Reply

STAR_MEDIA_TYPE = "application/vnd.github.star+json"
STATS_DOCS = "https://docs.github.com/rest/metrics/statistics"
MAX_STATS_COMMITS = 10_000
MAX_LISTED = 40_000  # stargazers GitHub pages through: 400 pages of 100


def get_community_profile(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/community/profile (the repository cannot be a fork)"""
    if call.repo.parent is not None:
        raise not_found()
    return Reply(200, render_insights.community_profile(call.repo, call.urls))


def _statistics(call: Call, kind: str) -> Reply | None:
    """What every statistics endpoint answers before its data: 202 while computing, 204 for an empty
    repository, 422 for a history of 10,000 commits or more."""
    repo = call.repo
    if repo.stats_pending.get(kind, 0) > 0:
        repo.stats_pending[kind] -= 1
        return Reply(202, {})
    if repo.empty or not repo.commits:
        return Reply(204, None)
    if len(repo.commits) + repo.commit_count >= MAX_STATS_COMMITS:
        raise GitHubError(422, "Repository contains more than 10,000 commits", documentation_url=STATS_DOCS)
    return None


def get_contributors_stats(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/stats/contributors"""
    return _statistics(call, "contributors") or Reply(200, render_insights.contributor_activity(call.repo, call.urls))


def get_participation_stats(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/stats/participation"""
    return _statistics(call, "participation") or Reply(200, render_insights.participation(call.repo, call.sandbox.now()))


def list_releases(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/releases (newest first; drafts only for those who can push)"""
    repo = call.repo
    shown = [r for r in repo.releases if r.published_at is not None or call.may("write")]
    shown.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return Listing(shown, lambda r: render_insights.release(r, repo, call.urls))


def list_stargazers(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/stargazers (oldest first)"""
    per_page = min(max(int(call.query.get("per_page") or 30), 1), 100)
    page = int(call.query.get("page") or 1)
    if page * per_page > MAX_LISTED:
        raise GitHubError(422, "In order to keep the API fast for everyone, pagination is limited for this resource.",
                          documentation_url="https://docs.github.com/rest/activity/starring#list-stargazers")
    with_time = STAR_MEDIA_TYPE in call.accept
    return Listing(call.repo.stars, lambda s: render_insights.stargazer(s[0], s[1], call.urls, with_time))


def list_repo_comments(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/issues/comments (every issue's and pull request's; by created or
    updated time, ascending unless asked otherwise)"""
    since = call.since()
    found = [c for issue in call.repo.issues.values() for c in issue.comments
             if since is None or c.updated_at >= since]
    key = "updated_at" if call.query.get("sort") == "updated" else "created_at"
    found.sort(key=lambda c: (getattr(c, key), c.id), reverse=call.query.get("direction") == "desc")
    return Listing(found, lambda c: render.comment(c, call.urls, call.app))
