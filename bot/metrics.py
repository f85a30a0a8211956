"""Prometheus metrics (SPEC §16), with prometheus-client: what `GET /metrics` serves.

Every process records into prometheus-client's registry: the web tier (deliveries taken, ignored,
refused), whatever processes deliveries (the web process's threads, or `fundbot worker`), every
request to GitHub, and the sweeps. With `PROMETHEUS_MULTIPROC_DIR` set, prometheus-client keeps the
values in files in that folder, one set per process, and `/metrics` adds up every process that
shares the folder — several gunicorn processes (`bot/web/gunicorn_conf.py` makes a folder of its own
for them when none is given), and the workers and the clock on the same machine. Queue depth and
failed jobs are not counted by anyone: they are read from RQ when the page is scraped.

No label takes unbounded values: events and actions are GitHub's names (a delivery that fails its
signature is `unverified`, whatever it claims), GitHub paths are reduced to their endpoint's
template (`/repos/{owner}/{repo}/issues/{issue_number}`), and installations are ids (as many as the
App has installations) — never a login, a repository or an issue number.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, \
    generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger("fundbot.metrics")

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client reads the folder from the environment when it is imported, and writes there as
# soon as a metric is made: the one setting read at import time, because the library does.
if os.environ.get(MULTIPROC_DIR):
    os.makedirs(os.environ[MULTIPROC_DIR], exist_ok=True)
OUTCOMES = ("processed", "ignored", "duplicate", "refused", "failed")

DELIVERIES = Counter(
    "fundbot_deliveries", "Webhook deliveries by event, action and outcome: processed (handled), ignored (nothing to "
    "do: a bot's, an event not handled, not a fund), duplicate (a delivery id seen before), refused (bad signature or "
    "body, answered 4xx), failed (not taken: 503; or processing failed for good).", ["event", "action", "outcome"])
PROCESSING = Histogram(
    "fundbot_delivery_processing_seconds", "Time to process one delivery (lock, gather, decide, apply), by event.",
    ["event"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180))
GITHUB_REQUESTS = Counter(
    "fundbot_github_requests", "Requests sent to GitHub, by method, endpoint template and status (304: answered from "
    "the ETag cache, free against the rate limit; `error`: no answer).", ["method", "endpoint", "status"])
RATE_LIMIT_REMAINING = Gauge(
    "fundbot_github_rate_limit_remaining", "Requests left in GitHub's primary rate limit, as last reported, by "
    "installation id (`app` for the App's own JWT requests, `token` or `anonymous` for the CLI's).",
    ["installation"], multiprocess_mode="mostrecent")
SWEEPS = Counter("fundbot_sweeps", "Sweeps of a fund, by result: ok, or failures (some application or step failed).",
                 ["result"])
SWEEP_APPLICATIONS = Counter("fundbot_sweep_applications", "Applications the sweeps went through.")
SWEEP_CHANGES = Counter("fundbot_sweep_changes", "Writes the sweeps made (repairs, reminders, labels).")
SWEEP_FAILURES = Counter("fundbot_sweep_failures", "Failures the sweeps met (each application or step once).")
SWEEP_LAST_SUCCESS = Gauge("fundbot_sweep_last_success_timestamp_seconds",
                           "When a sweep last finished without a failure (Unix time).", multiprocess_mode="max")

_NAME = re.compile(r"[a-z_]{1,50}")


def observe_delivery(event: str | None, action: str | None, outcome: str, *, verified: bool = True) -> None:
    """Count one delivery's outcome. A delivery whose signature was not verified is `unverified`: its
    headers are anyone's to write."""
    assert outcome in OUTCOMES, outcome
    DELIVERIES.labels(_name(event) if verified else "unverified", (_name(action) if action else "-")
                      if verified else "unverified", outcome).inc()


def _name(value: str | None) -> str:
    return value if value and _NAME.fullmatch(value) else "other"


def processing(event: str | None) -> Any:
    """A context manager timing one delivery's processing."""
    return PROCESSING.labels(_name(event)).time()


def observe_github(method: str, url: str, status: int | None, scope: str, rate_remaining: str | None) -> None:
    """Count one request to GitHub (each try, retries included) and keep the rate limit it reported."""
    GITHUB_REQUESTS.labels(method, endpoint_template(url), str(status) if status is not None else "error").inc()
    if rate_remaining is not None and rate_remaining.isdigit():
        RATE_LIMIT_REMAINING.labels(_installation(scope)).set(int(rate_remaining))


def _installation(scope: str) -> str:
    kind, _, ident = scope.partition(":")
    return ident if kind == "installation" and ident.isdigit() else kind if kind in ("app", "token", "anonymous") \
        else "other"


def observe_sweep(applications: int, changes: int, failures: int, now: float) -> None:
    SWEEPS.labels("ok" if not failures else "failures").inc()
    SWEEP_APPLICATIONS.inc(applications)
    SWEEP_CHANGES.inc(changes)
    SWEEP_FAILURES.inc(failures)
    if not failures:
        SWEEP_LAST_SUCCESS.set(now)


# The endpoints the gateway calls (each method's `:calls:`; tests/test_metrics.py keeps them so).
ENDPOINTS = (
    "/app",
    "/app/installations",
    "/app/installations/{installation_id}/access_tokens",
    "/user",
    "/installation/repositories",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/installation",
    "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/contributors",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/issues/{issue_number}",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/labels/{name}",
    "/repos/{owner}/{repo}/assignees/{assignee}",
    "/repos/{owner}/{repo}/collaborators",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    "/orgs/{org}/public_members/{username}",
    "/orgs/{org}/members/{username}",
    "/orgs/{org}/teams/{team_slug}",
    "/graphql",
)
_NUMERIC = {"installation_id", "comment_id", "issue_number"}


def _pattern(template: str) -> re.Pattern[str]:
    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        return r"\d+" if name in _NUMERIC else ".+" if name == "path" else "[^/]+"

    return re.compile(re.sub(r"\\\{(\w+)\\\}", part, re.escape(template)))


_PATTERNS = tuple((_pattern(t), t) for t in ENDPOINTS)
_API_PREFIX = re.compile(r"^(?:https?://[^/]+)?(?:/api/v3|/api(?=/graphql))?")  # GHES: /api/v3, /api/graphql
_BY_ID = re.compile(r"^/repositories/\d+")  # GitHub's `Link: rel="next"` names a repository by id


def endpoint_template(url: str) -> str:
    """The endpoint a request's URL or path belongs to, as GitHub's docs write it; `other` if none."""
    path = _API_PREFIX.sub("", url.split("?", 1)[0].split("#", 1)[0], count=1)
    path = _BY_ID.sub("/repos/{owner}/{repo}", path, count=1).rstrip("/") or "/"
    if path.startswith("/repos/{owner}/{repo}"):
        path = "/repos/o/r" + path[len("/repos/{owner}/{repo}"):]
    return next((template for pattern, template in _PATTERNS if pattern.fullmatch(path)), "other")


# --- the page -------------------------------------------------------------------------------------


class QueueCollector:
    """Queue depth, jobs running and failed jobs, read from RQ when scraped (never counted by anyone)."""

    def __init__(self, redis: Any, queue_name: str) -> None:
        self._redis = redis
        self._queue_name = queue_name

    def collect(self) -> Iterator[Metric]:
        from redis.exceptions import RedisError
        from rq import Queue
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        up = GaugeMetricFamily("fundbot_redis_up", "1 when Redis answered this scrape, else 0.")
        try:
            queue = Queue(self._queue_name, connection=self._redis)
            figures = (queue.count, StartedJobRegistry(queue=queue).count, FailedJobRegistry(queue=queue).count)
        except RedisError as err:
            log.warning("metrics: Redis did not answer", extra={"reason": type(err).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for (name, doc), value in zip((
                ("fundbot_queue_depth", "Jobs waiting in the queue (deliveries and sweeps)."),
                ("fundbot_queue_running_jobs", "Jobs a worker is running."),
                ("fundbot_queue_failed_jobs", "Jobs in RQ's failed registry (failed for good; kept 7 days)."),
        ), figures, strict=True):
            yield GaugeMetricFamily(name, doc, value=value)


class LocalQueueCollector:
    """The in-process queue's depth (one web process, no Redis)."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self._depth = depth

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("fundbot_queue_depth", "Deliveries waiting in the web process's queue.",
                                value=self._depth())


class _ThisProcess:
    """This process's own metrics (without multi-process mode)."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def exposition(extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The page: every process sharing PROMETHEUS_MULTIPROC_DIR (or this one), and `extra` collectors."""
    registry = CollectorRegistry()
    folder = os.environ.get(MULTIPROC_DIR)
    if folder:
        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """A process sharing the folder has ended: its live gauges go (gunicorn's `child_exit`)."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(pid)
