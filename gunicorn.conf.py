"""Gunicorn settings for `web` in the Procfile (and `fundbot serve`).

One worker process with threads: the delivery queue, its deduplication by delivery id and the
conditional-request cache live in that process. Raise WEB_CONCURRENCY only with a shared queue.
"""
import os
import sys

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
keepalive = 5
graceful_timeout = 30  # SIGTERM: the delivery queue gets this long to finish (see worker_exit)
timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # off by default: the app logs what matters


def on_starting(server):
    """Refuse to start, in one line, on bad settings or rules (before any worker boots)."""
    from bot.cli import startup_problem

    problem = startup_problem(os.environ)
    if problem:
        print(f"fundbot: {problem}", file=sys.stderr)
        sys.exit(1)


def worker_exit(server, worker):
    """On SIGTERM: let the queue finish, and log what it hands back (the sweep repairs it)."""
    from bot.app import shutdown

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions") and "fundbot" in app.extensions:
        shutdown(app, timeout=graceful_timeout - 5)
