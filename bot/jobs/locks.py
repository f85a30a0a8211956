"""One application handled at a time: the per-application lock every path takes (SPEC §11).

GitHub sends `issues.opened` and `issues.labeled` for a new application at the same moment, a
person may comment while the sweep is at the same issue, and GitHub redelivers at any time; two
runs working on one application together would each post a status comment. So webhook
processing, `fundbot sweep` and `fundbot clock` all take the same lock for an application, and
read the issue and its comments again once they hold it.

`LocalLocks` serves one process (threads). With Redis configured, `bot.jobs.redis_locks` gives the
same interface across processes and machines. A fund-wide lock (`fund`) guards the round's money.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Protocol


class Locks(Protocol):
    def application(self, repo: str, number: int) -> contextlib.AbstractContextManager[None]:
        """Hold one application (an issue) against every other run."""

    def fund(self, repo: str) -> contextlib.AbstractContextManager[None]:
        """Hold a fund's shared state (the round's ledger) against every other run."""


def application_key(repo: str, number: int) -> str:
    return f"app:{repo.lower()}#{number}"


def fund_key(repo: str) -> str:
    return f"fund:{repo.lower()}"


class LocalLocks:
    """Locks for the threads of one process (the default, without Redis)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock

    @contextlib.contextmanager
    def _hold(self, key: str) -> Iterator[None]:
        with self._lock(key):
            yield

    def application(self, repo: str, number: int) -> contextlib.AbstractContextManager[None]:
        return self._hold(application_key(repo, number))

    def fund(self, repo: str) -> contextlib.AbstractContextManager[None]:
        return self._hold(fund_key(repo))
