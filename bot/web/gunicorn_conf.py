"""Gunicorn settings for `web` in the Procfile (and `fundbot serve`).

One worker process by default; WEB_CONCURRENCY > 1 needs FUNDBOT_REDIS_URL (the processes then
share delivery ids, locks and the queue through Redis; `fundbot` refuses to start otherwise).
"""
import os
import sys
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
# Several processes answer /metrics in turn: each must report all of them (prometheus-client's
# multi-process mode). Set before any worker imports prometheus-client; a folder of our own, fresh,
# unless the operator shares one with the workers and the clock of this machine (README, Metrics).
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fundbot-metrics-")
worker_class = "gthread"
# Threads mostly wait: on a socket, or on a body that is slow to arrive (cut off after
# FUNDBOT_BODY_TIMEOUT). Enough of them that a handful of slow clients cannot hold up /healthz.
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat file off the disk
# SIGTERM: the delivery queue gets half of this to finish (see worker_exit); Heroku allows 30 s.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # off by default: the app logs what matters


def on_starting(server):
    """Refuse to start, in one line per problem, on bad settings or rules (before any worker boots); then
    log which repositories the App is installed on that this deployment ignores, and why (in the master,
    before it forks: no thread of its own is left running)."""
    from bot.config.settings import Settings
    from bot.config.startup import log_ignored, startup_problem
    from bot.logs import configure_logging

    problem = startup_problem(os.environ)
    if problem:
        print(f"fundbot: {problem}", file=sys.stderr)
        sys.exit(1)
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    log_ignored(os.environ)


def child_exit(server, worker):
    """A web process has ended: prometheus-client drops its live gauges (multi-process mode)."""
    from bot.metrics import process_exited

    process_exited(worker.pid)


def worker_exit(server, worker):
    """On SIGTERM: let the queue finish, and log what it hands back (the sweep repairs it)."""
    from bot.web.app import shutdown

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions") and "fundbot" in app.extensions:
        # Half the grace period: it counts from SIGTERM, and the worker takes a moment to stop serving
        # before this hook runs; what is left must be logged before the master's SIGKILL.
        shutdown(app, timeout=graceful_timeout / 2)

