"""The CLI's commands that run a deployment: the web service, the clock, a worker, a saved delivery
replayed, and the App registered (`fundbot setup`)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from bot.cli.common import context_for, fail, fund_settings, redis_for, rules_for, settings_for
from bot.config.settings import REPO_NAME, Need
from bot.policy.wording import english


def cmd_serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The Procfile's `web`: gunicorn with the package's settings (bot/web/gunicorn_conf.py), bound to
    $HOST:$PORT (0.0.0.0:8000 unless set), as a deployment runs it; --host/--port set them."""
    from bot.config.startup import startup_problem

    env = dict(environ)
    if args.host:
        env["HOST"] = args.host
    if args.port:
        env["PORT"] = str(args.port)
    problem = startup_problem(env)
    if problem:
        return fail(problem)
    # This interpreter's gunicorn: a venv's `fundbot` works without the venv on PATH.
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:bot.web.gunicorn_conf", "bot.app:create_app()"]
    os.execve(argv[0], argv, env)
    return 0  # not reached


def cmd_clock(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Sweep every fund every FUNDBOT_SWEEP_INTERVAL seconds until SIGTERM (the Procfile's `clock`,
    `bot.jobs.clock`)."""
    from bot.jobs.clock import run_clock
    from bot.logs import configure_logging

    settings = fund_settings(environ, "sweep")
    rules = rules_for(settings)
    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ctx = context_for(settings, rules)
    redis = redis_for(settings) if settings.redis_url else None
    run_clock(ctx, settings, stop, redis)
    return 0


def cmd_worker(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run deliveries and sweeps from Redis until SIGTERM (the Procfile's `worker`)."""
    from bot.jobs.context import build_context
    from bot.jobs.worker import run_worker
    from bot.logs import configure_logging

    settings = settings_for(environ, Need.APP | Need.REDIS)
    rules = rules_for(settings)
    configure_logging(settings.log_level, settings.log_format)
    redis = redis_for(settings)
    try:
        run_worker(build_context(settings, rules, redis=redis), redis, burst=args.burst)
    finally:
        from bot.metrics import process_exited

        process_exited(os.getpid())
    return 0


def cmd_replay(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Feed a saved delivery through the webhook's pipeline, here and now, and print its writes."""
    from bot.github.transport import GitHubError
    from bot.github.webhooks import BadSavedDelivery, saved_delivery
    from bot.jobs.routes import Ignored, process, triage
    from bot.logs import configure_logging

    try:
        event = saved_delivery(Path(args.file).read_bytes(), event=args.event)
    except OSError as err:
        return fail(f"cannot read {args.file}: {err.strerror}")
    except BadSavedDelivery as err:
        return fail(f"{args.file}: {err}")
    settings = settings_for(environ, Need.APP_OR_TOKEN)
    rules = rules_for(settings)
    configure_logging(settings.log_level, settings.log_format)
    name = f"{event.name}.{event.action}" if event.action else event.name
    matched = triage(event)
    if isinstance(matched, Ignored):
        print(f"ignored {name} delivery {event.delivery_id}: {matched.reason} (the webhook ignores it too)")
        return 0
    try:
        applied = process(context_for(settings, rules), event, matched.handler, dry_run=args.dry_run)
    except GitHubError as err:
        return fail(f"could not replay {name} delivery {event.delivery_id}: {err}", 1)
    if applied is None:
        print(f"{name} delivery {event.delivery_id} concerns no application or report the bot acts on: nothing to do")
        return 0
    verb = "would" if args.dry_run else "did"
    for line in applied.lines:
        print(f"{verb}: {english(line)}")
    for failure in applied.failures:
        print(f"GitHub refused {english(failure.what)}: {failure.status} {failure.message}", file=sys.stderr)
    print(f"replayed {name} delivery {event.delivery_id} on {event.repository}: {len(applied.lines)} changes "
          f"({'dry run, nothing written' if args.dry_run else 'written'})")
    return 1 if applied.failures else 0


def cmd_setup(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Register the GitHub App with GitHub's App-manifest flow and write its credentials to an env file."""
    import webbrowser

    from bot.setup import ManifestFlow, SetupError, Target, load_manifest, webhook_url_problem

    settings = settings_for(environ, Need.NOTHING)
    if args.repo and not REPO_NAME.fullmatch(args.repo):
        return fail(f"--repo must be OWNER/NAME, not {args.repo!r}")
    env_file = Path(args.env_file)
    if env_file.exists() and not args.force:
        return fail(f"{env_file} exists: choose another --env-file, or --force to replace it")
    if not env_file.parent.is_dir():
        return fail(f"{env_file.parent} is not a folder: the env file cannot be written there")
    try:
        manifest = load_manifest(Path(args.manifest))
        flow = ManifestFlow(manifest, Target(args.host, args.org, settings.api_url), env_file, force=args.force,
                            port=args.port, webhook_url=args.webhook_url, repo=args.repo)
    except SetupError as err:
        return fail(str(err))
    problem = webhook_url_problem(flow.webhook_url)
    if problem and not args.force_url:
        # GitHub would send every delivery where the service is not: refused before anything is registered.
        return fail(f"{problem} (or --force-url to register it anyway)")
    try:
        url = flow.start()
    except SetupError as err:
        return fail(str(err))
    try:
        print(f"Open {url} in a browser signed in to {args.host}, and create the App there. Waiting for GitHub's "
              f"redirect (Ctrl-C to give up) ...", flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        registered = flow.wait(args.timeout)
    except SetupError as err:
        return fail(str(err), 1)
    except KeyboardInterrupt:
        return fail("given up: nothing was written", 1)
    finally:
        flow.stop()
    print(f"Registered the GitHub App {registered.slug}: {registered.html_url}")
    print(f"Wrote {', '.join(registered.written)} to {registered.env_file} (readable by you only).")
    if "GITHUB_WEBHOOK_SECRET" not in registered.written:
        print("GitHub gave no webhook secret: set one in the App's settings, and in GITHUB_WEBHOOK_SECRET.")
    if problem:
        print(f"The App's webhook URL is {flow.webhook_url}: set the service's own in the App's settings before it "
              "goes live.")
    if args.repo:
        print(f"Next: install it on {args.repo} ({registered.html_url}/installations/new); the deployment serves that "
              "repository alone (FUNDBOT_REPO).")
    else:
        print(f"Next: install it ({registered.html_url}/installations/new). A repository it is installed on is a fund "
              "once it holds .github/fund-bot.yml (an empty file will do: the server's rules apply), or when "
              "FUNDBOT_REPO names it (setup --repo writes it).")
    return 0
