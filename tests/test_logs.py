"""Log lines (SPEC §16): `FUNDBOT_LOG_FORMAT=json` makes each line one JSON object carrying the
delivery's context; in either format no line ever holds a webhook secret (the current or the
previous one), the App's key or a token."""
from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from sandbox_fixtures import APP_ID
from pipeline_world import filed

from bot.demo.world import FUND_REPO, INSTALLATION_ID, WEBHOOK_SECRET, World
from bot.logs import JsonFormatter, KeyValueFormatter, LogFormat, configure_logging
from bot.sandbox import Delivery
from bot.web.app import create_app


@pytest.fixture
def fundbot_logger() -> Iterator[logging.Logger]:
    """fundbot's logger without the handler earlier tests installed: the code under test installs its
    own (as a fresh process would), and it is taken away again afterwards."""
    logger = logging.getLogger("fundbot")
    saved, level = list(logger.handlers), logger.level
    for handler in saved:
        logger.removeHandler(handler)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in saved:
        logger.addHandler(handler)
    logger.setLevel(level)


def installed_handler(logger: logging.Logger) -> logging.StreamHandler:
    handlers = [h for h in logger.handlers if getattr(h, "_fundbot", False)]
    assert len(handlers) == 1, "configure_logging installs exactly one handler"
    return handlers[0]


def capture(logger: logging.Logger) -> io.StringIO:
    """Point the handler the service installed at a buffer: what it writes is what stderr would get."""
    buffer = io.StringIO()
    installed_handler(logger).setStream(buffer)
    return buffer


PREVIOUS_SECRET = "the-webhook-secret-before-the-rotation"


def make_world(sandbox, sandbox_server, app_key, log_format: LogFormat) -> World:
    world = World(sandbox, sandbox_server.url, APP_ID, app_key,
                  settings={"log_format": log_format, "webhook_secret_previous": PREVIOUS_SECRET.encode()})
    world.add_applicant_repo("tiny-org/tiny-inference")
    return world


def open_application(world: World) -> Delivery:
    delivery = filed(world.sandbox)
    assert world.deliver(delivery).status == 202
    return delivery


def log_of_an_application(sandbox, sandbox_server, app_key, logger: logging.Logger,
                          log_format: LogFormat) -> tuple[Delivery, str]:
    """An application filed on a service that logs in `log_format`: its delivery, and what was logged."""
    world = make_world(sandbox, sandbox_server, app_key, log_format)
    try:
        buffer = capture(logger)
        delivery = open_application(world)
    finally:
        world.close()
    return delivery, buffer.getvalue()


def test_a_delivery_through_the_pipeline_logs_json_lines_with_its_context(sandbox, sandbox_server, app_key,
                                                                          fundbot_logger):
    delivery, logged = log_of_an_application(sandbox, sandbox_server, app_key, fundbot_logger, LogFormat.JSON)
    lines = logged.splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert all(r["delivery"] == delivery.id for r in records)
    processed = next(r for r in records if r["message"] == "delivery processed")
    assert processed["installation"] == INSTALLATION_ID and processed["repo"] == FUND_REPO
    assert processed["issue"] == 1 and processed["event"] == "issues" and processed["outcome"] == "changed"


def test_the_text_format_carries_the_same_context(sandbox, sandbox_server, app_key, fundbot_logger):
    delivery, logged = log_of_an_application(sandbox, sandbox_server, app_key, fundbot_logger, LogFormat.TEXT)
    processed = next(line for line in logged.splitlines() if " delivery processed " in line)
    for pair in (f"delivery={delivery.id}", f"installation={INSTALLATION_ID}", f"repo={FUND_REPO}", "issue=1",
                 "outcome=changed"):
        assert pair in processed


def test_the_format_comes_from_the_environment(app_key, fundbot_logger):
    env = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": app_key, "GITHUB_WEBHOOK_SECRET": "s",
           "FUNDBOT_LOG_FORMAT": "json"}
    create_app({"ENVIRON": env})
    assert isinstance(installed_handler(fundbot_logger).formatter, JsonFormatter)
    configure_logging("INFO")  # called again (another factory call): one handler, the format it is given
    assert isinstance(installed_handler(fundbot_logger).formatter, KeyValueFormatter)


def test_an_exception_is_a_string_field_of_its_one_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.LogRecord("fundbot.queue", logging.ERROR, __file__, 1, "delivery failed", None,
                                   sys.exc_info())
    record.delivery = "d-1"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["delivery"] == "d-1" and parsed["level"] == "ERROR"
    assert parsed["exception"].startswith("Traceback") and "ValueError: boom" in parsed["exception"]


@pytest.mark.parametrize("log_format", list(LogFormat), ids=lambda f: f.value)
def test_no_secret_reaches_the_log(sandbox, sandbox_server, app_key, fundbot_logger, log_format):
    world = make_world(sandbox, sandbox_server, app_key, log_format)
    try:
        buffer = capture(fundbot_logger)
        fundbot_logger.setLevel(logging.DEBUG)  # everything the service can say
        delivery = open_application(world)
        world.deliver(world.sandbox.comment(FUND_REPO, 1, "rita", "/score 4 solid plan"))
        # A refused write (its error message is logged) and a badly signed delivery (refused, logged).
        world.sandbox.refuse("POST", f"/repos/{FUND_REPO}/issues/1/comments", 422, "Body is invalid")
        world.deliver(world.sandbox.comment(FUND_REPO, 1, "rita", "/score 5"))
        body = b'{"action": "opened"}'
        answer = world.client.post("/webhook", data=body, headers={
            "X-GitHub-Event": "issues", "X-GitHub-Delivery": "forged", "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert answer.status_code == 401
        # A delivery signed with the previous secret, accepted while a new one is rolled out.
        edit = world.sandbox.comment(FUND_REPO, 1, "applicant", "Thanks!")
        headers = {**edit.headers(PREVIOUS_SECRET), "X-GitHub-Delivery": "signed-with-the-previous-secret"}
        assert world.client.post("/webhook", data=edit.body(), headers=headers).status_code == 202
        assert world.runtime.queue.join(30)
        world.sweep()
    finally:
        world.close()
    logged = buffer.getvalue()
    for seen in (delivery.id, "delivery refused", "signed-with-the-previous-secret"):  # the capture saw the run
        assert seen in logged
    tokens = world.sandbox.issued_tokens()
    assert tokens, "the run used an installation token"
    key_body = [line for line in app_key.splitlines() if line and not line.startswith("-----")]
    secrets = [WEBHOOK_SECRET, PREVIOUS_SECRET, *key_body, *tokens]
    assert [s for s in secrets if s in logged] == []
