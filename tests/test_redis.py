"""The Redis side (SPEC §12), against Debian's redis-server: the web tier only verifies, takes the
delivery id in Redis (72 h) and enqueues one RQ job for it; workers run the jobs with the
per-application lock in Redis; failures are retried, then kept in RQ's failed registry with the
delivery id logged, and GitHub's manual redelivery queues them again. Redis failing, before or half-way,
is answered 503 with Retry-After, never 202 — and whatever was half done, the redelivery is taken.

The hostile versions: the same delivery twice, thirty copies at once, a failed job redelivered thirty
times at once, Redis refusing the enqueue half-way, a web process that died between its two round
trips, and a restarted web process."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import redis
from pipeline_world import filed, number_of
from redis_fixtures import RedisServer
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sandbox_fixtures import APP_ID

from bot.demo.world import FUND_REPO, WEBHOOK_SECRET, World
from bot.github.webhooks import signature_for
from bot.jobs.redis_locks import LockTimeout, RedisLocks
from bot.jobs.context import connect
from bot.jobs.worker import DELIVERY_KEY, DONE, KEEP_DELIVERY_IDS, QUEUE_NAME, RUN_FUNCTION, job_id
from bot.sandbox import Faults


@pytest.fixture
def world(make_world, redis_url):
    return make_world("tiny-org/tiny-inference", redis_url=redis_url)


def file(world):
    opened = filed(world.sandbox)
    return opened, number_of(opened)


def post_together(world, delivery, copies: int) -> list[str]:
    """`copies` requests with the same delivery, released at once, each on its own thread and client
    (as on as many web threads); their answers' statuses, or the HTTP status when not 202."""
    body, headers = delivery.body(), delivery.headers(WEBHOOK_SECRET)
    start = threading.Barrier(copies)

    def one(_):
        client = world.app.test_client()
        start.wait()
        answer = client.post("/webhook", data=body, headers=headers)
        return answer.get_json()["status"] if answer.status_code == 202 else str(answer.status_code)

    with ThreadPoolExecutor(max_workers=copies) as pool:
        return list(pool.map(one, range(copies)))


def jobs(client: redis.Redis) -> list[str]:
    """The job ids waiting in the queue, in order (a job queued twice would show twice)."""
    return Queue(QUEUE_NAME, connection=client).get_job_ids()


def test_the_web_tier_only_deduplicates_and_enqueues(world, redis_url):
    opened, number = file(world)
    answer = world.post(opened, wait=False)
    assert answer.status == 202 and answer.json["status"] == "queued"
    client = redis.Redis.from_url(redis_url)
    assert jobs(client) == [job_id(opened.id)]  # one job, named after the delivery
    job = Job.fetch(job_id(opened.id), connection=client)
    assert job.func_name == RUN_FUNCTION and job.args[1:] == ("issues", opened.id)  # the body is not in the job:
    assert client.get(DELIVERY_KEY + opened.id) == opened.body()  # it is kept once, under the id, as it came
    assert world.sandbox.comments(FUND_REPO, number) == []  # nothing processed in the web process
    ttl = client.ttl(DELIVERY_KEY + opened.id)
    assert KEEP_DELIVERY_IDS - 60 < ttl <= KEEP_DELIVERY_IDS  # kept 72 h: GitHub redelivers for 3 days
    again = world.post(opened, wait=False)
    assert again.json["status"] == "duplicate" and jobs(client) == [job_id(opened.id)]
    world.sandbox.clear_log()
    world.work()
    assert len(world.status_comments(number)) == 1 and world.record(number).stage == "technical"
    # run once: one status comment written (the delivery's evidence job, issue 21, reads the issue after it)
    assert len(world.sandbox.requests("POST", f"/repos/{FUND_REPO}/issues/{number}/comments")) == 1
    assert client.get(DELIVERY_KEY + opened.id) == DONE  # the body is gone, the id stays taken
    assert KEEP_DELIVERY_IDS - 60 < client.ttl(DELIVERY_KEY + opened.id) <= KEEP_DELIVERY_IDS  # for as long
    assert world.post(opened, wait=False).json["status"] == "duplicate" and jobs(client) == []


def test_thirty_copies_of_a_delivery_at_once_make_one_job(world, redis_url):
    opened, number = file(world)
    answers = post_together(world, opened, 30)
    assert sorted(answers) == ["duplicate"] * 29 + ["queued"], answers
    client = redis.Redis.from_url(redis_url)
    assert jobs(client) == [job_id(opened.id)]
    world.sandbox.clear_log()
    world.work()
    assert len(world.status_comments(number)) == 1
    assert len(world.sandbox.requests("POST", f"/repos/{FUND_REPO}/issues/{number}/comments")) == 1  # processed once


def fail_for_good(world, client: redis.Redis, delivery) -> None:
    """Post `delivery` while GitHub answers every request 502, and run its job and its three retries
    (their intervals skipped): it ends in RQ's failed registry. GitHub is back afterwards."""
    world.sandbox.faults = Faults(error_rate=1.0)
    policy = world.context.github._policy
    world.context.github._policy = type(policy)(attempts=1, base_delay=0, max_wait=0)
    assert world.post(delivery, wait=False).json["status"] == "queued"
    queue = Queue(QUEUE_NAME, connection=client)
    for _ in range(4):
        world.work()
        for scheduled in queue.scheduled_job_registry.get_job_ids():
            queue.scheduled_job_registry.remove(scheduled)
            queue.enqueue_job(queue.fetch_job(scheduled))
    world.sandbox.faults = Faults()
    world.context.github._policy = policy
    assert FailedJobRegistry(QUEUE_NAME, connection=client).get_job_ids() == [job_id(delivery.id)]


def test_a_job_failing_on_github_is_retried_then_requeued_by_the_redelivery(world, redis_url, caplog):
    opened, number = file(world)
    client = redis.Redis.from_url(redis_url)
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        fail_for_good(world, client, opened)
    assert any("left for the sweep" in r.getMessage() and getattr(r, "delivery", None) == opened.id
               for r in caplog.records)
    # GitHub's manual redelivery (same id) puts the failed job back — once, however many arrive at once
    # — and it runs now that GitHub is back.
    answers = post_together(world, opened, 30)
    assert sorted(answers) == ["duplicate"] * 29 + ["queued"], answers
    assert jobs(client) == [job_id(opened.id)] and FailedJobRegistry(QUEUE_NAME, connection=client).count == 0
    world.work()
    assert len(world.status_comments(number)) == 1
    assert client.get(DELIVERY_KEY + opened.id) == DONE
    assert world.post(opened, wait=False).json["status"] == "duplicate"


def test_a_redis_outage_is_answered_503_never_202(sandbox, sandbox_server, app_key, tmp_path):
    with RedisServer(tmp_path) as server:
        w = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=server.url)
    try:  # the server is stopped now
        opened = filed(sandbox)
        answer = w.post(opened, wait=False)
        response = w.client.post("/webhook", data=opened.body(), headers=opened.headers(WEBHOOK_SECRET))
        assert answer.status == 503 and response.status_code == 503 and response.headers["Retry-After"]
        with RedisServer(tmp_path, port=server.port):  # Redis is back: GitHub's redelivery is taken
            assert w.post(opened, wait=False).json["status"] == "queued"
            assert w.post(opened, wait=False).json["status"] == "duplicate"
            # Stopped between two requests, and back: the web process's connections find it again.
        opened_again = filed(sandbox, "applicant", "Other")
        assert w.post(opened_again, wait=False).status == 503
        with RedisServer(tmp_path, port=server.port):
            assert w.post(opened_again, wait=False).json["status"] == "queued"
    finally:
        w.close()


def test_redis_failing_half_way_is_answered_503_and_the_redelivery_is_taken(sandbox, sandbox_server, app_key,
                                                                              tmp_path):
    """A real Redis that takes the id, then refuses the enqueue (an ACL that lets the web tier write only
    `fundbot:*` keys, none of RQ's): 503, no job; once Redis takes it again, the redelivery is queued."""
    with RedisServer(tmp_path) as server:
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("ACL", "SETUSER", "web", "on", ">web-password", "~fundbot:*", "&*", "+@all")
        web_url = server.url.replace("redis://", "redis://web:web-password@")
        w = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=web_url)
        try:
            w.add_applicant_repo("tiny-org/tiny-inference")
            opened, number = file(w)
            response = w.client.post("/webhook", data=opened.body(), headers=opened.headers(WEBHOOK_SECRET))
            assert response.status_code == 503 and response.headers["Retry-After"]
            assert admin.get(DELIVERY_KEY + opened.id) == opened.body() and jobs(admin) == []  # taken, no job
            assert w.post(opened, wait=False).status == 503  # still refused: not a "duplicate"
            admin.execute_command("ACL", "SETUSER", "web", "allkeys")  # Redis takes everything again
            assert w.post(opened, wait=False).json["status"] == "queued"  # GitHub's manual redelivery
            assert jobs(admin) == [job_id(opened.id)]
            assert w.post(opened, wait=False).json["status"] == "duplicate"
            w.work()
            assert len(w.status_comments(number)) == 1 and w.record(number).stage == "technical"
        finally:
            w.close()


def test_redis_failing_half_way_through_a_requeue_leaves_the_failed_job_where_it_was(sandbox, sandbox_server,
                                                                                      app_key, tmp_path):
    """The failed job leaves RQ's failed registry and enters the queue in one transaction: Redis
    refusing the second half (an ACL without the queue's list) changes nothing, and once Redis takes
    it again the next redelivery requeues it — not "duplicate" for a job in neither place."""
    with RedisServer(tmp_path) as server:
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("ACL", "SETUSER", "web", "on", ">web-password", "allkeys", "&*", "+@all")
        w = World(sandbox, sandbox_server.url, APP_ID, app_key,
                  redis_url=server.url.replace("redis://", "redis://web:web-password@"))
        try:
            w.add_applicant_repo("tiny-org/tiny-inference")
            opened, number = file(w)
            fail_for_good(w, admin, opened)
            admin.execute_command("ACL", "SETUSER", "web", "resetkeys", "~fundbot:*", "~rq:job:*", "~rq:failed:*",
                                  "~rq:queues")  # everything the requeue writes but the queue itself
            assert w.post(opened, wait=False).status == 503
            assert FailedJobRegistry(QUEUE_NAME, connection=admin).get_job_ids() == [job_id(opened.id)]
            assert Job.fetch(job_id(opened.id), connection=admin).is_failed and jobs(admin) == []
            admin.execute_command("ACL", "SETUSER", "web", "allkeys")
            assert w.post(opened, wait=False).json["status"] == "queued"
            assert jobs(admin) == [job_id(opened.id)] and FailedJobRegistry(QUEUE_NAME, connection=admin).count == 0
            w.work()
            assert len(w.status_comments(number)) == 1
        finally:
            w.close()


def test_an_id_taken_by_a_web_process_that_died_half_way_is_queued_by_the_redelivery(
        sandbox, sandbox_server, app_key, redis_url):
    """A web process killed between its two round trips leaves the id taken with the body and no job:
    the restarted service queues GitHub's redelivery — once, however many copies arrive together."""
    first = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url)
    first.add_applicant_repo("tiny-org/tiny-inference")
    opened, number = file(first)
    client = redis.Redis.from_url(redis_url)
    # What the dead process's first round trip did, and nothing more:
    assert client.set(DELIVERY_KEY + opened.id, opened.body(), nx=True, ex=KEEP_DELIVERY_IDS)
    first.close()
    restarted = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url, seed=False)
    try:
        answers = post_together(restarted, opened, 30)
        assert sorted(answers) == ["duplicate"] * 29 + ["queued"], answers
        assert jobs(client) == [job_id(opened.id)]
        restarted.work()
        assert len(restarted.status_comments(number)) == 1
        assert restarted.post(opened, wait=False).json["status"] == "duplicate" and jobs(client) == []
    finally:
        restarted.close()


def test_a_restarted_web_process_still_knows_every_delivery(sandbox, sandbox_server, app_key, redis_url):
    first = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url)
    first.add_applicant_repo("tiny-org/tiny-inference")
    processed, one = file(first)
    first.post(processed)  # queued and processed
    waiting, two = file(first)
    assert first.post(waiting, wait=False).json["status"] == "queued"  # queued, not processed yet
    first.close()
    restarted = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url, seed=False)
    try:
        assert restarted.post(processed, wait=False).json["status"] == "duplicate"
        assert restarted.post(waiting, wait=False).json["status"] == "duplicate"
        assert jobs(redis.Redis.from_url(redis_url)) == [job_id(waiting.id)]
        restarted.work()
        assert [len(restarted.status_comments(n)) for n in (one, two)] == [1, 1]
    finally:
        restarted.close()


def test_a_job_run_again_after_its_delivery_was_processed_changes_nothing(world, redis_url):
    """As when a worker is killed after processing but before RQ noted the job done, and RQ runs it again."""
    opened, number = file(world)
    world.post(opened, wait=False)
    client = redis.Redis.from_url(redis_url)
    args = Job.fetch(job_id(opened.id), connection=client).args
    world.work()
    Queue(QUEUE_NAME, connection=client).enqueue(RUN_FUNCTION, *args, job_id=job_id(opened.id))
    world.sandbox.clear_log()
    world.work()
    assert world.sandbox.requests("GET", f"/repos/{FUND_REPO}/issues/{number}") == []  # not processed again
    assert len(world.status_comments(number)) == 1


def test_a_form_encoded_delivery_is_processed(world, redis_url):
    """Repository webhooks may post `payload=<json>` as a form; the worker gets the JSON."""
    opened, number = file(world)
    body = urlencode({"payload": opened.body().decode()}).encode()
    headers = {**opened.headers(), "Content-Type": "application/x-www-form-urlencoded",
               "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET.encode(), body)}
    assert world.client.post("/webhook", data=body, headers=headers).get_json()["status"] == "queued"
    world.work()
    assert len(world.status_comments(number)) == 1


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
