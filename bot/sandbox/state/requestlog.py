"""The request log: every request as the sandbox answered it (never the credentials, only whose they
were), the violations (requests GitHub would not take, or the sandbox cannot honour), and the counts
of reads and writes that tests and benchmarks measure the bot by."""
from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the sandbox saw it; never the credentials, only who they belonged to."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    body: Any = None
    conditional: bool = False
    not_modified: bool = False
    actor: str | None = None
    at: float = 0.0  # when it was answered (time.time()): the benchmarks time answers by it


@dataclass(frozen=True)
class RequestCounts:
    """``reads``/``writes`` count API requests answered (304s apart); ``auth`` the app's own
    JWT calls (token exchange and ``/app``), kept apart so they do not blur the bot's costs."""

    reads: int
    writes: int
    not_modified: int
    auth: int


class RequestLog:
    """The sandbox's part that remembers what was asked of it."""

    lock: threading.RLock
    violations: list[str]
    _log: list[RecordedRequest]

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            self._log.append(entry)

    def violate(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Logged requests, filtered by method and by path (exact, or an ``fnmatch`` pattern)."""
        with self.lock:
            return [r for r in self._log
                    if (method is None or r.method == method.upper())
                    and (path is None or r.path == path or fnmatch.fnmatchcase(r.path, path))]

    def request_counts(self) -> RequestCounts:
        with self.lock:
            api = [r for r in self._log if not r.path.startswith("/app")]
            return RequestCounts(
                reads=sum(1 for r in api if r.method == "GET" and not r.not_modified),
                writes=sum(1 for r in api if r.method != "GET"),
                not_modified=sum(1 for r in api if r.not_modified),
                auth=len(self._log) - len(api),
            )

    def clear_log(self) -> None:
        with self.lock:
            self._log.clear()
