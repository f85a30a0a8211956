"""The web tier's side of the Redis queue: take the delivery id, enqueue its RQ job, answer.

With `FUNDBOT_REDIS_URL` set this is all the web process does with a delivery (SPEC §12), in the
request's own thread, in two steps:

1. `SET fundbot:delivery:<id> <body> NX EX 259200` takes the delivery id for 72 hours (GitHub lets a
   delivery be redelivered for 3 days) and keeps the raw body under it;
2. RQ's own `Queue.enqueue` makes the delivery's job (`bot.jobs.worker.run_delivery`) under a job id
   derived from the delivery id, with `unique=True`: RQ checks and saves the job in one atomic
   script, so one delivery never has two jobs, whoever enqueues it. (RQ sends it as two round trips:
   the queue's name into its set of queues, then that script.)

Why the body lives under the id and not in the job's arguments: the `SET` that takes the id carries
it anyway, so it is sent and stored once, as it came; in the job, RQ would pickle and compress it in
the request thread (60 µs of CPU for a 13 KB delivery here, a tenth of a second or more for 25 MB), and every
read of the job (a redelivery's `Job.fetch`) would carry it. It is safe there: nothing but the worker
ever replaces it (with `done`, once the delivery is processed), so every job that runs finds it, and
a job that failed for good finds it for as long as GitHub can redeliver.

A repeated delivery finds the id taken and is answered "duplicate", except in two cases where its
work would otherwise be lost, both answered 202 and queued again:
- its job failed for good (RQ's failed registry): GitHub's manual redelivery requeues it;
- the id is taken, not done, and no job exists: the process that took it died (or lost Redis)
  between the two steps — or redis-py, retrying a `SET NX` whose connection dropped after Redis
  ran it, was told "taken" by its own first try. The redelivery (or that request itself) enqueues
  it, under the same job id, so never twice.

If Redis cannot be reached, or fails between the two steps, the answer is 503 with
`Retry-After`, never a 202 for work that was dropped. An id taken by a request whose enqueue then
failed stays taken, with its body: that is the second case above, so GitHub's redelivery is accepted.
(Deleting it instead would race: a redelivery arriving meanwhile could enqueue a job whose body the
delete then takes away.)
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from redis import Redis
from redis.exceptions import RedisError, WatchError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from bot.github.webhooks import Event
from bot.jobs.queue import Submitted
from bot.jobs.worker import DELIVERY_KEY, DONE, FAILURE_TTL, JOB_TIMEOUT, KEEP_DELIVERY_IDS, QUEUE_NAME, RETRY, \
    RUN_FUNCTION, job_id

log = logging.getLogger("fundbot.queue")


class RedisDeliveryQueue:
    """`DeliveryQueue` backed by Redis and RQ; the workers are other processes."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queue = Queue(QUEUE_NAME, connection=redis)

    @property
    def redis(self) -> Redis:
        return self._redis

    def submit(self, event: Event, handler: Callable[..., Any], body: bytes | None = None) -> Submitted:
        """Take the delivery's id and enqueue its job; or say it is a duplicate, or that Redis failed."""
        key = DELIVERY_KEY + event.delivery_id
        # The worker parses what is kept as JSON: a form-encoded delivery (`payload=…`, which
        # repository webhooks may send) is kept as its payload's JSON instead.
        kept = body if body is not None and body[:1] == b"{" else orjson.dumps(dict(event.payload))
        try:
            if self._redis.set(key, kept, nx=True, ex=KEEP_DELIVERY_IDS):
                return self._enqueue(event, handler.__name__)
            return self._again(event, handler.__name__)
        except RedisError as err:
            log.warning("Redis failed; delivery refused with 503",
                        extra=event.log_context(outcome="refused", reason=type(err).__name__))
            return Submitted.UNAVAILABLE

    def _enqueue(self, event: Event, handler: str) -> Submitted:
        """The delivery's job, made once: if it exists already, this is a repeated delivery."""
        try:
            self._queue.enqueue(RUN_FUNCTION, handler, event.name, event.delivery_id, job_id=job_id(event.delivery_id),
                                unique=True, retry=RETRY, job_timeout=JOB_TIMEOUT, result_ttl=0,
                                failure_ttl=FAILURE_TTL, description=f"{event.name} {event.delivery_id}")
        except DuplicateJobError:
            return self._again(event, handler, enqueue=False)
        return Submitted.ACCEPTED

    def _again(self, event: Event, handler: str, *, enqueue: bool = True) -> Submitted:
        """A delivery id taken before: a duplicate, unless its work would be lost — its job failed for
        good (requeued), or it has no job and was not processed (enqueued)."""
        try:
            job: Job | None = Job.fetch(job_id(event.delivery_id), connection=self._redis)
        except NoSuchJobError:
            job = None
        if job is not None:
            if job.get_status(refresh=False) != JobStatus.FAILED:
                return Submitted.DUPLICATE  # queued, running, or waiting for a retry
            return self._requeue(event, job)
        # Read after looking for the job: a job deletes itself only after marking the id done.
        kept = self._redis.get(DELIVERY_KEY + event.delivery_id)
        if not enqueue or kept is None or kept == DONE:
            return Submitted.DUPLICATE  # processed (or expired after 72 h)
        answer = self._enqueue(event, handler)
        if answer is Submitted.ACCEPTED:  # a request that took the id stopped half-way, or a copy is just behind
            log.info("delivery id was taken but had no job: queued now", extra=event.log_context(outcome="requeued"))
        return answer

    def _requeue(self, event: Event, job: Job) -> Submitted:
        """Put a job that failed for good back in the queue: out of RQ's failed registry and into the
        queue in one transaction. (RQ's own `requeue` takes it out, then queues it: Redis failing in
        between would leave it in neither, and every later redelivery a "duplicate".) Watching the job
        makes redeliveries that race for it requeue it once."""
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(job.key)
                if job.get_status() != JobStatus.FAILED:
                    return Submitted.DUPLICATE  # another redelivery requeued it just now
                pipe.multi()
                FailedJobRegistry(queue=self._queue).remove(job, pipeline=pipe)
                self._queue.enqueue_job(job, pipeline=pipe)
                pipe.execute()
            except WatchError:
                return Submitted.DUPLICATE  # the same, a moment later
        log.info("a job that had failed for good is queued again", extra=event.log_context(outcome="requeued"))
        return Submitted.ACCEPTED

    def depth(self) -> int:
        return self._queue.count

    def close(self, timeout: float) -> list[Event]:
        return []  # nothing is held in this process

    def join(self, timeout: float | None = None) -> bool:
        return True  # the workers are elsewhere; tests wait on what they do
