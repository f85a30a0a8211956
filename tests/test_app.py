"""The web service: every real delivery answered, every bad input refused with its status and
nothing processed, a full queue answered 503, and start-up refused on bad settings or rules."""
import dataclasses
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pipeline_world import filed

from bot.config.settings import SettingsError
from bot.demo.world import WEBHOOK_SECRET
from bot.github.webhooks import MAX_BODY_BYTES, signature_for
from bot.jobs.queue import InProcessQueue
from bot.policy.rules import RulesError
from bot.web.app import create_app, shutdown

EXAMPLES = json.loads((Path(__file__).parent / "fixtures" / "octokit-webhooks-examples.json").read_text())
ALL_DELIVERIES = [(group["name"], example) for group in EXAMPLES for example in group["examples"]]


def signed(body: bytes, event="issues", delivery="d-1", **headers):
    base = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json",
            "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET.encode(), body)}
    base.update(headers)
    return {k: v for k, v in base.items() if v is not None}


def test_all_329_real_deliveries_are_answered_and_none_breaks_the_worker(world):
    assert len(ALL_DELIVERIES) == 329
    for i, (event, payload) in enumerate(ALL_DELIVERIES):
        body = json.dumps(payload).encode()
        response = world.client.post("/webhook", data=body, headers=signed(body, event, f"example-{i}"))
        assert 200 <= response.status_code < 300, (event, payload.get("action"), response.get_json())
    assert world.runtime.queue.join(30)
    stats = world.runtime.queue.stats
    assert stats.failed == 0 and stats.processed == stats.accepted
    assert stats.accepted > 0  # issues and issue_comment examples did reach the handlers
    assert world.sandbox.requests() == []  # none of them is an application, so GitHub is never called


ISSUE = json.dumps({"action": "opened", "sender": {"login": "a", "type": "User"}, "issue": {"number": 1}}).encode()


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (ISSUE, {"X-Hub-Signature-256": None}, 401),
        (ISSUE, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401),
        (ISSUE, {"X-Hub-Signature-256": signature_for(b"another secret", ISSUE)}, 401),
        (ISSUE, {"X-GitHub-Event": None}, 400),
        (ISSUE, {"X-GitHub-Delivery": None}, 400),
        (b"{broken", {}, 400),
        (b"x" * (MAX_BODY_BYTES + 1), {}, 413),
    ],
    ids=["no-signature", "wrong-signature", "other-secret", "no-event", "no-delivery", "malformed-json", "too-large"],
)
def test_bad_input_gets_its_status_and_nothing_is_processed(world, body, headers, status):
    response = world.client.post("/webhook", data=body, headers=signed(body, **headers))
    assert response.status_code == status
    assert "error" in response.get_json()
    assert world.runtime.queue.stats.accepted == 0 and world.sandbox.requests() == []


@pytest.mark.parametrize(
    "event, payload, reason",
    [
        ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}, None),
        ("release", {"action": "published"}, "is not handled"),
        ("issues", {"action": "closed", "sender": {"login": "a", "type": "User"}}, "is not handled"),
        ("issue_comment", {"action": "created", "sender": {"login": "fund-bot[bot]", "type": "Bot"}}, "sent by a bot"),
        ("issue_comment", {"action": "edited", "sender": {"login": "a", "type": "User"}}, "is not handled"),
    ],
    ids=["ping", "unhandled-event", "unhandled-action", "from-a-bot", "edited-comment"],
)
def test_events_the_bot_does_not_act_on_are_acknowledged(world, event, payload, reason):
    body = json.dumps(payload).encode()
    response = world.client.post("/webhook", data=body, headers=signed(body, event))
    assert response.status_code == 202
    if reason:
        assert reason in response.get_json()["reason"]


def test_comments_on_pull_requests_are_ignored(world):
    example = next(p for e, p in ALL_DELIVERIES if e == "issue_comment" and p["action"] == "created")
    example = json.loads(json.dumps(example))
    # A comment on a pull request is an issue_comment whose issue has `pull_request` (GitHub's docs).
    repo_url = example["repository"]["url"]
    example["issue"]["pull_request"] = {"url": f"{repo_url}/pulls/1", "html_url": example["issue"]["html_url"]}
    example["issue"]["labels"] = [{"name": "fund: application"}]
    example["comment"]["body"] = "/approve 100"
    body = json.dumps(example).encode()
    assert world.client.post("/webhook", data=body, headers=signed(body, "issue_comment")).status_code == 202
    assert world.runtime.queue.join(5) and world.runtime.queue.stats.failed == 0
    assert world.sandbox.requests() == []


def test_healthz(world):
    assert world.client.get("/healthz").status_code == 200
    assert world.client.get("/livez").status_code == 200


def test_healthz_answers_503_with_the_reason_while_the_queues_redis_is_down_and_livez_stays_200(
        sandbox, sandbox_server, app_key, tmp_path, caplog):
    # Every delivery would get 503 meanwhile: a platform must route elsewhere (readiness), but restarting
    # the process would not bring Redis back (liveness stays 200).
    from redis_fixtures import RedisServer
    from sandbox_fixtures import APP_ID

    from bot.demo.world import World

    with RedisServer(tmp_path) as redis:
        world = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis.url)
        world.runtime.readiness._interval = 0  # ask Redis at every call (a second apart in service)
        try:
            assert world.client.get("/healthz").status_code == 200
            redis.stop()
            with caplog.at_level("WARNING", logger="fundbot"):
                answers = [world.client.get("/healthz") for _ in range(3)]
            assert {a.status_code for a in answers} == {503}
            assert answers[0].get_json() == {"status": "unavailable",
                                             "reason": "the queue's Redis cannot be reached (ConnectionError)"}
            assert str(redis.port) not in answers[0].get_data(as_text=True)  # no address on a public page
            said = [r for r in caplog.records if "Redis cannot be reached" in r.getMessage()]
            assert len(said) == 1 and str(redis.port) in said[0].reason  # logged once, with the detail
            assert world.client.get("/livez").status_code == 200
            redis.start()
            assert world.client.get("/healthz").status_code == 200
        finally:
            world.close()


def test_healthz_asks_redis_at_most_once_a_second_however_often_it_is_called():
    from bot.web.app import Readiness

    pings = []
    now = [100.0]

    class Redis:
        def ping(self):
            pings.append(now[0])
            return True

    readiness = Readiness(Redis(), monotonic=lambda: now[0])
    for _ in range(1000):
        assert readiness.problem() is None
    now[0] += 1.0
    assert readiness.problem() is None and pings == [100.0, 101.0]


def test_a_full_queue_answers_503_with_retry_after(world):
    gate = threading.Event()
    queue = InProcessQueue(lambda e: gate.wait(5), maxsize=1, workers=1)
    app = create_app({"SETTINGS": world.settings, "RULES": world.rules, "GITHUB": world.github, "QUEUE": queue})
    client = app.test_client()
    statuses = []
    for i in range(4):
        body = json.dumps({"action": "opened", "sender": {"login": "a", "type": "User"}, "n": i}).encode()
        statuses.append(client.post("/webhook", data=body, headers=signed(body, delivery=f"q-{i}")))
    assert [r.status_code for r in statuses].count(503) >= 1
    full = next(r for r in statuses if r.status_code == 503)
    assert full.headers["Retry-After"].isdigit()
    gate.set()
    assert shutdown(app, 5) == []


@pytest.mark.parametrize("signed_with, status", [(WEBHOOK_SECRET, 202), ("the previous secret", 202),
                                                 ("a third secret", 401)],
                         ids=["current", "previous", "neither"])
def test_while_the_secret_is_rotated_both_are_accepted(world, signed_with, status):
    rotating = dataclasses.replace(world.settings, webhook_secret_previous=b"the previous secret")
    app = create_app({"SETTINGS": rotating, "RULES": world.rules, "GITHUB": world.github})
    try:
        world.add_applicant_repo("tiny-org/tiny-inference")
        delivery = filed(world.sandbox)
        body = delivery.body()
        headers = signed(body, delivery=delivery.id, **{"X-Hub-Signature-256": signature_for(signed_with.encode(), body)})
        assert app.test_client().post("/webhook", data=body, headers=headers).status_code == status
        assert app.extensions["fundbot"].queue.join(30)
        assert (world.status_comment(1) is not None) is (status == 202)  # processed, or nothing done at all
    finally:
        shutdown(app, 5)


def test_a_flood_of_bad_signatures_logs_little_and_never_the_payload(world, caplog):
    caplog.set_level(logging.INFO)
    secret_looking = b'{"token": "ghs_THIS_MUST_NOT_BE_LOGGED"}'
    for i in range(200):
        headers = signed(secret_looking, delivery=f"flood-{i}", **{"X-Hub-Signature-256": "sha256=" + "1" * 64})
        assert world.client.post("/webhook", data=secret_looking, headers=headers).status_code == 401
    refusals = [r for r in caplog.records if r.getMessage() == "delivery refused"]
    assert 1 <= len(refusals) <= 3
    assert "ghs_THIS_MUST_NOT_BE_LOGGED" not in caplog.text


# --- start-up -----------------------------------------------------------------------------------


@pytest.fixture
def good_env(app_key):
    return {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": app_key, "GITHUB_WEBHOOK_SECRET": "s"}


@pytest.mark.parametrize("missing", ["GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"])
def test_create_app_refuses_to_start_without_a_setting(good_env, missing):
    del good_env[missing]
    with pytest.raises(SettingsError, match=missing):
        create_app({"ENVIRON": good_env})


def test_create_app_refuses_to_start_on_broken_rules(good_env, tmp_path):
    import shutil

    from bot.config.settings import DEFAULT_RULES_DIR

    shutil.copytree(DEFAULT_RULES_DIR, tmp_path / "rules")
    (tmp_path / "rules" / "stages.yml").write_text((tmp_path / "rules" / "stages.yml").read_text() + "\nsurprise: 1\n")
    with pytest.raises(RulesError, match="surprise"):
        create_app({"ENVIRON": {**good_env, "FUNDBOT_RULES": str(tmp_path / "rules")}})


def test_gunicorn_refuses_to_start_with_one_line(good_env):
    # Exactly as the Procfile runs it; no worker ever boots.
    env = {k: v for k, v in good_env.items() if k != "GITHUB_WEBHOOK_SECRET"}
    env.update(PATH=__import__("os").environ["PATH"], PORT="0")
    run = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "python:bot.web.gunicorn_conf", "bot.app:create_app()"],
                         cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.startswith("fundbot:")]
    assert lines == ["fundbot: GITHUB_WEBHOOK_SECRET is missing: set it to the App's webhook secret"]
    assert "Traceback" not in run.stderr
