"""The HTTP channel to GitHub: each request through PyGithub's requester (its session, App JWT and
Enterprise base URL), with what a bot needs and PyGithub's defaults do not give (SPEC §10):

- retries with backoff on 5xx and on primary/secondary rate limits, honouring `Retry-After` and
  `X-RateLimit-Reset`, but never waiting longer in all than `max_wait` (a worker must not sleep
  for an hour); past that, `GitHubUnavailable` leaves the work for the sweep. PyGithub's own
  `GithubRetry` sleeps inside urllib3, uncapped for a `Retry-After`, where tests cannot see it;
- conditional GETs (ETag / If-None-Match): a 304 does not count against the rate limit;
- counting (`RequestStats`): what a delivery or a sweep cost;
- a second way out, `raw=True`, for the statistics endpoints and the evidence pack's parallel reads: the
  request is sent with `requests` itself (the requester's base URL and credentials, one session per
  transport, safe across threads), because PyGithub's requester retries a 202 without limit (SPEC §10)
  and shares one connection object that two threads must not use at once;
- the errors the rest of the bot catches: `GitHubError`, `NotFound`, `GitHubUnavailable`, `AnswerLost`.

It is handed a requester; it does not import PyGithub (`bot.github.app` does).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import requests

from bot.metrics import observe_github

log = logging.getLogger("fundbot.gateway")

PER_PAGE = 100
RAW_TIMEOUT = 10  # seconds, as PyGithub's requester is given (`bot.github.app`)


class GitHubError(Exception):
    """GitHub answered with an error we do not retry."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message
        self.data = data


class NotFound(GitHubError):
    pass


class Moved(GitHubError):
    """The issue (or repository) asked for is somewhere else now (GitHub answered 301)."""


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
        self._counting = threading.Lock()  # the evidence pack reads in parallel
        self._session: requests.Session | None = None

    def request(
        self,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        conditional: bool = False,
        idempotent: bool = True,
        accept: str | None = None,
        raw: bool = False,
        reading: bool = False,
    ) -> Response:
        """Send one request; raise `NotFound`, `GitHubError` or `GitHubUnavailable` on failure.

        A write that is not `idempotent` (creating a comment or an issue) is not repeated after a
        5xx or a lost connection — GitHub may have carried it out — but raises `AnswerLost`. A POST
        that only reads (a GraphQL query: `reading`) is counted as a read.
        `accept`: a media type GitHub offers for the resource. `raw`: sent with `requests` itself, not
        PyGithub's requester — a 202 (statistics being computed) is then answered to the caller, once."""
        key = f"{self.scope} {url} {json.dumps(params, sort_keys=True)}" + (f" {accept}" if accept else "")
        cached = self._cache.get(key) if (conditional and self._cache and verb == "GET") else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        if accept:
            headers["Accept"] = accept
        send = self._send_raw if raw else self._send
        waited = 0.0
        renewed = False
        for attempt in range(1, self._policy.attempts + 1):
            status, response_headers, data = send(verb, url, params, headers, body)
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
            with self._counting:
                self.stats.retries += 1
            self._sleep(delay)
            waited += delay
        assert status is not None
        self._count("GET" if reading else verb)
        if status == 304 and cached:
            with self._counting:
                self.stats.not_modified += 1
            return Response(cached[1].status, cached[1].headers, cached[1].data, not_modified=True)
        response = Response(status, response_headers, data)
        etag = response_headers.get("etag")
        if conditional and self._cache and verb == "GET" and etag:
            self._cache.put(key, etag, response, len(json.dumps(data)) if data is not None else 0)
        return response

    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint beside the REST API's (`/graphql`; `/api/graphql` on GitHub Enterprise
        Server), as PyGithub's requester derives it from the base URL."""
        return str(getattr(self._requester_factory(), "graphql_url", "/graphql"))

    def _count(self, verb: str) -> None:
        with self._counting:
            if verb == "GET":
                self.stats.reads += 1
            else:
                self.stats.writes += 1

    def _send_raw(
        self, verb: str, url: str, params: Mapping[str, Any] | None, headers: dict[str, str], body: Any
    ) -> tuple[int | None, Mapping[str, str], Any]:
        """One request with `requests`, as the requester would send it (its base URL and credentials)."""
        requester = self._requester_factory()
        target = url if url.startswith(("http://", "https://")) else requester.base_url.rstrip("/") + url
        sent = {"User-Agent": "fund-bot", "Accept": "application/vnd.github+json", **headers}
        if requester.auth is not None:
            requester.auth.authentication(sent)
        with self._counting:
            if self._session is None:
                self._session = requests.Session()
            session = self._session
        try:
            answer = session.request(verb, target, params=dict(params) if params else None, headers=sent,
                                     json=body, timeout=RAW_TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as err:
            log.info("GitHub connection failed", extra={"reason": type(err).__name__})
            observe_github(verb, url, None, self.scope, None)
            return None, {}, None
        response_headers = {k.lower(): v for k, v in answer.headers.items()}
        observe_github(verb, url, answer.status_code, self.scope, response_headers.get("x-ratelimit-remaining"))
        try:
            data = answer.json() if answer.content else None
        except ValueError:
            data = {"message": answer.text[:200]}
        return answer.status_code, response_headers, data

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


def repo_path(full_name: str) -> str:
    """`/repos/{owner}/{repo}` for `owner/repo`, each part escaped."""
    owner, name = full_name.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

