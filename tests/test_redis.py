"""The Redis side (SPEC §12), against Debian's redis-server: the web tier only verifies, deduplicates
in Redis (72 h) and enqueues on RQ; workers run the jobs with the per-application lock in Redis;
failures are retried, then left for the sweep with the delivery id logged and forgotten; a Redis
outage is answered 503 with Retry-After, never 202."""
from __future__ import annotations

import logging
import threading
import time

import pytest
import redis
from factories import application_body
from redis_fixtures import RedisServer
from rq import Queue
from rq.registry import FailedJobRegistry
from sandbox_fixtures import APP_ID

from bot.demo.world import FUND_REPO, World
from bot.jobs.redis_locks import LockTimeout, RedisLocks
from bot.jobs.context import connect
from bot.jobs.worker import DELIVERY_KEY, DONE, KEEP_DELIVERY_IDS, QUEUE_NAME
from bot.sandbox import Faults


@pytest.fixture
def world(sandbox, sandbox_server, app_key, redis_url):
    w = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url)
    w.add_applicant_repo("tiny-org/tiny-inference")
    yield w
    w.close()


def file(world):
    opened = world.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                      labels=["fund: application"])
    return opened, opened.payload["issue"]["number"]


def test_the_web_tier_only_deduplicates_and_enqueues(world, redis_url):
    opened, number = file(world)
    answer = world.post(opened, wait=False)
    assert answer.status == 202 and answer.json["status"] == "queued"
    client = redis.Redis.from_url(redis_url)
    assert Queue(QUEUE_NAME, connection=client).count == 1
    assert world.sandbox.comments(FUND_REPO, number) == []  # nothing processed in the web process
    ttl = client.ttl(DELIVERY_KEY + opened.id)
    assert KEEP_DELIVERY_IDS - 60 < ttl <= KEEP_DELIVERY_IDS  # kept 72 h: GitHub redelivers for 3 days
    again = world.post(opened, wait=False)
    assert again.json["status"] == "duplicate"
    world.sandbox.clear_log()
    world.work()
    assert len(world.status_comments(number)) == 1 and world.record(number).stage == "technical"
    assert len(world.sandbox.requests("GET", f"/repos/{FUND_REPO}/issues/{number}")) == 1  # run once
    assert client.get(DELIVERY_KEY + opened.id) == DONE  # the body is gone, the id stays taken
    assert world.post(opened, wait=False).json["status"] == "duplicate"


def test_a_job_failing_on_github_is_retried_then_left_for_the_sweep(world, redis_url, caplog):
    opened, number = file(world)
    world.sandbox.faults = Faults(error_rate=1.0)  # GitHub answers every request 502
    world.context.github._policy = type(world.context.github._policy)(attempts=1, base_delay=0, max_wait=0)
    world.post(opened, wait=False)
    client = redis.Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=client)
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        for _ in range(5):  # the dispatch, then the delivery's first run and its three retries
            world.work()
            for job_id in queue.scheduled_job_registry.get_job_ids():  # their intervals skipped here
                queue.scheduled_job_registry.remove(job_id)
                queue.enqueue_job(queue.fetch_job(job_id))
    assert FailedJobRegistry(QUEUE_NAME, connection=client).count == 1
    assert any("left for the sweep" in r.getMessage() and getattr(r, "delivery", None) == opened.id
               for r in caplog.records)
    world.sandbox.faults = Faults()
    # GitHub's manual redelivery (same id) puts the failed job back, and it runs now that GitHub is back.
    assert world.post(opened, wait=False).json["status"] == "queued"
    world.work()
    assert len(world.status_comments(number)) == 1
    assert FailedJobRegistry(QUEUE_NAME, connection=client).count == 0


def test_a_redis_outage_is_answered_503_never_202(sandbox, sandbox_server, app_key, tmp_path):
    with RedisServer(tmp_path) as server:
        w = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=server.url)
    try:  # the server is stopped now
        opened = sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                    labels=["fund: application"])
        answer = w.post(opened, wait=False)
        response = w.client.post("/webhook", data=opened.body(), headers=opened.headers("sandbox-webhook-secret"))
        assert answer.status == 503 and response.status_code == 503 and response.headers["Retry-After"]
        with RedisServer(tmp_path, port=server.port):  # Redis is back: GitHub's redelivery is taken
            assert w.post(opened, wait=False).status == 202
    finally:
        w.close()


def test_application_locks_are_shared_and_expire_with_a_dead_holder(redis_url):
    first, second = RedisLocks(connect(redis_url), timeout=1, wait=10), RedisLocks(connect(redis_url), timeout=1, wait=10)
    order = []

    def hold(locks, name, seconds):
        with locks.application("fund/applications", 7):
            order.append(f"{name} in")
            time.sleep(seconds)  # longer than the timeout: the holder keeps renewing it
            order.append(f"{name} out")

    a = threading.Thread(target=hold, args=(first, "a", 2.5))
    a.start()
    while not order:
        time.sleep(0.01)
    hold(second, "b", 0)
    a.join()
    assert order == ["a in", "a out", "b in", "b out"]

    # A holder that dies (no renewal, no release) frees the application once the timeout passes.
    dead = connect(redis_url).lock("fundbot:lock:app:fund/applications#7", timeout=1)
    assert dead.acquire()
    impatient = RedisLocks(connect(redis_url), timeout=1, wait=0.2)
    with pytest.raises(LockTimeout):
        with impatient.application("fund/applications", 7):
            pass
    with RedisLocks(connect(redis_url), timeout=1, wait=10).application("fund/applications", 7):
        pass
