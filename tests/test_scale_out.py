"""Many processes (SPEC §12), end to end: two gunicorn web processes and three `fundbot worker`s
sharing Debian's redis-server, against the sandbox GitHub. 200 deliveries for 40 applications arrive
in bursts, one worker is killed with SIGKILL in the middle of a job and another started; once the
queue is drained and the sweep has run, every application ends exactly as the same story run one
delivery at a time in one process: one status comment each, no reply twice."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from e2e_harness import Service, Worker
from rq import Queue, Worker as RQWorker
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET
from pipeline_world import filed

from bot.demo.world import FUND_REPO, World, running_world
from bot.jobs.context import build_context
from bot.jobs.sweep import sweep
from bot.jobs.worker import QUEUE_NAME
from bot.policy.markers import STATUS_MARKER
from bot.sandbox import ContentLimits, Faults

pytestmark = pytest.mark.e2e
APPLICATIONS = 40
WORKER_ENV = {"FUNDBOT_LOCK_TIMEOUT": "3", "FUNDBOT_CONTENT_LIMITS": "100000/100000"}
START = dt.datetime(2027, 3, 1, 9, tzinfo=dt.timezone.utc)
COMMENTS = (("rita", "/score technical 4"), ("ravi", "/score technical 5\n/advance"), ("stan", "/approve 1"))


def story(world: World) -> list:
    """Every application filed, commented on by two reviewers and a stranger; the deliveries GitHub
    sends for it all (5 per application), in the order the events happened."""
    world.add_applicant_repo("tiny-org/tiny-inference")
    deliveries = []
    for i in range(APPLICATIONS):
        opened = filed(world.sandbox, f"dev{i}", f"Project {i}")
        deliveries += [opened] + world.sandbox.pending_deliveries()
        number = opened.payload["issue"]["number"]
        deliveries += [world.sandbox.comment(FUND_REPO, number, who, text) for who, text in COMMENTS]
    return deliveries


def end_state(world: World) -> dict[int, tuple]:
    app = world.app_login
    state = {}
    for number in range(1, APPLICATIONS + 1):
        comments = world.sandbox.comments(FUND_REPO, number)
        own = [c["body"] for c in comments if c["user"]["login"] == app]
        record = world.record(number)
        state[number] = (
            sum(b.startswith(STATUS_MARKER) for b in own),
            sorted(b.split("fund-bot:notice ")[1].split(" ")[0] for b in own if "fund-bot:notice" in b),
            record.stage if record else None,
            sorted((s.reviewer, s.criterion, s.value) for s in record.scores) if record else None,
            sorted(world.labels(number)),
        )
    return state


def sequential_end_state(app_key: str) -> dict[int, tuple]:
    # Paced as the processes below are (a GitHub that allows more content a minute): pacing only delays.
    with running_world(now=lambda: START, openapi=OPENAPI_SUBSET, app_id=APP_ID, app_key=app_key,
                       settings={"content_limits": (100_000, 100_000)}) as world:
        world.sandbox.content_limits = ContentLimits(per_minute=100_000, per_hour=100_000)
        for delivery in story(world):
            world.deliver(delivery)
        return end_state(world)


def drained(client: redis.Redis, dead: set[str]) -> bool:
    queue = Queue(QUEUE_NAME, connection=client)
    busy = [w for w in RQWorker.all(queue=queue) if w.name not in dead and w.get_current_job_id()]
    return queue.count == 0 and not busy and not queue.scheduled_job_registry.count


def test_two_web_processes_three_workers_and_a_killed_one(sandbox, sandbox_server, app_key, redis_url, tmp_path):
    expected = sequential_end_state(app_key)

    world = World(sandbox, sandbox_server.url, APP_ID, app_key)
    deliveries = story(world)
    sandbox.faults = Faults(latency_ms=20)  # each job takes a moment: one is surely running when we kill
    # Some 160 content creations in a minute: pacing them under github.com's 80 a minute (tests/test_pacing.py)
    # would make this test wait two minutes for nothing it checks, so this GitHub allows more, as a GHES may.
    sandbox.content_limits = ContentLimits(per_minute=100_000, per_hour=100_000)
    client = redis.Redis.from_url(redis_url)
    env = dict(FUNDBOT_REDIS_URL=redis_url, FUNDBOT_LOCK_TIMEOUT="3")
    workers = [Worker(sandbox_server.url, APP_ID, app_key, redis_url, tmp_path / f"worker{i}.log",
                      **WORKER_ENV) for i in range(3)]
    web = Service(sandbox_server.url, APP_ID, app_key, tmp_path / "gunicorn.log", WEB_CONCURRENCY="2", **env)
    dead: set[str] = set()
    with contextlib.ExitStack() as running:
        running.enter_context(web)
        for worker in workers:
            running.enter_context(worker)
        # On the way out every worker is told at once, then each is waited for: they stop side by side.
        running.callback(lambda: [worker.terminate() for worker in workers])
        with ThreadPoolExecutor(max_workers=16) as pool:
            bursts = [deliveries[i:i + 25] for i in range(0, len(deliveries), 25)]
            for k, burst in enumerate(bursts):
                answers = list(pool.map(web.post, burst))
                assert all(status == 202 for status, _ in answers), answers
                if k == len(bursts) // 2:
                    victim = _busy_worker(client, timeout=30)
                    dead.add(victim.name)
                    workers[[w.pid for w in workers].index(victim.pid)].kill()  # SIGKILL, mid-job
                    workers.append(running.enter_context(Worker(sandbox_server.url, APP_ID, app_key, redis_url,
                                                                tmp_path / "worker3.log", **WORKER_ENV)))
                    running.callback(workers[-1].terminate)
        deadline = time.monotonic() + 120
        while not drained(client, dead):
            assert time.monotonic() < deadline, "the workers did not drain the queue"
            time.sleep(0.1)
        sandbox.faults = Faults()
        # The sweep, sharing the workers' locks, finishes the job the killed worker was doing.
        settings = dataclasses.replace(world.settings, redis_url=redis_url, lock_timeout=3.0,
                                       content_limits=(100_000, 100_000))
        context = build_context(settings, world.rules, clock=sandbox.now)
        result = sweep(context, context.github.for_repository(FUND_REPO), FUND_REPO)
        assert result.ok, result.failures
    world.close()
    assert end_state(world) == expected


def _busy_worker(client: redis.Redis, timeout: float) -> RQWorker:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in RQWorker.all(queue=Queue(QUEUE_NAME, connection=client)):
            if worker.get_current_job_id():
                return worker
        time.sleep(0.01)
    raise AssertionError("no worker was busy")
