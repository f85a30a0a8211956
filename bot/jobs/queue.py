"""The delivery queue: deliveries are acknowledged at once and processed in the background.

`DeliveryQueue` is the interface the web layer uses; `InProcessQueue` is the default (a bounded
`queue.Queue` and a few worker threads). A Redis-backed queue can replace it by implementing the
same three methods: no handler knows which queue runs it.

Deduplication is by `X-GitHub-Delivery`: GitHub's manual redelivery keeps the id, so an id that is
queued, running or done is not processed again. A delivery whose processing failed is forgotten,
so a manual redelivery can retry it (the sweep repairs it otherwise). With one process the ids are
kept in memory (`MemorySeen`); several gunicorn workers share them in a SQLite file (`SqliteSeen`).
"""
from __future__ import annotations

import enum
import logging
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.github.webhooks import Event

log = logging.getLogger("fundbot.queue")


class Submitted(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    FULL = "full"
    CLOSED = "closed"


class DeliveryQueue(Protocol):
    def submit(self, event: Event) -> Submitted:
        """Take a delivery for background processing, or say why not (never blocks)."""

    def close(self, timeout: float) -> list[Event]:
        """Stop taking deliveries, finish what is running within `timeout`, hand back the rest."""

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every accepted delivery has been processed; False on timeout."""


class SeenDeliveries(Protocol):
    """Delivery ids already taken; shared by every process that serves the same App."""

    def add(self, delivery_id: str) -> bool:
        """Record `delivery_id`; False if it was already there."""

    def forget(self, delivery_id: str) -> None:
        """Take `delivery_id` back (it was not processed after all)."""


class MemorySeen:
    """A bounded, thread-safe set of delivery ids (oldest forgotten first), for one process."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, delivery_id: str) -> bool:
        with self._lock:
            if delivery_id in self._ids:
                self._ids.move_to_end(delivery_id)
                return False
            self._ids[delivery_id] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return True

    def forget(self, delivery_id: str) -> None:
        with self._lock:
            self._ids.pop(delivery_id, None)


class SqliteSeen:
    """Delivery ids in a SQLite file, so several gunicorn workers on one machine (and restarts)
    agree on what was taken. Ids older than `keep_days` are pruned: GitHub keeps deliveries for
    redelivery for a few days only."""

    def __init__(self, path: Path, keep_days: int = 7) -> None:
        self._path = path
        self._keep = keep_days * 86400
        self._lock = threading.Lock()
        self._added = 0
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at REAL NOT NULL)")

    def add(self, delivery_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO seen (id, at) VALUES (?, ?)", (delivery_id, time.time()))
            self._added += 1
            if self._added % 1000 == 0:
                self._db.execute("DELETE FROM seen WHERE at < ?", (time.time() - self._keep,))
            return cursor.rowcount == 1

    def forget(self, delivery_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE id = ?", (delivery_id,))


@dataclass
class QueueStats:
    accepted: int = 0
    duplicates: int = 0
    rejected_full: int = 0
    processed: int = 0
    failed: int = 0


_STOP = object()


class InProcessQueue:
    """A bounded queue served by `workers` daemon threads calling `process(event)`."""

    def __init__(
        self,
        process: Callable[[Event], None],
        *,
        maxsize: int = 1000,
        workers: int = 4,
        shared: SeenDeliveries | None = None,
    ) -> None:
        self._process = process
        self._queue: queue.Queue[object] = queue.Queue(maxsize=maxsize)
        # Two checks: in memory when the delivery arrives (so this process answers "duplicate" at
        # once), and in the shared ledger when a worker takes it (so no other process on the
        # machine ran it) — the shared one costs a write, so it stays off the acknowledgement path.
        self._seen = MemorySeen()
        self._shared = shared
        self._closed = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._lock = threading.Lock()
        self.stats = QueueStats()
        self._threads = [
            threading.Thread(target=self._work, name=f"fundbot-worker-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, event: Event) -> Submitted:
        if self._closed.is_set():
            return Submitted.CLOSED
        if not self._seen.add(event.delivery_id):
            with self._lock:
                self.stats.duplicates += 1
            return Submitted.DUPLICATE
        with self._idle:
            self._in_flight += 1
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._seen.forget(event.delivery_id)  # not taken, so GitHub's retry must be accepted
            self._done_one()
            with self._lock:
                self.stats.rejected_full += 1
            return Submitted.FULL
        with self._lock:
            self.stats.accepted += 1
        return Submitted.ACCEPTED

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float) -> list[Event]:
        self._closed.set()
        self.join(timeout)
        left: list[Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Event):
                left.append(item)
                self._seen.forget(item.delivery_id)  # handed back: not taken in the shared ledger yet
        # Idle workers stop at once; a busy one is a daemon thread and ends with the process (what
        # it was doing is finished by the sweep). Waiting for it here could outlast the grace period.
        for _ in self._threads:
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                break
        return left

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Event)
            try:
                if self._shared is not None and not self._shared.add(item.delivery_id):
                    with self._lock:
                        self.stats.duplicates += 1
                    continue  # another process took this delivery id
                self._process(item)
                with self._lock:
                    self.stats.processed += 1
            except Exception:  # a worker must survive any delivery; the sweep finishes the job
                self._seen.forget(item.delivery_id)
                if self._shared is not None:
                    self._shared.forget(item.delivery_id)
                with self._lock:
                    self.stats.failed += 1
                log.exception(
                    "delivery failed; left for the sweep",
                    extra={"delivery": item.delivery_id, "event": item.name},
                )
            finally:
                self._done_one()

    def _done_one(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.notify_all()
