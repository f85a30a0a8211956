"""One GET to an outside service, bounded: a timeout, no retry (the next pack asks again), JSON or nothing.

`Services` names where each service is (the real addresses by default; tests and `fundbot demo` point them
at the sandbox); `get_json` sends the one request a service gets per pack and says what came back: the
status and the JSON, or `Unanswered` — a timeout, a connection that failed, an answer that was not JSON, a
5xx. A 404 is an answer ("knows nothing of it"), left to the service's module to put in words.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

log = logging.getLogger("fundbot.outside")

USER_AGENT = "fund-bot (+https://github.com/open-source-fund/fund-bot)"
MAX_BYTES = 1024 * 1024  # an answer longer than this is not one of the small JSON documents asked for


@dataclass(frozen=True)
class Services:
    """Where each outside service answers (base URLs, without a trailing slash)."""

    scorecard: str = "https://api.scorecard.dev"
    depsdev: str = "https://api.deps.dev"
    pypistats: str = "https://pypistats.org"
    npm: str = "https://api.npmjs.org"


class Unanswered(Exception):
    """The service gave no usable answer: `kind` is "timeout" (after `seconds`) or "error" (`status`, 0 for a
    connection that failed or an answer that was not JSON)."""

    def __init__(self, kind: str, status: int = 0, seconds: float = 0.0) -> None:
        super().__init__(f"{kind} {status or ''} {seconds or ''}".strip())
        self.kind = kind
        self.status = status
        self.seconds = seconds


class Client:
    """One session for every outside request of a process (its connections kept), counted per service."""

    def __init__(self, services: Services | None = None) -> None:
        self.services = services or Services()
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}  # service -> requests sent (for tests and the benchmark)

    def get_json(self, service: str, url: str, timeout: float) -> tuple[int, Any]:
        """One GET of `url` for `service`, within `timeout` seconds; (status, JSON) for a 2xx or 4xx answer."""
        with self._lock:
            self.requests[service] = self.requests.get(service, 0) + 1
        started = time.monotonic()
        try:
            answer = self._session.get(url, timeout=(timeout, timeout), stream=True)
            body = answer.raw.read(MAX_BYTES + 1, decode_content=True)
            answer.close()
        except (requests.Timeout, urllib3.exceptions.TimeoutError):  # the headers, or the body, too slow
            raise Unanswered("timeout", seconds=timeout) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
            log.info("an outside service could not be reached", extra={"reason": f"{service}: {type(err).__name__}"})
            if time.monotonic() - started >= timeout:
                raise Unanswered("timeout", seconds=timeout) from None
            raise Unanswered("error") from None
        if answer.status_code >= 500 or len(body) > MAX_BYTES:
            raise Unanswered("error", answer.status_code)
        if answer.status_code == 404:
            return 404, None
        try:
            return answer.status_code, json.loads(body)
        except ValueError:
            raise Unanswered("error", answer.status_code) from None
