"""Gunicorn settings for `web` in the Procfile (and `fundbot serve`).

One worker process with a few threads by default: a delivery is acknowledged in a fraction of a
millisecond of work, so threads mostly wait on the socket and more of them only lengthen the tail
(README, "Figures"). With WEB_CONCURRENCY > 1 the processes share the delivery ids already taken
and the per-issue locks through FUNDBOT_STATE_DIR (a fresh temporary folder when it is not set).
"""
import os
import sys
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
if workers > 1 and not os.environ.get("FUNDBOT_STATE_DIR"):
    # Set in the master before the workers fork, so they all see the same folder.
    os.environ["FUNDBOT_STATE_DIR"] = tempfile.mkdtemp(prefix="fundbot-state-")
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat file off the disk
# SIGTERM: the delivery queue gets half of this to finish (see worker_exit); Heroku allows 30 s.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
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
    from bot.web.app import shutdown

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions") and "fundbot" in app.extensions:
        # Half the grace period: it counts from SIGTERM, and the worker takes a moment to stop serving
        # before this hook runs; what is left must be logged before the master's SIGKILL.
        shutdown(app, timeout=graceful_timeout / 2)
