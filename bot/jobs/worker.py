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


def enqueue_sweep(redis: Redis, repo: str, installation_id: int | None = None) -> bool:
    """Queue a sweep of `repo` unless one is queued or running already; True when queued now."""
    from rq.exceptions import NoSuchJobError

    # Readable, and unique: `a.b/c` and `a-b/c` are two funds.
    ident = "sweep-" + re.sub(r"[^a-z0-9-]", "-", repo.lower()) + "-" + hashlib.sha1(repo.lower().encode()).hexdigest()[:8]
    try:
        if Job.fetch(ident, connection=redis).get_status(refresh=False) in ("queued", "started", "scheduled", "deferred"):
            return False
    except NoSuchJobError:
        pass
    Queue(QUEUE_NAME, connection=redis).enqueue(SWEEP_FUNCTION, repo, installation_id, job_id=ident, job_timeout=3600,
                                                result_ttl=0,
                                                failure_ttl=7 * 86400, description=f"sweep {repo}")
    return True


def on_failure(job: Job, kind: type[BaseException] | None, value: BaseException | None, traceback: Any) -> bool:
    """RQ's exception handler: log with the delivery id. A job with no retry left stays in RQ's failed
    registry (its body stays under the delivery id): GitHub's manual redelivery puts it back in the
    queue (`bot.web.redis_queue`), and the sweep repairs the application in any case."""
    delivery = job.args[2] if job.func_name == RUN_FUNCTION and len(job.args) > 2 else None
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
    install(WorkerState(context, redis))
    queue = Queue(QUEUE_NAME, connection=redis)
    worker = _Worker([queue], connection=redis, exception_handlers=[on_failure],
                     name=name or f"fundbot-{os.uname().nodename}-{os.getpid()}")
    return worker.work(burst=burst, with_scheduler=True, logging_level=logging.getLevelName(
        logging.getLogger("fundbot").getEffectiveLevel()))
