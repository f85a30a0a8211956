"""The web tier's side of the Redis queue: take the delivery id, enqueue an RQ job, answer.

With `FUNDBOT_REDIS_URL` set this is all the web process does with a delivery (SPEC §12):
`SET fundbot:delivery:<id> <body> NX EX 259200` takes the delivery id for 72 hours (GitHub allows
redelivery for 3 days) and keeps its raw body under it; an RQ job then names it, and the answer is
202. A repeated delivery finds the id taken and is answered "duplicate" — unless its job failed for
good, when GitHub's manual redelivery puts that job back in the queue.

Deliveries arriving together share their round trips (README, "Figures": Redis work per delivery
halved the acknowledgements a process could give): one sender thread per web process takes every
delivery waiting, sends their `SET … NX` in one pipeline, then one RQ job naming the ids it took
(`bot.jobs.worker.dispatch`, which a worker turns into one job per delivery, with retries); each
request thread waits for its own answer — a 202 is given only for a delivery Redis holds, and if
Redis cannot be reached the answer is 503 with `Retry-After`, never 202 for work that was dropped.
Alone, a delivery goes at once; under load, one round trip serves dozens.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from bot.github.webhooks import Event
from bot.jobs.queue import Submitted
from bot.jobs.worker import DELIVERY_KEY, DISPATCH_FUNCTION, KEEP_DELIVERY_IDS, QUEUE_NAME, RETRY, job_id

log = logging.getLogger("fundbot.queue")

# SET key body NX EX ttl for each (key, body): 1 where the id was taken now, 0 where it was taken before.
# One script for the whole batch: one command to pack and one reply to read, not one per delivery.
TAKE_IDS = """
local taken = {}
for i, key in ipairs(KEYS) do
  taken[i] = redis.call('SET', key, ARGV[i + 1], 'NX', 'EX', ARGV[1]) and 1 or 0
end
return taken
"""


@dataclass
class _Waiting:
    """One request's delivery, and the lock its thread sleeps on until the sender answers."""

    event: Event
    handler: str
    body: bytes
    answer: Submitted = Submitted.UNAVAILABLE
    lead: bool = False  # woken to send for the others, not with an answer
    done: threading.Lock = field(default_factory=threading.Lock)  # held until woken: the cheapest wake-up


class RedisDeliveryQueue:
    """`DeliveryQueue` backed by Redis and RQ; the workers are other processes."""

    def __init__(self, redis: Redis, *, answer_within: float = 10.0) -> None:
        self._redis = redis
        self._queue = Queue(QUEUE_NAME, connection=redis)
        self._answer_within = answer_within
        self._waiting: list[_Waiting] = []
        self._lock = threading.Lock()
        self._sending = False  # a request thread is sending for the others
        self._take_ids = redis.register_script(TAKE_IDS)

    @property
    def redis(self) -> Redis:
        return self._redis

    def submit(self, event: Event, handler: Callable[..., Any], body: bytes | None = None) -> Submitted:
        waiting = _Waiting(event, handler.__name__, body if body is not None else orjson.dumps(dict(event.payload)))
        waiting.done.acquire()
        with self._lock:
            self._waiting.append(waiting)
            lead = not self._sending
            self._sending = True
        if not lead:
            if not waiting.done.acquire(timeout=self._answer_within):
                return Submitted.UNAVAILABLE
            if not waiting.lead:
                return waiting.answer
        self._lead()
        return waiting.answer

    def _lead(self) -> None:
        """This request's thread sends one batch: every delivery waiting, its own among them. Those
        that arrived meanwhile are sent by the first of their threads, woken to lead in turn — so no
        thread sends for long, and no thread is kept waiting for a sender to wake up."""
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            self._send(batch)
        except Exception:  # a request is always answered, whatever went wrong
            log.exception("queuing failed")
        for waiting in batch:
            waiting.done.release()
        with self._lock:
            if not self._waiting:
                self._sending = False
                return
            successor = self._waiting[0]
        successor.lead = True
        successor.done.release()

    def _send(self, batch: list[_Waiting]) -> None:
        """One round trip for the whole batch: take the ids (keeping each body under its id, marked
        with this batch's token) and enqueue the job that names them; the worker's `dispatch` runs only
        the ids this batch took (the others were deliveries seen before)."""
        token = uuid.uuid4().hex[:16]
        keys = [DELIVERY_KEY + w.event.delivery_id for w in batch]
        try:
            pipe = self._redis.pipeline(transaction=False)
            # RQ opens the pipeline's transaction, so its job goes first; the ids are taken in the same
            # round trip (a worker cannot run the job before the transaction ends).
            self._queue.enqueue(DISPATCH_FUNCTION, token, [(w.handler, w.event.name, w.event.delivery_id) for w in batch],
                                retry=RETRY, result_ttl=0, failure_ttl=7 * 86400,
                                description=f"dispatch {len(batch)} deliveries", pipeline=pipe)
            self._take_ids(keys=keys, args=[KEEP_DELIVERY_IDS, *(token.encode() + w.body for w in batch)], client=pipe)
            taken = pipe.execute()[-1]
        except RedisError as err:
            try:  # whatever was taken, give back: GitHub's redeliveries must be accepted
                self._redis.delete(*keys)
            except RedisError:
                pass
            self._refuse(batch, err)
            return
        for waiting, ok in zip(batch, taken, strict=True):
            waiting.answer = Submitted.ACCEPTED if ok else self._again(waiting.event)

    def _again(self, event: Event) -> Submitted:
        """A delivery id taken before: a duplicate — unless its job failed for good, when GitHub's
        redelivery puts it back in the queue."""
        try:
            job = Job.fetch(job_id(event.delivery_id), connection=self._redis)
            if job.is_failed:
                FailedJobRegistry(queue=self._queue).requeue(job)
                return Submitted.ACCEPTED
        except NoSuchJobError:
            pass  # not dispatched yet, or done and gone: a duplicate either way
        except RedisError:
            return Submitted.UNAVAILABLE
        return Submitted.DUPLICATE

    @staticmethod
    def _refuse(batch: list[_Waiting], err: Exception) -> None:
        for waiting in batch:
            log.warning("Redis unreachable; delivery refused with 503",
                        extra={"delivery": waiting.event.delivery_id, "reason": type(err).__name__})
            waiting.answer = Submitted.UNAVAILABLE

    def depth(self) -> int:
        return self._queue.count

    def close(self, timeout: float) -> list[Event]:
        return []  # nothing is held in this process

    def join(self, timeout: float | None = None) -> bool:
        return True  # the workers are elsewhere; tests wait on what they do
