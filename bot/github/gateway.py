"""The GitHub gateway: the only module that imports PyGithub.

PyGithub gives us App authentication (the JWT), GitHub Enterprise base URLs and the HTTP
session; every request goes through `Transport.request`, which adds what a bot needs and
PyGithub's defaults do not give (SPEC §10):

- no hidden throttling: PyGithub's 0.25 s / 1 s sleeps are off for deliveries and set
  deliberately for bulk work (the sweep asks for `throttle_writes`);
- retries with backoff on 5xx and on primary/secondary rate limits, honouring `Retry-After` and
  `X-RateLimit-Reset`, but never waiting longer in all than `max_wait` (a worker must not sleep
  for an hour); past that, `GitHubUnavailable` leaves the work for the sweep. PyGithub's own
  `GithubRetry` sleeps inside urllib3, uncapped for a `Retry-After`, where tests cannot see it;
- conditional GETs (ETag / If-None-Match): a 304 does not count against the rate limit;
- plain frozen dataclasses out (`bot.policy.models`), never lazy PyGithub objects, so the core can
  never trigger a hidden request.

Each public method says which endpoint it calls.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlparse

import requests
from cryptography.hazmat.primitives import serialization
from github import Auth, Github

from bot.config.settings import Settings
from bot.github.pacing import Limits, LocalPacer, Pacer, wait_for_slot
from bot.metrics import observe_github
from bot.policy.models import Comment, Issue, Reaction, RepoLabel, User, parse_time
from bot.policy.text import bounded_output

log = logging.getLogger("fundbot.gateway")
T = TypeVar("T")

PER_PAGE = 100
TOKEN_REFRESH_MARGIN = dt.timedelta(minutes=5)  # installation tokens live 1 h; renew a little early


class GitHubError(Exception):
    """GitHub answered with an error we do not retry."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message
        self.data = data


class NotFound(GitHubError):
    pass


class GitHubUnavailable(GitHubError):
    """GitHub kept failing or rate-limiting past our retry budget; the sweep will finish the job."""


class AnswerLost(GitHubUnavailable):
    """A write that is not safe to repeat got no answer (a 5xx, a timeout): GitHub may have done it.
    The caller looks for what it wrote before writing again (SPEC §11)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base_delay: float = 1.0  # backoff for 5xx / connection errors: base, 2x base, 4x base ...
    max_delay: float = 30.0  # one backoff step is never longer
    max_wait: float = 60.0  # total sleeping allowed for one request
    secondary_default: float = 60.0  # GitHub: wait at least a minute when no Retry-After is given


def retry_delay(
    verb: str, status: int | None, headers: Mapping[str, str], data: Any, attempt: int, policy: RetryPolicy, now: float
) -> float | None:
    """How long to wait before trying again, or None when this answer is final.

    `status=None` means the connection failed. Rules from
    https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
    """
    backoff = min(policy.base_delay * (2 ** (attempt - 1)), policy.max_delay)
    if status is None or status in (502, 503, 504) or (status == 500 and verb == "GET"):
        return backoff
    if status in (403, 429):
        message = str(data.get("message", "")) if isinstance(data, Mapping) else ""
        retry_after = headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            return max(float(reset) - now, 0.0) + 1.0 if reset.isdigit() else policy.secondary_default
        if "rate limit" in message.lower():
            return policy.secondary_default
    return None


@dataclass
class RequestStats:
    """Requests one gateway made: what a delivery or a sweep cost against the rate limit."""

    reads: int = 0
    writes: int = 0
    not_modified: int = 0  # 304s: free against the rate limit
    retries: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def __str__(self) -> str:
        return f"{self.reads}r/{self.writes}w/{self.not_modified}nm/{self.retries}retry"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    data: Any
    not_modified: bool = False


class ConditionalCache:
    """ETags and bodies of earlier GETs, bounded by size (least recently used dropped first)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._entries: OrderedDict[str, tuple[str, Response, int]] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, Response] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0], entry[1]

    def dump(self) -> list[list[Any]]:
        """The entries as JSON-ready lists, oldest first (for `save_caches`)."""
        with self._lock:
            return [[key, etag, r.status, dict(r.headers), r.data, size]
                    for key, (etag, r, size) in self._entries.items()]

    def load(self, entries: list[list[Any]]) -> None:
        for key, etag, status, headers, data, size in entries:
            self.put(key, etag, Response(status, headers, data), size)

    def put(self, key: str, etag: str, response: Response, size: int) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old:
                self._bytes -= old[2]
            self._entries[key] = (etag, response, size)
            self._bytes += size
            while self._bytes > self._max_bytes and self._entries:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped


_LINK_RE = re.compile(r'<([^>]+)>;\s*rel="([a-z]+)"')


def parse_link(header: str | None) -> dict[str, str]:
    """`Link: <url>; rel="next", <url>; rel="last"` as {rel: url}."""
    return {rel: url for url, rel in _LINK_RE.findall(header or "")}


def last_page(header: str | None) -> int | None:
    last = parse_link(header).get("last")
    if not last:
        return None
    page = parse_qs(urlparse(last).query).get("page", [None])[0]
    return int(page) if page and page.isdigit() else None


class Transport:
    """One authenticated channel to GitHub: retries, conditional GETs and counting."""

    def __init__(
        self,
        requester_factory: Callable[[], Any],
        *,
        scope: str,
        cache: ConditionalCache | None,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        renew: Callable[[], None] | None = None,
    ) -> None:
        self._requester_factory = requester_factory
        self.scope = scope
        self._cache = cache
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._renew = renew  # drops a credential GitHub refused, so the next try fetches a new one
        self.stats = RequestStats()

    def request(
        self,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        conditional: bool = False,
        idempotent: bool = True,
    ) -> Response:
        """Send one request; raise `NotFound`, `GitHubError` or `GitHubUnavailable` on failure.

        A write that is not `idempotent` (creating a comment or an issue) is not repeated after a
        5xx or a lost connection — GitHub may have carried it out — but raises `AnswerLost`."""
        key = f"{self.scope} {url} {json.dumps(params, sort_keys=True)}"
        cached = self._cache.get(key) if (conditional and self._cache and verb == "GET") else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        waited = 0.0
        renewed = False
        for attempt in range(1, self._policy.attempts + 1):
            status, response_headers, data = self._send(verb, url, params, headers, body)
            if status is not None and status < 400:
                break
            if status == 401 and self._renew is not None and not renewed and attempt < self._policy.attempts:
                # An installation token GitHub no longer takes (revoked, or expired early by our
                # clock): fetch a new one and try once more, instead of failing the delivery.
                log.info("GitHub refused the installation token; renewing it", extra={"reason": f"{verb} {url}"})
                self._renew()
                renewed = True
                continue
            if not idempotent and (status is None or status >= 500):
                self._count(verb)
                raise AnswerLost(status or 0, _message(data) or "no answer from GitHub", data)
            delay = retry_delay(verb, status, response_headers, data, attempt, self._policy, self._clock())
            if delay is None:
                self._count(verb)
                raise _error(status or 0, data)
            if attempt == self._policy.attempts or waited + delay > self._policy.max_wait:
                raise GitHubUnavailable(status or 0, _message(data) or "GitHub is unavailable", data)
            log.info("retrying GitHub request", extra={"status": status, "reason": f"{verb} {url} in {delay:.1f}s"})
            self.stats.retries += 1
            self._sleep(delay)
            waited += delay
        assert status is not None
        self._count(verb)
        if status == 304 and cached:
            self.stats.not_modified += 1
            return Response(cached[1].status, cached[1].headers, cached[1].data, not_modified=True)
        response = Response(status, response_headers, data)
        etag = response_headers.get("etag")
        if conditional and self._cache and verb == "GET" and etag:
            self._cache.put(key, etag, response, len(json.dumps(data)) if data is not None else 0)
        return response

    def _count(self, verb: str) -> None:
        if verb == "GET":
            self.stats.reads += 1
        else:
            self.stats.writes += 1

    def _send(
        self, verb: str, url: str, params: Mapping[str, Any] | None, headers: dict[str, str], body: Any
    ) -> tuple[int | None, Mapping[str, str], Any]:
        requester = self._requester_factory()
        try:
            status, response_headers, output = requester.requestJson(
                verb, url, parameters=dict(params) if params else None, headers=headers or None,
                input=body,
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            log.info("GitHub connection failed", extra={"reason": type(err).__name__})
            observe_github(verb, url, None, self.scope, None)
            return None, {}, None
        response_headers = {k.lower(): v for k, v in response_headers.items()}
        observe_github(verb, url, status, self.scope, response_headers.get("x-ratelimit-remaining"))
        try:
            data = json.loads(output) if output else None
        except ValueError:
            data = {"message": output[:200]}
        return status, response_headers, data


def _message(data: Any) -> str:
    return str(data.get("message", "")) if isinstance(data, Mapping) else ""


def _error(status: int, data: Any) -> GitHubError:
    if status == 404:
        return NotFound(status, _message(data) or "Not Found", data)
    return GitHubError(status, _message(data) or "error", data)


def _repo_path(full_name: str) -> str:
    owner, name = full_name.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


@dataclass(frozen=True)
class CommitWindow:
    count: int
    newest_at: dt.datetime | None


@dataclass(frozen=True)
class ContributorPage:
    """The first page of contributors (bots told apart), and whether more pages exist."""

    contributors: tuple[User, ...]
    more: bool
    empty: bool = False  # 204: the repository has no commits
    too_large: bool = False  # 403: GitHub will not list them; there are plenty


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository's default branch: its path, git blob sha and text."""

    path: str
    sha: str
    text: str


def _decode_content(data: Any) -> str:
    import base64

    if not isinstance(data, Mapping) or data.get("encoding") != "base64":
        return ""
    return base64.b64decode(str(data.get("content") or "")).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    html_url: str
    private: bool
    archived: bool
    default_branch: str
    pushed_at: dt.datetime | None
    licence_spdx: str | None
    licence_key: str | None
    owner_is_org: bool = False


class GitHubGateway:
    """GitHub as seen by one installation (or one token): typed reads and idempotent writes.

    Every body the App writes passes `bounded_output`: no bidirectional controls, never longer
    than GitHub takes."""

    def __init__(self, transport: Transport, app_login: Callable[[], str] = lambda: "", *,
                 sleep: Callable[[float], None] = time.sleep, policy: RetryPolicy | None = None,
                 pacer: Pacer | None = None) -> None:
        self._t = transport
        self._app_login = app_login
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        self._pacer = pacer
        self.paced_seconds = 0.0  # how long this gateway's content writes waited for a slot

    @property
    def stats(self) -> RequestStats:
        return self._t.stats

    @property
    def app_login(self) -> str:
        """The login the App writes as (`<slug>[bot]`, or the token's user): its own comments are
        recognised by it, never by `type == "Bot"` (SPEC §11)."""
        return self._app_login()

    def _create_once(self, path: str, payload: dict[str, Any], parse: Callable[[Any], T],
                     find_again: Callable[[], T | None], *, urgent: bool = False) -> T:
        """POST `payload` to `path` — content: paced under GitHub's secondary limits (`bot.github.pacing`)
        — at most once in effect: when the answer is lost, look for what was written (`find_again`)
        and adopt it before trying again."""
        if self._pacer is not None:
            self.paced_seconds += wait_for_slot(self._pacer, self._t.scope, urgent, self._sleep)
        for attempt in range(1, self._policy.attempts + 1):
            try:
                return parse(self._t.request("POST", path, body=payload, idempotent=False).data)
            except AnswerLost:
                if attempt == self._policy.attempts:
                    raise
                self._sleep(min(self._policy.base_delay * 2 ** (attempt - 1), self._policy.max_delay))
                found = find_again()
                if found is not None:
                    log.info("a write GitHub did without answering was found and adopted", extra={"reason": path})
                    return found
        raise AssertionError("not reached")

    # --- repositories -------------------------------------------------------------------

    def repository(self, full_name: str) -> RepoInfo:
        """:calls: `GET /repos/{owner}/{repo}` (conditional; PyGithub follows a 301 for a moved one)"""
        data = self._t.request("GET", _repo_path(full_name), conditional=True).data
        licence = data.get("license") or {}
        return RepoInfo(
            full_name=data["full_name"],
            html_url=data.get("html_url", ""),
            private=bool(data.get("private")),
            archived=bool(data.get("archived")),
            default_branch=data.get("default_branch") or "main",
            pushed_at=parse_time(data.get("pushed_at")),
            licence_spdx=licence.get("spdx_id"),
            licence_key=licence.get("key"),
            owner_is_org=(data.get("owner") or {}).get("type") == "Organization",
        )

    def commits_since(self, full_name: str, since: dt.datetime) -> CommitWindow:
        """:calls: `GET /repos/{owner}/{repo}/commits?since=…&per_page=1` (conditional)

        With one commit per page, the `Link` header's last page is the number of commits.
        Raises `GitHubError(409)` for an empty repository.
        """
        params = {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "per_page": 1}
        response = self._t.request("GET", f"{_repo_path(full_name)}/commits", params=params, conditional=True)
        items = response.data or []
        count = last_page(response.headers.get("link")) or len(items)
        newest = parse_time(items[0]["commit"]["committer"]["date"]) if items else None
        return CommitWindow(count=count, newest_at=newest)

    def contributors(self, full_name: str) -> ContributorPage:
        """:calls: `GET /repos/{owner}/{repo}/contributors?anon=true&per_page=100` (conditional)

        One page of 100 tells bots from people; a further page means at least 100 contributors.
        204 (empty repository) and 403 ("too large to list") are answers, not errors.
        """
        try:
            response = self._t.request(
                "GET", f"{_repo_path(full_name)}/contributors", params={"anon": "true", "per_page": PER_PAGE},
                conditional=True,
            )
        except GitHubError as err:
            if err.status == 403 and "too large" in err.message.lower():
                return ContributorPage(contributors=(), more=True, too_large=True)
            raise
        if response.status == 204 or not response.data:
            return ContributorPage(contributors=(), more=False, empty=response.status == 204)
        people = tuple(
            User(login=c.get("login") or c.get("name") or c.get("email") or "anonymous", type=c.get("type", "User"))
            for c in response.data
        )
        return ContributorPage(contributors=people, more="next" in parse_link(response.headers.get("link")))

    def file(self, full_name: str, path: str) -> "RepoFile | None":
        """:calls: `GET /repos/{owner}/{repo}/contents/{path}` (conditional); None when there is no such file"""
        try:
            data = self._t.request("GET", f"{_repo_path(full_name)}/contents/{quote(path)}", conditional=True).data
        except NotFound:
            return None
        if not isinstance(data, Mapping) or data.get("type") != "file":
            return None
        return RepoFile(path=path, sha=str(data.get("sha") or ""), text=_decode_content(data))

    def blob(self, full_name: str, sha: str) -> str | None:
        """:calls: `GET /repos/{owner}/{repo}/git/blobs/{file_sha}` (conditional): a file as some commit had it"""
        try:
            data = self._t.request("GET", f"{_repo_path(full_name)}/git/blobs/{quote(sha, safe='')}",
                                   conditional=True).data
        except NotFound:
            return None
        return _decode_content(data)

    def installation_repositories(self) -> list[str]:
        """:calls: `GET /installation/repositories?per_page=100` (every page): what this installation may access"""
        names: list[str] = []
        url: str | None = "/installation/repositories"
        params: Mapping[str, Any] | None = {"per_page": PER_PAGE}
        while url:
            response = self._t.request("GET", url, params=params, conditional=True)
            names += [str(r["full_name"]) for r in (response.data or {}).get("repositories", [])]
            url = parse_link(response.headers.get("link")).get("next")
            params = None
        return names

    # --- issues ---------------------------------------------------------------------------

    def issue(self, full_name: str, number: int) -> Issue:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}` (conditional)"""
        data = self._t.request("GET", f"{_repo_path(full_name)}/issues/{number}", conditional=True).data
        return Issue.from_api(data, full_name)

    def issues(self, full_name: str, *, labels: str, state: str = "all") -> list[Issue]:
        """:calls: `GET /repos/{owner}/{repo}/issues?labels=…&state=…&per_page=100` (conditional, every page)

        Pull requests (which this endpoint also returns) are left out.
        """
        params = {"labels": labels, "state": state, "per_page": PER_PAGE, "sort": "created", "direction": "asc"}
        return [
            issue
            for item in self._pages(f"{_repo_path(full_name)}/issues", params)
            if not (issue := Issue.from_api(item, full_name)).is_pull_request
        ]

    def update_issue(self, full_name: str, number: int, **fields: Any) -> Issue:
        """:calls: `PATCH /repos/{owner}/{repo}/issues/{issue_number}`"""
        if "body" in fields:
            fields["body"] = bounded_output(fields["body"])
        data = self._t.request("PATCH", f"{_repo_path(full_name)}/issues/{number}", body=fields).data
        return Issue.from_api(data, full_name)

    def create_issue(self, full_name: str, title: str, body: str, labels: tuple[str, ...] = (), *,
                     marker: str | None = None) -> Issue:
        """:calls: `POST /repos/{owner}/{repo}/issues`; when the answer is lost, the App's open issue
        carrying `marker` (looked for among those with the first label) is adopted instead of a second."""
        payload = {"title": title, "body": bounded_output(body), "labels": list(labels)}

        def find_again() -> Issue | None:
            if not marker or not labels:
                return None
            return next((i for i in self.issues(full_name, labels=labels[0], state="open")
                         if i.user.login.lower() == self.app_login.lower() and marker in i.body), None)

        return self._create_once(f"{_repo_path(full_name)}/issues", payload,
                                 lambda data: Issue.from_api(data, full_name), find_again)

    def comments(self, full_name: str, number: int) -> list[Comment]:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}/comments?per_page=100` (conditional, every page)"""
        path = f"{_repo_path(full_name)}/issues/{number}/comments"
        return [Comment.from_api(item) for item in self._pages(path, {"per_page": PER_PAGE})]

    def create_comment(self, full_name: str, number: int, body: str, *, marker: str | None = None,
                       urgent: bool = False) -> Comment:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`

        When the answer is lost (a 5xx, a timeout), the comments are listed and the App's comment
        carrying `marker` is adopted, so a comment is never posted twice (SPEC §11)."""
        path = f"{_repo_path(full_name)}/issues/{number}/comments"
        text = bounded_output(body)

        def find_again() -> Comment | None:
            if not marker:
                return None
            return next((c for c in self.comments(full_name, number)
                         if c.user.login.lower() == self.app_login.lower() and marker in c.body), None)

        return self._create_once(path, {"body": text}, Comment.from_api, find_again, urgent=urgent)

    def edit_comment(self, full_name: str, comment_id: int, body: str) -> Comment:
        """:calls: `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`"""
        path = f"{_repo_path(full_name)}/issues/comments/{comment_id}"
        return Comment.from_api(self._t.request("PATCH", path, body={"body": bounded_output(body)}).data)

    def delete_comment(self, full_name: str, comment_id: int) -> None:
        """:calls: `DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}`; already gone is fine"""
        try:
            self._t.request("DELETE", f"{_repo_path(full_name)}/issues/comments/{comment_id}")
        except NotFound:
            pass

    # --- labels ---------------------------------------------------------------------------

    def add_labels(self, full_name: str, number: int, names: tuple[str, ...]) -> None:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/labels`"""
        self._t.request("POST", f"{_repo_path(full_name)}/issues/{number}/labels", body={"labels": list(names)})

    def remove_label(self, full_name: str, number: int, name: str) -> None:
        """:calls: `DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}`; already gone is fine"""
        try:
            self._t.request("DELETE", f"{_repo_path(full_name)}/issues/{number}/labels/{quote(name, safe='')}")
        except NotFound:
            pass

    def repo_labels(self, full_name: str) -> list[RepoLabel]:
        """:calls: `GET /repos/{owner}/{repo}/labels?per_page=100` (conditional, every page)"""
        return [
            RepoLabel(name=item["name"], color=item.get("color", ""), description=item.get("description") or "")
            for item in self._pages(f"{_repo_path(full_name)}/labels", {"per_page": PER_PAGE})
        ]

    def create_label(self, full_name: str, name: str, color: str, description: str) -> None:
        """:calls: `POST /repos/{owner}/{repo}/labels`"""
        body = {"name": name, "color": color, "description": description}
        self._t.request("POST", f"{_repo_path(full_name)}/labels", body=body)

    def update_label(self, full_name: str, current_name: str, name: str, color: str, description: str) -> None:
        """:calls: `PATCH /repos/{owner}/{repo}/labels/{name}`"""
        body = {"new_name": name, "color": color, "description": description}
        self._t.request("PATCH", f"{_repo_path(full_name)}/labels/{quote(current_name, safe='')}", body=body)

    # --- reactions, assignees, people -------------------------------------------------------

    def issue_reactions(self, full_name: str, number: int) -> list[Reaction]:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}/reactions?per_page=100` (conditional)"""
        path = f"{_repo_path(full_name)}/issues/{number}/reactions"
        return [
            Reaction(content=item["content"], user=User.from_api(item.get("user")))
            for item in self._pages(path, {"per_page": PER_PAGE})
        ]

    def react_to_comment(self, full_name: str, comment_id: int, content: str) -> None:
        """:calls: `POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions` (200 if already there)"""
        path = f"{_repo_path(full_name)}/issues/comments/{comment_id}/reactions"
        self._t.request("POST", path, body={"content": content})

    def add_assignees(self, full_name: str, number: int, logins: tuple[str, ...]) -> tuple[str, ...]:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/assignees`; returns who is assigned now"""
        path = f"{_repo_path(full_name)}/issues/{number}/assignees"
        data = self._t.request("POST", path, body={"assignees": list(logins)}).data
        return tuple(a["login"] for a in data.get("assignees") or [])

    def can_be_assigned(self, full_name: str, login: str) -> bool:
        """:calls: `GET /repos/{owner}/{repo}/assignees/{assignee}` (204 yes, 404 no)"""
        try:
            self._t.request("GET", f"{_repo_path(full_name)}/assignees/{quote(login, safe='')}")
        except NotFound:
            return False
        return True

    def collaborators(self, full_name: str, limit: int = 10) -> tuple[str, ...]:
        """:calls: `GET /repos/{owner}/{repo}/collaborators?permission=push&per_page=…` (conditional, one page)

        Who can act on the repository: the people a reminder names when the rules name no one."""
        params = {"permission": "push", "per_page": limit}
        data = self._t.request("GET", f"{_repo_path(full_name)}/collaborators", params=params, conditional=True).data
        return tuple(c["login"] for c in data or [] if c.get("type") != "Bot")

    def is_public_member(self, org: str, login: str) -> bool:
        """:calls: `GET /orgs/{org}/public_members/{username}` (204 yes, 404 no): answered for any caller"""
        try:
            self._t.request("GET", f"/orgs/{quote(org, safe='')}/public_members/{quote(login, safe='')}")
        except NotFound:
            return False
        return True

    def is_team_member(self, org: str, team_slug: str, login: str) -> bool:
        """:calls: `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` (active membership only)"""
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(team_slug, safe='')}/memberships/{quote(login, safe='')}"
        try:
            data = self._t.request("GET", path).data
        except NotFound:
            return False
        return isinstance(data, Mapping) and data.get("state") == "active"

    # --- helpers ----------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every item of a paginated list, following `Link: rel="next"` (each page conditional)."""
        url: str | None = path
        page_params: Mapping[str, Any] | None = params
        while url:
            response = self._t.request("GET", url, params=page_params, conditional=True)
            yield from response.data or []
            url = parse_link(response.headers.get("link")).get("next")
            page_params = None  # the next URL carries the query


class InstallationTokens:
    """Installation access tokens, cached until shortly before they expire (thread-safe)."""

    def __init__(self, app_transport: Transport, clock: Callable[[], dt.datetime]) -> None:
        self._transport = app_transport
        self._clock = clock
        self._tokens: dict[int, tuple[str, dt.datetime]] = {}
        self._lock = threading.Lock()

    def token(self, installation_id: int) -> str:
        """:calls: `POST /app/installations/{installation_id}/access_tokens` when none is cached"""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - TOKEN_REFRESH_MARGIN > self._clock():
                return cached[0]
            data = self._transport.request("POST", f"/app/installations/{installation_id}/access_tokens").data
            expires = parse_time(data.get("expires_at")) or self._clock() + dt.timedelta(hours=1)
            self._tokens[installation_id] = (data["token"], expires)
            return data["token"]

    def forget(self, installation_id: int) -> None:
        """Drop the cached token (GitHub refused it); the next `token()` fetches a new one."""
        with self._lock:
            self._tokens.pop(installation_id, None)


@dataclass
class GitHubApp:
    """Makes gateways: per installation (webhooks), per repository (the sweep) or per token (CLI)."""

    settings: Settings
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    sleep: Callable[[float], None] = time.sleep
    policy: RetryPolicy | None = None
    pacer: Pacer | None = None  # content writes paced per installation (a LocalPacer unless given)

    def __post_init__(self) -> None:
        if self.pacer is None:
            self.pacer = LocalPacer(Limits.under(*self.settings.content_limits))
        self._policy = self.policy or RetryPolicy(max_wait=self.settings.max_retry_wait)
        self._caches: dict[str, ConditionalCache] = {}
        self._installations: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tokens: InstallationTokens | None = None
        self._logins: dict[str, str] = {}  # scope -> the login that scope writes as
        if self.settings.has_app:
            # Parse the PEM once: PyJWT would parse it again for every JWT (~40 ms for RSA-2048).
            key = serialization.load_pem_private_key(self.settings.private_key.encode(), password=None)
            app_auth = Auth.AppAuth(self.settings.app_id, lambda: key)
            app_github = self._github(app_auth, throttle_writes=False)
            self._app_transport = self._transport(lambda: app_github.requester, scope="app")
            self._tokens = InstallationTokens(self._app_transport, self.clock)

    def for_installation(self, installation_id: int, *, throttle_writes: bool = False) -> GitHubGateway:
        """A gateway acting as the installation; the token is fetched or reused per request."""
        if self._tokens is None:
            if self.settings.token:
                return self.for_token(self.settings.token, throttle_writes=throttle_writes)
            raise GitHubError(0, "no GitHub App credentials configured")
        tokens = self._tokens
        current: dict[str, Any] = {}

        def requester() -> Any:
            token = tokens.token(installation_id)
            if current.get("token") != token:  # a new token (first use, or renewed): a new session
                current["token"] = token
                current["github"] = self._github(Auth.Token(token), throttle_writes=throttle_writes)
            return current["github"].requester

        return self._gateway(self._transport(requester, scope=f"installation:{installation_id}",
                                             renew=lambda: tokens.forget(installation_id)), self.app_login)

    def for_repository(self, full_name: str, *, throttle_writes: bool = False) -> GitHubGateway:
        """:calls: `GET /repos/{owner}/{repo}/installation` (once per process) to find the installation"""
        if self._tokens is None:
            if not self.settings.token:
                raise GitHubError(0, "no GitHub credentials configured")
            return self.for_token(self.settings.token, throttle_writes=throttle_writes)
        with self._lock:
            installation_id = self._installations.get(full_name.lower())
        if installation_id is None:
            data = self._app_transport.request("GET", f"{_repo_path(full_name)}/installation").data
            installation_id = int(data["id"])
            with self._lock:
                self._installations[full_name.lower()] = installation_id
        return self.for_installation(installation_id, throttle_writes=throttle_writes)

    def for_token(self, token: str | None, *, throttle_writes: bool = False) -> GitHubGateway:
        """A gateway acting as a personal token, or anonymously (60 requests an hour) without one."""
        github = self._github(Auth.Token(token) if token else None, throttle_writes=throttle_writes)
        transport = self._transport(lambda: github.requester, scope="token" if token else "anonymous")
        return self._gateway(transport, (lambda: self._token_login(transport)) if token else (lambda: ""))

    def installations(self) -> list[int]:
        """:calls: `GET /app/installations?per_page=100` (every page, as the App): where the App is installed"""
        if self._tokens is None:
            return []
        ids: list[int] = []
        url: str | None = "/app/installations"
        params: Mapping[str, Any] | None = {"per_page": PER_PAGE}
        while url:
            response = self._app_transport.request("GET", url, params=params)
            ids += [int(i["id"]) for i in response.data or []]
            url = parse_link(response.headers.get("link")).get("next")
            params = None
        return ids

    def installation_of(self, full_name: str) -> int | None:
        """The installation a repository's deliveries came from, if this process has seen it."""
        with self._lock:
            return self._installations.get(full_name.lower())

    def remember_installation(self, full_name: str, installation_id: int) -> None:
        with self._lock:
            self._installations[full_name.lower()] = installation_id

    def app_login(self) -> str:
        """:calls: `GET /app` (once per process): the App writes as `<slug>[bot]`."""
        with self._lock:
            known = self._logins.get("app")
        if known is None:
            data = self._app_transport.request("GET", "/app").data
            known = f"{data['slug']}[bot]"
            with self._lock:
                self._logins["app"] = known
        return known

    def _token_login(self, transport: Transport) -> str:
        """:calls: `GET /user` (once per process): a token writes as its user."""
        with self._lock:
            known = self._logins.get("token")
        if known is None:
            known = str(transport.request("GET", "/user").data["login"])
            with self._lock:
                self._logins["token"] = known
        return known

    def _gateway(self, transport: Transport, login: Callable[[], str]) -> GitHubGateway:
        return GitHubGateway(transport, login, sleep=self.sleep, policy=self._policy, pacer=self.pacer)

    def save_caches(self, path: Path) -> None:
        """Keep the conditional-request caches in a file, so that the next process (a scheduled
        `fundbot sweep`) is answered by 304s where nothing changed."""
        with self._lock:
            data = {scope: cache.dump() for scope, cache in self._caches.items() if scope != "app"}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def load_caches(self, path: Path) -> None:
        """Read a file written by `save_caches`; a missing or unreadable one is simply not used."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            for scope, entries in data.items():
                try:
                    self._caches.setdefault(scope, ConditionalCache()).load(entries)
                except (TypeError, ValueError):
                    self._caches.pop(scope, None)

    def _transport(self, requester_factory: Callable[[], Any], scope: str,
                   renew: Callable[[], None] | None = None) -> Transport:
        with self._lock:
            cache = self._caches.setdefault(scope, ConditionalCache())
        return Transport(requester_factory, scope=scope, cache=cache, policy=self._policy, sleep=self.sleep,
                         renew=renew)

    def _github(self, auth: Any, *, throttle_writes: bool) -> Github:
        # Deliberate throttling (SPEC §10): none while answering a delivery (a handful of
        # requests); one second between writes for bulk work, as GitHub's best practices ask.
        return Github(
            auth=auth,
            base_url=self.settings.api_url,
            retry=None,
            timeout=10,
            per_page=PER_PAGE,
            seconds_between_requests=None,
            seconds_between_writes=1.0 if throttle_writes else None,
            user_agent="fund-bot",
        )
