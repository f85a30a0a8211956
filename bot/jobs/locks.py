"""One application handled at a time, across threads and processes.

GitHub sends `issues.opened` and `issues.labeled` for a new application at the same moment; two
workers handling them together would each post a status comment. Within a process a lock per
issue is enough; several gunicorn workers (or the `clock` process) on one machine also take an
`flock` on a file, so they queue up behind each other too. Issues share 256 lock files by hash.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: thread locks only (one process)
    fcntl = None  # type: ignore[assignment]

STRIPES = 256


class IssueLocks:
    """`with locks.lock(repo, number): ...` holds the issue against every other handler."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._locks: weakref.WeakValueDictionary[tuple[str, int], threading.Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def _thread_lock(self, key: tuple[str, int]) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock

    @contextlib.contextmanager
    def lock(self, repo: str, number: int) -> Iterator[None]:
        key = (repo.lower(), number)
        with self._thread_lock(key):
            if self._directory is None or fcntl is None:
                yield
                return
            stripe = zlib.crc32(f"{key[0]}#{number}".encode()) % STRIPES
            with open(self._directory / f"issue-{stripe:03d}.lock", "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
