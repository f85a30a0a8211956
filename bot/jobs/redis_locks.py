"""The per-application and per-fund locks in Redis, shared by every process on every machine.

Workers, `fundbot sweep` and `fundbot clock` take the same lock for an application (SPEC §11, §12),
with redis-py's lock: a token only its holder can release, and a timeout so a process killed while
holding it (SIGKILL, a lost machine) cannot block the application for ever. The timeout is short
(`timeout` seconds) and renewed every third of it while the work runs, so it outlives a slow GitHub
yet frees the application soon after a crash. A lock that cannot be had within `wait` seconds
raises `LockTimeout` (the job is retried, or the sweep comes back to it).
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from redis import Redis
from redis.exceptions import LockError

from bot.jobs.locks import application_key, fund_key

log = logging.getLogger("fundbot.locks")
PREFIX = "fundbot:lock:"


class LockTimeout(Exception):
    """The lock was held by someone else for longer than we may wait."""


class RedisLocks:
    """`Locks` (see `bot.jobs.locks`) in Redis."""

    def __init__(self, redis: Redis, *, timeout: float = 30.0, wait: float = 120.0) -> None:
        self._redis = redis
        self.timeout = timeout
        self.wait = wait

    @contextlib.contextmanager
    def _hold(self, key: str) -> Iterator[None]:
        lock = self._redis.lock(PREFIX + key, timeout=self.timeout, blocking_timeout=self.wait, thread_local=False)
        if not lock.acquire():
            raise LockTimeout(f"{key} was held for more than {self.wait:.0f} s")
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(lock, key, done), name=f"lock-renew {key}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            try:
                lock.release()
            except LockError:  # it expired (we were stalled longer than the timeout): nothing to release
                log.warning("a lock expired while held", extra={"reason": key})

    def _renew(self, lock, key: str, done: threading.Event) -> None:
        while not done.wait(self.timeout / 3):
            try:
                lock.reacquire()  # back to the full timeout
            except LockError:
                log.warning("a lock could not be renewed", extra={"reason": key})
                return
            except Exception:  # Redis unreachable for a moment: the next renewal tries again
                log.warning("a lock renewal failed", extra={"reason": key}, exc_info=True)

    def application(self, repo: str, number: int) -> contextlib.AbstractContextManager[None]:
        return self._hold(application_key(repo, number))

    def fund(self, repo: str) -> contextlib.AbstractContextManager[None]:
        return self._hold(fund_key(repo))
