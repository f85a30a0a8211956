"""The web service: `create_app()` is the WSGI application factory (`bot.web.app:create_app()`).

`POST /webhook` verifies, acknowledges within milliseconds (202) and hands the delivery to the
background queue (served as plain WSGI in front of Flask: it is the hot path); `GET /healthz` says
whether this process can take deliveries now (503, with the reason, while the queue's Redis cannot be
reached: a platform routes elsewhere); `GET /livez` only that the process answers (for a platform that
restarts on failure: a restart does not bring Redis back); `GET /dashboard` shows the pipeline
(`bot.views.dashboard`). Settings and rules are read
here, when the factory is called, never at import time, and the factory refuses to build an app
from bad ones.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response
from redis.exceptions import RedisError

from bot.github.app import GitHubApp
from bot.github.webhooks import MAX_BODY_BYTES, Event, WebhookError
from bot.config.funds import FundDirectory
from bot.jobs.context import Context, build_context, connect
from bot.jobs.evidence import in_process_later
from bot.jobs.routes import Ignored, process, triage
from bot.jobs.worker import QUEUE_NAME
from bot.jobs.queue import DeliveryQueue, InProcessQueue, Submitted
from bot.logs import configure_logging
from bot.metrics import LocalQueueCollector, QueueCollector, exposition, observe_delivery
from bot.config.rules import load_rules
from bot.policy.rules import Rules
from bot.config.settings import WEBHOOK_PATH, Need, Settings
from bot.views.dashboard import authorised, dashboard
from bot.web.bodies import BodyReader, BodyTimeout
from bot.web.redis_queue import RedisDeliveryQueue

log = logging.getLogger("fundbot.app")
webhooks = Blueprint("webhooks", __name__)
RETRY_AFTER_FULL = 30  # seconds: the queue drains in well under that at the default size
READY_PATH = "/healthz"  # 503 while deliveries cannot be taken: what a platform routes by
LIVE_PATH = "/livez"  # 200 while the process answers: what a platform restarts by


class Readiness:
    """Whether this process can take deliveries: with the Redis queue, whether Redis answers a PING —
    asked at most every `interval` seconds, however often `/healthz` is called (a flood of health checks
    costs Redis one PING a second per process). A change either way is logged once."""

    def __init__(self, redis: Any = None, *, interval: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked = -float("inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        """Why deliveries cannot be taken now, or None."""
        if self._redis is None:
            return None
        with self._lock:
            if self._monotonic() - self._checked < self._interval:
                return self._problem
            self._checked = self._monotonic()
            problem = detail = None
            try:
                self._redis.ping()
            except RedisError as err:
                # Said without its address: /healthz is public, the URL's host is the operator's business.
                problem = f"the queue's Redis cannot be reached ({type(err).__name__})"
                detail = f"{type(err).__name__}: {str(err)[:200]}"
            if problem != self._problem:
                if problem:
                    log.warning("the queue's Redis cannot be reached: /healthz answers 503 until it can",
                                extra={"reason": detail, "outcome": "unavailable"})
                else:
                    log.warning("the queue's Redis answers again: /healthz answers 200", extra={"outcome": "ready"})
            self._problem = problem
            return problem


@dataclass
class Runtime:
    settings: Settings
    rules: Rules
    context: Context
    queue: DeliveryQueue
    refusals: "RefusalLog"
    bodies: BodyReader
    directory: FundDirectory  # the funds, for the dashboard
    readiness: Readiness


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
                                                       "delivery": delivery, "outcome": "refused"})


def _safe_id(value: str | None) -> str:
    # Header values are attacker-controlled: keep log lines to one short, plain token.
    return re.sub(r"[^A-Za-z0-9-]", "", value or "")[:64] or "-"


def _json(code: int, **body: Any) -> Response:
    return Response(json.dumps(body), status=code, mimetype="application/json")


_REASONS = {202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed",
            408: "Request Timeout", 413: "Payload Too Large", 503: "Service Unavailable"}


def receive(runtime: Runtime, environ: Mapping[str, Any]) -> tuple[int, dict[str, str], dict[str, str]]:
    """`POST /webhook`: verify, acknowledge, queue. Returns (status, JSON body, extra headers).

    Served as plain WSGI in front of Flask (see `WebhookEndpoint`): this is the hot path, and
    Flask's request machinery would cost more than everything done here."""
    delivery = _safe_id(environ.get("HTTP_X_GITHUB_DELIVERY"))
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        observe_delivery(None, None, "refused", verified=False)
        return 400, {"error": "bad Content-Length"}, {}
    if length > MAX_BODY_BYTES:
        return _refused(runtime, 413, "payload larger than 25 MB", delivery, {})
    # Without a Content-Length (chunked), read at most one byte past the limit; a body that does not
    # arrive within the deadline frees its thread (slow clients cannot hold the service: SPEC §11).
    try:
        body = runtime.bodies.read(environ, length, MAX_BODY_BYTES)
    except BodyTimeout:
        return _refused(runtime, 408, "the body did not arrive in time", delivery, {"Connection": "close"})
    headers = {
        "X-Hub-Signature-256": environ.get("HTTP_X_HUB_SIGNATURE_256", ""),
        "X-GitHub-Event": environ.get("HTTP_X_GITHUB_EVENT", ""),
        "X-GitHub-Delivery": environ.get("HTTP_X_GITHUB_DELIVERY", ""),
        "Content-Type": environ.get("CONTENT_TYPE", ""),
    }
    try:
        event = Event.from_http(headers, body, runtime.settings.webhook_secrets)
    except WebhookError as err:
        return _refused(runtime, err.status, err.reason, delivery, {})
    matched = triage(event)  # routed once, here: the worker runs the handler it is given
    if isinstance(matched, Ignored):
        observe_delivery(event.name, event.action, "ignored")
        return 202, {"status": "ignored", "reason": matched.reason}, {}
    submitted = runtime.queue.submit(event, matched.handler, body=body)
    if submitted is Submitted.DUPLICATE:
        observe_delivery(event.name, event.action, "duplicate")
        return 202, {"status": "duplicate", "reason": "this delivery id was already received"}, {}
    if submitted in (Submitted.FULL, Submitted.CLOSED, Submitted.UNAVAILABLE):
        observe_delivery(event.name, event.action, "failed")
        log.warning("delivery not queued", extra=event.log_context(delivery=delivery, outcome="refused",
                                                                   reason=submitted.value))
        error = {Submitted.FULL: "busy", Submitted.CLOSED: "shutting down"}.get(submitted, "queue unavailable")
        return 503, {"error": error}, {"Retry-After": str(RETRY_AFTER_FULL)}
    return 202, {"status": "queued"}, {}


def _refused(runtime: Runtime, status: int, reason: str, delivery: str, headers: dict[str, str]
             ) -> tuple[int, dict[str, str], dict[str, str]]:
    """Refuse a delivery before its signature is verified: logged (in bulk), counted as `unverified`."""
    runtime.refusals.refused(status, reason, delivery)
    observe_delivery(None, None, "refused", verified=False)
    return status, {"error": reason}, headers


class WebhookEndpoint:
    """WSGI middleware: `POST /webhook` is answered by `receive`; everything else goes to Flask."""

    def __init__(self, flask_wsgi: Any, runtime: Runtime) -> None:
        self.flask_wsgi = flask_wsgi
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != WEBHOOK_PATH:
            return self.flask_wsgi(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            observe_delivery(None, None, "refused", verified=False)
            code, body, extra = 405, {"error": "use POST"}, {"Allow": "POST"}
        else:
            code, body, extra = receive(self.runtime, environ)
        payload = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        start_response(f"{code} {_REASONS.get(code, 'OK')}", headers + list(extra.items()))
        return [payload]


@webhooks.get(READY_PATH)
def healthz() -> Any:
    """Ready for deliveries: 200, or 503 with the reason (a platform's routing check, SPEC §8)."""
    from flask import current_app

    runtime: Runtime = current_app.extensions["fundbot"]
    problem = runtime.readiness.problem()
    if problem:
        return _json(503, status="unavailable", reason=problem)
    return _json(200, status="ok")


@webhooks.get(LIVE_PATH)
def livez() -> Any:
    """The process answers: 200 (a platform's restart check; it says nothing of Redis or GitHub)."""
    return _json(200, status="ok")


@webhooks.get("/metrics")
def metrics() -> Any:
    """Prometheus's text format (`bot.metrics`); with FUNDBOT_METRICS_TOKEN set, only for
    `Authorization: Bearer <token>` (compared in constant time)."""
    from flask import current_app, request

    runtime: Runtime = current_app.extensions["fundbot"]
    if not authorised(runtime.settings.metrics_token, request.headers.get("Authorization"), None):  # no ?token=
        return Response("a token is needed: Authorization: Bearer <FUNDBOT_METRICS_TOKEN>\n", status=401,
                        mimetype="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    queue = runtime.queue
    extra = [QueueCollector(queue.redis, QUEUE_NAME)] if isinstance(queue, RedisDeliveryQueue) else \
        [LocalQueueCollector(queue.depth)] if isinstance(queue, InProcessQueue) else []
    body, content_type = exposition(extra)
    return Response(body, status=200, content_type=content_type, headers={"Cache-Control": "no-store"})


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service. `test_config` may give `ENVIRON` (instead of `os.environ`), or ready
    `SETTINGS`, `RULES`, `GITHUB`, `QUEUE`, `CLOCK` objects. Raises `SettingsError` or `RulesError`."""
    config = dict(test_config or {})
    environ = config.get("ENVIRON", os.environ)
    settings: Settings = config.get("SETTINGS") or Settings.from_env(environ, Need.server())
    configure_logging(settings.log_level, settings.log_format)
    rules = config.get("RULES") or load_rules(settings.rules_dir, settings.templates_dir)
    github = config.get("GITHUB") or GitHubApp(settings)
    context = build_context(settings, rules, github=github, clock=config.get("CLOCK"))
    queue = config.get("QUEUE")
    if queue is None and settings.redis_url:
        # The lean web tier: verify, deduplicate in Redis, enqueue; `fundbot worker` does the rest.
        queue = RedisDeliveryQueue(connect(settings.redis_url))
    if queue is None:
        queue = InProcessQueue(functools.partial(process, context), maxsize=settings.queue_size,
                               workers=settings.workers)
    if isinstance(queue, InProcessQueue):
        context.later = in_process_later(queue, context)  # evidence packs, behind the deliveries waiting
    app = Flask(__name__)
    assert context.funds is not None
    directory = FundDirectory(context.github, context.funds, ttl=settings.dashboard_ttl)
    readiness = Readiness(queue.redis if isinstance(queue, RedisDeliveryQueue) else None)
    runtime = Runtime(settings, rules, context, queue, RefusalLog(), BodyReader(settings.body_timeout), directory,
                      readiness)
    app.extensions["fundbot"] = runtime
    app.register_blueprint(webhooks)
    app.register_blueprint(dashboard)
    app.wsgi_app = WebhookEndpoint(app.wsgi_app, runtime)  # type: ignore[method-assign]
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
            extra=event.log_context(outcome="unprocessed"),
        )
    return left
