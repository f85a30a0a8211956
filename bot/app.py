"""The web service: `create_app()` is the WSGI application factory (`bot.app:create_app()`).

`POST /webhook` verifies, acknowledges within milliseconds (202) and hands the delivery to the
background queue; `GET /healthz` answers 200. Settings and rules are read here, when the factory
is called, never at import time, and the factory refuses to build an app from bad ones.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from bot.gateway import GitHubApp
from bot.handlers import ROUTES, Context, process
from bot.logs import configure_logging
from bot.rules import Rules, load_rules
from bot.settings import Need, Settings
from bot.webhooks import MAX_BODY_BYTES, Event, WebhookError, route
from bot.workqueue import DeliveryQueue, InProcessQueue, Submitted

log = logging.getLogger("fundbot.app")
webhooks = Blueprint("webhooks", __name__)
RETRY_AFTER_FULL = 30  # seconds: the queue drains in well under that at the default size


@dataclass
class Runtime:
    settings: Settings
    rules: Rules
    context: Context
    queue: DeliveryQueue
    refusals: "RefusalLog"


class RefusalLog:
    """Logs refused deliveries without letting a flood of them flood the log.

    The first refusal of each kind is logged at once; later ones are counted and summed up at
    most every `interval` seconds. Nothing of the body is ever logged, and memory stays constant.
    """

    def __init__(self, interval: float = 10.0) -> None:
        self._interval = interval
        self._counts: dict[tuple[int, str], int] = {}
        self._last = 0.0
        self._lock = threading.Lock()

    def refused(self, status: int, reason: str, delivery: str) -> None:
        now = time.monotonic()
        with self._lock:
            key = (status, reason)
            first = key not in self._counts
            self._counts[key] = self._counts.get(key, 0) + 1
            due = now - self._last >= self._interval
            summary = dict(self._counts) if due else None
            if due:
                self._counts.clear()
                self._last = now
        if first or summary:
            for (code, why), count in (summary or {key: 1}).items():
                log.warning("delivery refused", extra={"status": code, "reason": f"{why} (x{count})",
                                                       "delivery": delivery})


def _safe_id(value: str | None) -> str:
    # Header values are attacker-controlled: keep log lines to one short, plain token.
    return re.sub(r"[^A-Za-z0-9-]", "", value or "")[:64] or "-"


def _runtime() -> Runtime:
    return current_app.extensions["fundbot"]


def _answer(code: int, **body: Any) -> Any:
    response = jsonify(body)
    response.status_code = code
    return response


@webhooks.post("/webhook")
def receive() -> Any:
    runtime = _runtime()
    delivery = _safe_id(request.headers.get("X-GitHub-Delivery"))
    if (request.content_length or 0) > MAX_BODY_BYTES:
        runtime.refusals.refused(413, "payload larger than 25 MB", delivery)
        return _answer(413, error="payload larger than 25 MB")
    body = request.get_data(cache=False)
    secret = runtime.settings.webhook_secret or b""
    try:
        event = Event.from_http(request.headers, body, secret)
    except WebhookError as err:
        runtime.refusals.refused(err.status, err.reason, delivery)
        return _answer(err.status, error=err.reason)
    if event.sender_is_bot:
        return _answer(202, status="ignored", reason="sent by a bot")
    if route(ROUTES, event) is None:
        return _answer(202, status="ignored", reason=f"{event.name}.{event.action or '-'} is not handled")
    submitted = runtime.queue.submit(event)
    if submitted is Submitted.DUPLICATE:
        return _answer(202, status="duplicate", reason="this delivery id was already received")
    if submitted in (Submitted.FULL, Submitted.CLOSED):
        response = _answer(503, error="busy" if submitted is Submitted.FULL else "shutting down")
        response.headers["Retry-After"] = str(RETRY_AFTER_FULL)
        log.warning("delivery not queued", extra={"delivery": delivery, "reason": submitted.value})
        return response
    return _answer(202, status="queued")


@webhooks.get("/healthz")
def healthz() -> Any:
    return _answer(200, status="ok")


@webhooks.app_errorhandler(RequestEntityTooLarge)
def too_large(err: RequestEntityTooLarge) -> Any:
    _runtime().refusals.refused(413, "payload larger than 25 MB", _safe_id(request.headers.get("X-GitHub-Delivery")))
    return _answer(413, error="payload larger than 25 MB")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service. `test_config` may give `ENVIRON` (instead of `os.environ`), or ready
    `SETTINGS`, `RULES`, `GITHUB`, `QUEUE`, `CLOCK` objects. Raises `SettingsError` or `RulesError`."""
    config = dict(test_config or {})
    environ = config.get("ENVIRON", os.environ)
    settings: Settings = config.get("SETTINGS") or Settings.from_env(environ, Need.server())
    configure_logging(settings.log_level)
    rules = config.get("RULES") or load_rules(settings.rules_dir, settings.templates_dir)
    github = config.get("GITHUB") or GitHubApp(settings)
    clock = config.get("CLOCK") or (lambda: dt.datetime.now(dt.timezone.utc))
    context = Context(rules=rules, github=github, clock=clock)
    queue = config.get("QUEUE") or InProcessQueue(
        functools.partial(process, context), maxsize=settings.queue_size, workers=settings.workers
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["fundbot"] = Runtime(settings, rules, context, queue, RefusalLog())
    app.register_blueprint(webhooks)
    for blueprint in config.get("BLUEPRINTS", ()):
        app.register_blueprint(blueprint)
    return app


def shutdown(app: Flask, timeout: float = 25.0) -> list[Event]:
    """Finish what is running within `timeout`; log and hand back the deliveries not processed."""
    runtime: Runtime = app.extensions["fundbot"]
    left = runtime.queue.close(timeout)
    for event in left:
        log.warning(
            "delivery not processed before shutdown: redeliver it from the App's settings, or the sweep repairs it",
            extra={"delivery": event.delivery_id, "event": event.name, "action": event.action},
        )
    return left
