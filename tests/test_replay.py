"""`fundbot replay FILE.json`: a saved delivery fed through the webhook's pipeline against the sandbox
GitHub — a dry run writes nothing and says what it would write, a real run writes it, what the web
tier ignores is ignored, and a file that is not a delivery exits 2 saying what is wrong."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipeline_world import filed

from bot.cli import main
from bot.demo.world import FUND_REPO, WEBHOOK_SECRET
from bot.sandbox import Delivery


@pytest.fixture
def lost(world) -> Delivery:
    """An application whose `issues.opened` delivery never reached the service."""
    world.add_applicant_repo("tiny-org/tiny-inference")
    delivery = filed(world.sandbox)
    world.deliver(delivery, lose=True)
    world.sandbox.clear_log()
    return delivery


def save(tmp_path: Path, document: object) -> str:
    path = tmp_path / "delivery.json"
    path.write_text(json.dumps(document))
    return str(path)


def recent_deliveries_page(delivery: Delivery) -> dict:
    """What the App's Recent Deliveries page shows: the request's headers and its payload."""
    return {"headers": delivery.headers(WEBHOOK_SECRET), "payload": delivery.payload}


def test_a_dry_run_writes_nothing_then_the_real_run_writes_the_status_comment(world, app_env, lost, tmp_path,
                                                                                capsys):
    file = save(tmp_path, recent_deliveries_page(lost))
    assert main(["replay", file, "--dry-run"], app_env) == 0
    out = capsys.readouterr().out
    assert "would: #1: update the status comment" in out and "dry run, nothing written" in out
    assert world.sandbox.request_counts().writes == 0 and world.status_comment(1) is None

    assert main(["replay", file], app_env) == 0
    assert "did: #1: update the status comment" in capsys.readouterr().out
    assert world.status_comment(1) is not None and world.record(1).stage == "technical"

    world.sandbox.clear_log()
    assert main(["replay", file], app_env) == 0  # replayed again: a redelivery, which changes nothing
    assert "0 changes" in capsys.readouterr().out and world.sandbox.request_counts().writes == 0


@pytest.mark.parametrize(
    "form, extra_args",
    [
        (lambda d: {"headers": d.headers(), "payload": json.dumps(d.payload)}, []),
        (lambda d: {"id": 1, "guid": d.id, "event": d.event, "action": d.action,
                    "request": {"headers": d.headers(WEBHOOK_SECRET), "payload": d.payload},
                    "response": {"headers": {}, "payload": "ok"}}, []),
        (lambda d: d.payload, ["--event", "issues"]),
    ],
    ids=["payload-as-json-text", "rest-api-hook-delivery", "bare-payload-with-event"],
)
def test_every_saved_form_is_replayed(world, app_env, lost, tmp_path, capsys, form, extra_args):
    assert main(["replay", save(tmp_path, form(lost)), "--dry-run", *extra_args], app_env) == 0
    assert "would: #1: update the status comment" in capsys.readouterr().out
    assert world.sandbox.request_counts().writes == 0


@pytest.mark.parametrize(
    "change, reason",
    [({"sender": {"login": "renovate[bot]", "type": "Bot"}}, "sent by a bot"),
     ({"action": "closed"}, "issues.closed is not handled")],
    ids=["a-bots-delivery", "an-unhandled-action"],
)
def test_what_the_webhook_ignores_is_ignored(world, app_env, lost, tmp_path, capsys, change, reason):
    page = recent_deliveries_page(lost)
    page["payload"] = {**page["payload"], **change}
    assert main(["replay", save(tmp_path, page)], app_env) == 0
    assert reason in capsys.readouterr().out
    assert world.sandbox.requests() == []  # GitHub was not even asked


def test_a_delivery_about_no_application_does_nothing(world, app_env, tmp_path, capsys):
    delivery = world.sandbox.open_issue(FUND_REPO, "someone", "Question", "How do I apply?")
    world.deliver(delivery, lose=True)
    world.sandbox.clear_log()
    assert main(["replay", save(tmp_path, recent_deliveries_page(delivery))], app_env) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert world.sandbox.request_counts().writes == 0


GOOD_HEADERS = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1"}


@pytest.mark.parametrize(
    "content, extra_args, problem",
    [
        ("{not json", [], "not JSON"),
        ("[1, 2]", [], "not a JSON object"),
        ('{"action": "opened"}', [], "give the event's name with --event"),
        ('{"headers": ["X-GitHub-Event: issues"], "payload": {}}', [], "`headers` is not an object"),
        ('{"headers": {"X-GitHub-Delivery": "d-1"}, "payload": {}}', [], "`headers` lack X-GitHub-Event"),
        ('{"headers": {"X-GitHub-Event": "issues"}, "payload": {}}', [], "`headers` lack X-GitHub-Delivery"),
        (json.dumps({"headers": GOOD_HEADERS, "payload": "{oops"}), [], "`payload` is not valid JSON"),
        (json.dumps({"headers": GOOD_HEADERS, "payload": 7}), [], "`payload` must be the delivery's JSON object"),
        (json.dumps({"headers": GOOD_HEADERS, "payload": {}}), ["--event", "push"],
         "X-GitHub-Event is 'issues', but --event says 'push'"),
    ],
    ids=["not-json", "not-an-object", "bare-payload-without-event", "headers-not-a-mapping", "no-event-header",
         "no-delivery-header", "payload-text-not-json", "payload-not-an-object", "event-disagrees"],
)
def test_a_bad_file_exits_2_saying_what_is_wrong(tmp_path, capsys, content, extra_args, problem):
    path = tmp_path / "delivery.json"
    path.write_text(content)
    assert main(["replay", str(path), *extra_args], {}) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fundbot: {path}: ") and problem in err and err.count("\n") == 1


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nowhere.json")], {}) == 2
    assert "cannot read" in capsys.readouterr().err


def test_replay_needs_the_apps_settings(tmp_path, capsys):
    file = save(tmp_path, {"headers": GOOD_HEADERS, "payload": {"action": "opened"}})
    assert main(["replay", file], {}) == 2
    assert "GITHUB_TOKEN is missing" in capsys.readouterr().err
