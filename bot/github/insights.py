"""GitHub's side of the evidence pack (issue 21): the endpoints it reads, each request counted against the
pack's budget (at most 25), conditional (an unchanged answer costs nothing against the rate limit) and sent
on the transport's thread-safe way out (`raw=True`), so independent reads run in parallel.

The statistics endpoints (`/stats/*`) answer 202 while GitHub computes them: asked again a bounded number of
times (`STATS_ATTEMPTS`, waiting `STATS_WAIT` seconds, then twice that), then said "still computing" — never
through PyGithub, whose requester retries a 202 without limit (SPEC §10). A repository of 10,000 commits or
more is answered 422, an empty one 204: answers, not errors. What comes out is plain data
(`bot.policy.evidence`), never PyGithub objects.
"""
from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot.github.gateway import GitHubGateway
from bot.github.transport import PER_PAGE, GitHubError, NotFound, Response, parse_link, repo_path
from bot.policy.evidence import ContributorWeeks, Remark, Thread
from bot.policy.models import parse_time

MAX_REQUESTS = 25  # GitHub requests one pack may make (issue 21)
STATS_ATTEMPTS = 3  # asks of a statistics endpoint in all, while GitHub answers 202
STATS_WAIT = 1.0  # seconds before asking again after a 202 (then twice as long)
STAR_MEDIA_TYPE = "application/vnd.github.star+json"  # stargazers with `starred_at`
MAX_STAR_PAGE = 400  # GitHub lists at most 400 pages of 100 stargazers


class OverBudget(Exception):
    """The pack has made all the GitHub requests it may."""


class Budget:
    """The GitHub requests one pack may still make (shared by its parallel reads)."""

    def __init__(self, limit: int = MAX_REQUESTS) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.spent >= self.limit:
                raise OverBudget(f"{self.limit} GitHub requests spent")
            self.spent += 1


@dataclass(frozen=True)
class Statistics:
    """A statistics endpoint's answer: `ok` with its data, or why not (`computing`, `too_large`, `empty`)."""

    status: str
    data: Any = None


class Insights:
    """The evidence pack's reads of one repository, on one gateway, within one budget."""

    def __init__(self, gateway: GitHubGateway, budget: Budget, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._t = gateway.transport
        self._budget = budget
        self._sleep = sleep

    def _get(self, path: str, params: Mapping[str, Any] | None = None, accept: str | None = None) -> Response:
        self._budget.take()
        return self._t.request("GET", path, params=params, conditional=True, accept=accept, raw=True)

    def community_profile(self, full_name: str) -> tuple[int, frozenset[str]]:
        """:calls: `GET /repos/{owner}/{repo}/community/profile` (not for a fork): the health percentage and
        the community files present (readme, contributing, code_of_conduct, license, issue_template,
        pull_request_template)."""
        data = self._get(f"{repo_path(full_name)}/community/profile").data or {}
        files = data.get("files") or {}
        present = {name for name in ("readme", "contributing", "license", "issue_template", "pull_request_template")
                   if files.get(name)}
        if files.get("code_of_conduct") or files.get("code_of_conduct_file"):
            present.add("code_of_conduct")
        return int(data.get("health_percentage") or 0), frozenset(present)

    def listing(self, full_name: str, path: str = "") -> tuple[str, ...]:
        """:calls: `GET /repos/{owner}/{repo}/contents/{path}`: the names in a folder of the default branch
        (none when it is not there, or the repository is empty)."""
        try:
            data = self._get(f"{repo_path(full_name)}/contents/{quote(path)}").data
        except NotFound:
            return ()
        return tuple(str(item.get("name") or "") for item in data) if isinstance(data, list) else ()

    def text(self, full_name: str, path: str) -> str | None:
        """:calls: `GET /repos/{owner}/{repo}/contents/{path}`: a file's text (None when absent or over 1 MB)."""
        try:
            data = self._get(f"{repo_path(full_name)}/contents/{quote(path)}").data
        except NotFound:
            return None
        if not isinstance(data, Mapping) or data.get("encoding") != "base64":
            return None
        return base64.b64decode(str(data.get("content") or "")).decode("utf-8", errors="replace")

    def statistics(self, full_name: str, kind: str) -> Statistics:
        """:calls: `GET /repos/{owner}/{repo}/stats/{kind}` (`contributors`, `participation`), at most
        STATS_ATTEMPTS times while GitHub answers 202."""
        wait = STATS_WAIT
        for attempt in range(1, STATS_ATTEMPTS + 1):
            try:
                response = self._get(f"{repo_path(full_name)}/stats/{kind}")
            except GitHubError as err:
                if err.status == 422:  # "Repository contains more than 10,000 commits"
                    return Statistics("too_large")
                raise
            if response.status == 204:
                return Statistics("empty")
            if response.status != 202:
                return Statistics("ok", response.data)
            if attempt < STATS_ATTEMPTS:
                self._sleep(wait)
                wait *= 2
        return Statistics("computing")

    def contributors(self, data: Any) -> list[ContributorWeeks]:
        """`/stats/contributors`' answer as plain data."""
        people = []
        for item in data or []:
            author = item.get("author") or {}
            weeks = tuple((dt.datetime.fromtimestamp(int(w.get("w") or 0), dt.timezone.utc).date(), int(w.get("c") or 0))
                          for w in item.get("weeks") or [])
            people.append(ContributorWeeks(str(author.get("login") or "?"), author.get("type") == "Bot", weeks))
        return people

    def releases(self, full_name: str) -> tuple[list[dt.datetime], bool]:
        """:calls: `GET /repos/{owner}/{repo}/releases?per_page=100` (one page): when each published release
        came out, and whether GitHub has more."""
        response = self._get(f"{repo_path(full_name)}/releases", {"per_page": PER_PAGE})
        published = [moment for item in response.data or [] if not item.get("draft")
                     and (moment := parse_time(item.get("published_at") or item.get("created_at"))) is not None]
        return published, "next" in parse_link(response.headers.get("link"))

    def stargazers(self, full_name: str, page: int) -> list[dt.datetime]:
        """:calls: `GET /repos/{owner}/{repo}/stargazers?per_page=100&page=…` with `starred_at`
        (`application/vnd.github.star+json`)."""
        response = self._get(f"{repo_path(full_name)}/stargazers", {"per_page": PER_PAGE, "page": page},
                             accept=STAR_MEDIA_TYPE)
        return [moment for item in response.data or [] if (moment := parse_time(item.get("starred_at"))) is not None]

    def threads(self, full_name: str, count: int) -> list[Thread]:
        """:calls: `GET /repos/{owner}/{repo}/issues?state=all&sort=created&direction=desc&per_page=…`: the
        newest issues and pull requests (GitHub lists both)."""
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": min(count, PER_PAGE)}
        found = []
        for item in self._get(f"{repo_path(full_name)}/issues", params).data or []:
            user = item.get("user") or {}
            pull = item.get("pull_request")
            created = parse_time(item.get("created_at"))
            if created is None:
                continue
            found.append(Thread(int(item["number"]), str(user.get("login") or ""), user.get("type") == "Bot",
                                str(item.get("author_association") or "NONE"), created, pull is not None,
                                parse_time(item.get("closed_at")),
                                parse_time((pull or {}).get("merged_at")) if isinstance(pull, Mapping) else None))
        return found

    def remarks(self, full_name: str, since: dt.datetime, pages: int = 2) -> tuple[list[Remark], bool]:
        """:calls: `GET /repos/{owner}/{repo}/issues/comments?sort=created&direction=asc&since=…&per_page=100`
        (at most `pages` pages): the comments on the repository's issues and pull requests since `since`,
        oldest first, and whether there were more."""
        params: Mapping[str, Any] | None = {"sort": "created", "direction": "asc", "per_page": PER_PAGE,
                                            "since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        url: str | None = f"{repo_path(full_name)}/issues/comments"
        found: list[Remark] = []
        for _ in range(pages):
            assert url is not None
            response = self._get(url, params)
            for item in response.data or []:
                user = item.get("user") or {}
                number = str(item.get("issue_url") or "").rsplit("/", 1)[-1]
                created = parse_time(item.get("created_at"))
                if number.isdigit() and created is not None:
                    found.append(Remark(int(number), str(user.get("login") or ""), user.get("type") == "Bot", created))
            url, params = parse_link(response.headers.get("link")).get("next"), None
            if not url:
                return found, False
        return found, True


__all__ = ["MAX_REQUESTS", "MAX_STAR_PAGE", "STATS_ATTEMPTS", "STATS_WAIT", "Budget", "Insights", "OverBudget",
           "Statistics"]
