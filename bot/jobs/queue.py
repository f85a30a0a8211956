"""The in-process delivery queue (the default, without Redis): acknowledged at once, processed by
a few worker threads of the web process.

`DeliveryQueue` is the interface the web tier uses; `bot.web.redis_queue.RedisDeliveryQueue` is the
other implementation (RQ, any number of `fundbot worker` processes). The web tier routes a delivery
once and hands the queue the handler with it.

Deduplication is by `X-GitHub-Delivery`: GitHub's manual redelivery keeps the id, so an id that is
queued, running or done is not processed again. A delivery whose processing failed is forgotten,
so a manual redelivery can retry it (the sweep repairs it otherwise). The ids are kept in memory:
a restart forgets them, and a redelivery after it changes nothing, because every run re-reads the
application under its lock (SPEC §11). One process only: several web processes need Redis.

Work a delivery leaves for later (an evidence pack, `bot.jobs.evidence`) is queued with `submit_job` on a
queue of its own, served by a thread of its own: the deliveries' workers never run it, so an applicant's
first answer never waits for anyone's pack. Each key is queued once while it is queued; one submitted while
it runs is run once more after it (what it was for may have come too late for the run).
"""
from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.github.webhooks import Event
from bot.metrics import observe_delivery

log = logging.getLogger("fundbot.queue")


class Submitted(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    FULL = "full"
    CLOSED = "closed"
    UNAVAILABLE = "unavailable"  # the queue's store (Redis) cannot be reached


class DeliveryQueue(Protocol):
    def submit(self, event: Event, handler: Callable[..., Any], body: bytes | None = None) -> Submitted:
        """Take a delivery (and its raw `body`) for background processing by `handler`, or say why
        not (never blocks long)."""

    def close(self, timeout: float) -> list[Event]:
        """Stop taking deliveries, finish what is running within `timeout`, hand back the rest."""

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every accepted delivery has been processed; False on timeout."""


class MemorySeen:
    """A bounded, thread-safe set of delivery ids (oldest forgotten first), for one process."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, delivery_id: str) -> bool:
        """Record `delivery_id`; False if it was already there."""
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


@dataclass
class QueueStats:
    accepted: int = 0
    duplicates: int = 0
    rejected_full: int = 0
    processed: int = 0
    failed: int = 0


_STOP = object()


class InProcessQueue:
    """A bounded queue served by `workers` daemon threads calling `process(event, handler)`."""

    def __init__(self, process: Callable[[Event, Callable[..., Any]], Any], *, maxsize: int = 1000,
                 workers: int = 4) -> None:
        self._process = process
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._seen = MemorySeen()
        self._closed = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._lock = threading.Lock()
        self.stats = QueueStats()
        self._threads = [
            threading.Thread(target=self._work, name=f"fundbot-worker-{i}", daemon=True) for i in range(workers)
        ]
        self._later: queue.Queue[Any] = queue.Queue(maxsize=maxsize)  # (key, job): work left for later
        self._jobs: set[str] = set()  # keys of later work queued or running
        self._again: dict[str, Callable[[], Any]] = {}  # keys submitted while running: run once more after
        self._running: str | None = None  # the key the later thread is running
        self._later_thread = threading.Thread(target=self._work_later, name="fundbot-later", daemon=True)
        for thread in (*self._threads, self._later_thread):
            thread.start()

    def submit(self, event: Event, handler: Callable[..., Any], body: bytes | None = None) -> Submitted:
        if self._closed.is_set():
            return Submitted.CLOSED
        if not self._seen.add(event.delivery_id):
            with self._lock:
                self.stats.duplicates += 1
            return Submitted.DUPLICATE
        with self._idle:
            self._in_flight += 1
        try:
            self._queue.put_nowait((event, handler))
        except queue.Full:
            self._seen.forget(event.delivery_id)  # not taken, so GitHub's retry must be accepted
            self._done_one()
            with self._lock:
                self.stats.rejected_full += 1
            return Submitted.FULL
        with self._lock:
            self.stats.accepted += 1
        return Submitted.ACCEPTED

    def submit_job(self, key: str, job: Callable[[], Any]) -> bool:
        """Queue `job` for the later thread; False when one with this key is queued already (it will see what
        this one would have; one running is run once more after), or the queue is closed or full (the sweep
        does it then)."""
        if self._closed.is_set():
            return False
        with self._lock:
            if key == self._running:
                self._again[key] = job
                return False
            if key in self._jobs:
                return False
            self._jobs.add(key)
        with self._idle:
            self._in_flight += 1
        try:
            self._later.put_nowait((key, job))
        except queue.Full:
            self._job_done(key)
            log.warning("too much later work queued: left for the sweep", extra={"reason": key})
            return False
        return True

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def depth(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float) -> list[Event]:
        self._closed.set()
        self.join(timeout)
        left: list[Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                left.append(item[0])
                self._seen.forget(item[0].delivery_id)
        # Idle workers stop at once; a busy one is a daemon thread and ends with the process (what
        # it was doing is finished by the sweep). Waiting for it here could outlast the grace period.
        for _ in self._threads:
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                break
        while True:  # later work not started is left for the sweep
            try:
                key, _ = self._later.get_nowait()
            except queue.Empty:
                break
            self._job_done(key)
        self._later.put(_STOP)
        return left

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            event, handler = item
            try:
                self._process(event, handler)
                with self._lock:
                    self.stats.processed += 1
            except Exception:  # a worker must survive any delivery; the sweep finishes the job
                self._seen.forget(event.delivery_id)
                with self._lock:
                    self.stats.failed += 1
                log.exception("delivery failed; left for the sweep", extra=event.log_context(outcome="failed"))
                observe_delivery(event.name, event.action, "failed")
            finally:
                self._done_one()

    def _work_later(self) -> None:
        while True:
            item = self._later.get()
            if item is _STOP:
                return
            key, job = item
            with self._lock:
                self._running = key
            try:
                job()
            except Exception:  # the thread must survive any job; the sweep finishes it
                log.exception("later work failed; left for the sweep", extra={"reason": key})
            finally:
                with self._lock:
                    self._running = None
                    again = self._again.pop(key, None)
                    self._jobs.discard(key)
                if again is not None:
                    self.submit_job(key, again)
                self._done_one()

    def _job_done(self, key: str) -> None:
        with self._lock:
            self._jobs.discard(key)
        self._done_one()

    def _done_one(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.notify_all()
