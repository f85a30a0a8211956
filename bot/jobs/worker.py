"""`fundbot worker`: processing deliveries (and sweeps) from Redis, with RQ, on any number of machines.

With `FUNDBOT_REDIS_URL` set, the web tier only verifies a delivery, takes its id (keeping the raw
body under it) and enqueues one job for it (`bot.web.redis_queue`); any number of worker processes
run the jobs. Each is an RQ `SimpleWorker` (no fork per job), so its caches — installation tokens,
ETags, the App's login, team memberships — serve every job it runs.

Failures (SPEC §12): a job that fails because GitHub is unavailable is retried with backoff
(`RETRY`); one that keeps failing lands in RQ's failed registry and is logged with its delivery id;
GitHub's manual redelivery puts it back in the queue, and the sweep repairs the application anyway.
A worker killed mid-job (SIGKILL) loses nothing: the body stays under the delivery id until the job
has run, the job's lock expires, RQ's registry cleanup runs the abandoned job again (it has retries
left) or the sweep finishes it — and running it again changes nothing twice, because every run
re-reads the application under its lock.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job

from bot.github.webhooks import Event
from bot.jobs.context import Context
from bot.jobs.evidence import run_follow_up
from bot.jobs.routes import HANDLERS, process
from bot.jobs.sweep import sweep
from bot.metrics import observe_delivery

log = logging.getLogger("fundbot.worker")

QUEUE_NAME = "fundbot"
DELIVERY_KEY = "fundbot:delivery:"  # + delivery id: taken with the raw body, then DONE; kept KEEP_DELIVERY_IDS
KEEP_DELIVERY_IDS = 72 * 3600  # GitHub lets a delivery be redelivered for 3 days
DONE = b"done"  # what stays under a delivery's id once its job has run (the body goes)
RETRY = Retry(max=3, interval=[10, 60, 300])  # GitHub unavailable: try again in 10 s, 1 min, 5 min
JOB_TIMEOUT = 180  # seconds a job may run (retries included); a lost worker's job is abandoned after this + 60
FAILURE_TTL = 7 * 86400  # a job failed for good stays in RQ's failed registry a week
RUN_FUNCTION = "bot.jobs.worker.run_delivery"


def job_id(delivery_id: str) -> str:
    """RQ's job id for a delivery: its GitHub id when that is a plain token, else a stable digest."""
    if re.fullmatch(r"[A-Za-z0-9-]{1,64}", delivery_id):
        return f"delivery-{delivery_id}"
    return "delivery-" + hashlib.sha256(delivery_id.encode()).hexdigest()[:32]


@dataclass
class WorkerState:
    """What a worker process keeps between jobs."""

    context: Context
    redis: Redis


_STATE: WorkerState | None = None


def install(state: WorkerState) -> None:
    """Set the worker process's context (done once, before it takes jobs; tests do it in-process)."""
    global _STATE
    _STATE = state


def run_delivery(handler: str, event_name: str, delivery_id: str) -> str:
    """The job: handle one delivery, whose raw body the web tier kept under its id, with the handler
    the web tier routed it to; then keep only a mark under the id (until it expires)."""
    if _STATE is None:
        raise RuntimeError("this process has no worker context: run `fundbot worker`")
    key = DELIVERY_KEY + delivery_id
    kept = _STATE.redis.get(key)
    if kept is None or kept == DONE:
        log.info("delivery already processed, or expired; nothing to do",
                 extra={"delivery": delivery_id, "event": event_name, "outcome": "skipped"})
        observe_delivery(event_name, None, "duplicate")
        return "skipped"
    event = Event(name=event_name, delivery_id=delivery_id, payload=orjson.loads(kept))
    process(_STATE.context, event, HANDLERS[handler])
    _STATE.redis.set(key, DONE, xx=True, keepttl=True)  # the id stays taken as long as GitHub can redeliver
    return "processed"


SWEEP_FUNCTION = "bot.jobs.worker.run_sweep"


def run_sweep(repo: str, installation_id: int | None = None) -> str:
    """The job: sweep one fund (the clock enqueues one per fund, so workers sweep funds in parallel)."""
    if _STATE is None:
        raise RuntimeError("this process has no worker context: run `fundbot worker`")
    context = _STATE.context
    github = context.github
    gateway = github.for_installation(installation_id, throttle_writes=True) if installation_id is not None else \
        github.for_repository(repo, throttle_writes=True)
    result = sweep(context, gateway, repo)
    log.info("sweep finished", extra={"repo": repo, "requests": str(result.stats),
                                      "reason": f"{result.applications} applications, {len(result.lines)} changes, "
                                                f"{len(result.failures)} failures"})
    return "ok" if result.ok else "failures: " + "; ".join(result.failures[:5])


def _ident(kind: str, name: str) -> str:
    """A job id readable, and unique: `a.b/c` and `a-b/c` are two funds."""
    return f"{kind}-" + re.sub(r"[^a-z0-9-]", "-", name.lower())[:80] + "-" + hashlib.sha1(name.lower().encode()).hexdigest()[:8]


def _enqueue_once(redis: Redis, queue_name: str, function: str, args: tuple[Any, ...], ident: str, timeout: int,
                  description: str, *, again: bool = False) -> bool:
    """Queue a job unless the one of this id is queued or running already; True when queued now. With
    `again`, one running is followed by one more (under the id `<id>-again`): what it was asked for may have
    come too late for the run."""
    from rq.exceptions import NoSuchJobError

    try:
        status = Job.fetch(ident, connection=redis).get_status(refresh=False)
        if status == "started" and again:
            return _enqueue_once(redis, queue_name, function, args, f"{ident}-again", timeout, description)
        if status in ("queued", "started", "scheduled", "deferred"):
            return False
    except NoSuchJobError:
        pass
    Queue(queue_name, connection=redis).enqueue(function, *args, job_id=ident, job_timeout=timeout, result_ttl=0,
                                                failure_ttl=7 * 86400, description=description)
    return True


def enqueue_sweep(redis: Redis, repo: str, installation_id: int | None = None) -> bool:
    """Queue a sweep of `repo` unless one is queued or running already; True when queued now."""
    return _enqueue_once(redis, QUEUE_NAME, SWEEP_FUNCTION, (repo, installation_id), _ident("sweep", repo), 3600,
                         f"sweep {repo}")


LATER_QUEUE = "fundbot-later"  # taken after the deliveries' queue: a burst gets its first answers first
EVIDENCE_FUNCTION = "bot.jobs.worker.run_evidence"
EVIDENCE_TIMEOUT = 300  # seconds a pack's job may run (the reads are bounded far below this)


def run_evidence(repo: str, number: int, installation_id: int | None = None, delivery: str | None = None) -> str:
    """The job: read the evidence pack an application wants and take it in (`bot.jobs.evidence.follow_up`)."""
    if _STATE is None:
        raise RuntimeError("this process has no worker context: run `fundbot worker`")
    applied = run_follow_up(_STATE.context, repo, number, installation_id, delivery)
    return "nothing wanted" if applied is None else "taken in"


def enqueue_evidence(redis: Redis, repo: str, number: int, installation_id: int | None = None,
                     delivery: str | None = None) -> bool:
    """Queue an application's evidence follow-up unless one is queued or running; True when queued now."""
    return _enqueue_once(redis, LATER_QUEUE, EVIDENCE_FUNCTION, (repo, number, installation_id, delivery),
                         _ident("evidence", f"{repo}#{number}"), EVIDENCE_TIMEOUT, f"evidence {repo}#{number}",
                         again=True)


def on_failure(job: Job, kind: type[BaseException] | None, value: BaseException | None, traceback: Any) -> bool:
    """RQ's exception handler: log with the delivery id. A job with no retry left stays in RQ's failed
    registry (its body stays under the delivery id): GitHub's manual redelivery puts it back in the
    queue (`bot.web.redis_queue`), and the sweep repairs the application in any case."""
    delivery = job.args[2] if job.func_name == RUN_FUNCTION and len(job.args) > 2 else \
        job.args[3] if job.func_name == EVIDENCE_FUNCTION and len(job.args) > 3 else None
    final = not (job.retries_left and job.retries_left > 0)
    if final and job.func_name == RUN_FUNCTION and len(job.args) > 1:
        observe_delivery(str(job.args[1]), None, "failed")  # the action is in the body, gone with the job
    log.warning("job failed" + ("; left for the sweep" if final else "; it will be retried"),
                extra={"delivery": delivery, "outcome": "failed" if final else "retrying",
                       "reason": f"{kind.__name__ if kind else 'abandoned'}: {value}"})
    return True


class _Worker(SimpleWorker):
    """RQ's `SimpleWorker`, whose command listener stops at once."""

    def unsubscribe(self) -> None:
        # RQ wakes its listener thread by unsubscribing, then waits for it to end. If the thread reads
        # the reply before it is told to stop, it then waits up to 60 s for a subscription that never
        # comes, and redis-py's `PubSubWorkerThread.stop()` waits for it (8.2): every burst, and every
        # worker's SIGTERM, took a minute now and then. Told first, the thread ends at the reply.
        running = getattr(self.pubsub_thread, "_running", None)
        if running is not None:
            running.clear()
        super().unsubscribe()


def run_worker(context: Context, redis: Redis, *, burst: bool = False, name: str | None = None) -> bool:
    """Take jobs until stopped (SIGTERM finishes the running job first)."""
    context.later = functools.partial(enqueue_evidence, redis)
    install(WorkerState(context, redis))
    queues = [Queue(QUEUE_NAME, connection=redis), Queue(LATER_QUEUE, connection=redis)]  # RQ takes them in order
    worker = _Worker(queues, connection=redis, exception_handlers=[on_failure],
                     name=name or f"fundbot-{os.uname().nodename}-{os.getpid()}")
    return worker.work(burst=burst, with_scheduler=True, logging_level=logging.getLevelName(
        logging.getLogger("fundbot").getEffectiveLevel()))
