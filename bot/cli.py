"""`fundbot`: serve | check | sweep | clock | worker | replay | setup | labels sync | validate | demo | export.

Exit status: 0 success; 1 a negative answer (not eligible, invalid rules, a sweep that could not
finish); 2 a usage or configuration error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.policy.i18n import LANGUAGES
from bot.settings import PROJECT_ROOT, Need, Settings, SettingsError


def startup_problem(environ: Mapping[str, str]) -> str | None:
    """Why the web service must not start (settings, then rules), or None."""
    from bot.policy.rules import RulesError, load_rules

    try:
        settings = Settings.from_env(environ, Need.server())
        load_rules(settings.rules_dir, settings.templates_dir)
    except SettingsError as err:
        return str(err)
    except RulesError as err:
        return "the rules are invalid:\n" + "\n".join(f"  {line}" for line in err.errors)
    return None


def _settings(environ: Mapping[str, str], need: Need) -> Settings:
    try:
        return Settings.from_env(environ, need)
    except SettingsError as err:
        raise SystemExit(_fail(str(err))) from None


def _fail(message: str, code: int = 2) -> int:
    print(f"fundbot: {message}", file=sys.stderr)
    return code


def _rules(settings: Settings, rules_dir: str | None = None):
    from bot.policy.rules import RulesError, load_rules

    try:
        return load_rules(Path(rules_dir) if rules_dir else settings.rules_dir, settings.templates_dir)
    except RulesError as err:
        raise SystemExit(_fail("the rules are invalid:\n" + "\n".join(f"  {e}" for e in err.errors))) from None


# --- commands ---------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    problem = startup_problem(environ)
    if problem:
        return _fail(problem)
    argv = ["gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"), "bot.app:create_app()"]
    if args.port:
        argv += ["--bind", f"127.0.0.1:{args.port}"]
    os.execvp(argv[0], argv)
    return 0  # not reached


def cmd_check(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.policy.eligibility import CHECK_TITLES, evaluate_repository
    from bot.policy.i18n import translator
    from bot.policy.wording import describe
    from bot.policy.forms import AnswerError, parse_repository
    from bot.github.gateway import GitHubApp, GitHubError
    from bot.jobs.gather import repo_facts

    settings = _settings(environ, Need.NOTHING)
    rules = _rules(settings)
    try:
        repo = parse_repository(args.repository if "/" in args.repository and "github.com" in args.repository
                                else f"https://github.com/{args.repository}")
    except AnswerError as err:
        return _fail(str(err))
    github = GitHubApp(settings)
    try:
        if settings.token or not (settings.has_app and settings.repo):
            gateway = github.for_token(settings.token)
        else:
            gateway = github.for_repository(settings.repo)
        now = dt.datetime.now(dt.timezone.utc)
        facts = repo_facts(gateway, repo, rules, now)
    except GitHubError as err:
        return _fail(f"could not read {repo.full_name} from GitHub: {err}")
    checks = evaluate_repository(facts, args.licence, rules.eligibility, now)
    eligible = all(c.ok for c in checks)
    tr = translator(rules.language)
    if args.json:
        print(json.dumps({
            "repository": facts.full_name or repo.full_name, "eligible": eligible,
            "checks": [{"check": c.id, "ok": c.ok, "figure": describe(c.figure, tr), "detail": describe(c.detail, tr),
                        "warning": describe(c.warning, tr)} for c in checks],
            "requests": {"reads": gateway.stats.reads, "not_modified": gateway.stats.not_modified},
        }, indent=2, ensure_ascii=False))
    else:
        print(tr.gettext("%(repository)s: eligible", repository=facts.full_name or repo.full_name) if eligible else
              tr.gettext("%(repository)s: not eligible", repository=facts.full_name or repo.full_name))
        for c in checks:
            title = tr.gettext(CHECK_TITLES[c.id]) if c.id in CHECK_TITLES else c.id
            print(f"  {'✅' if c.ok else '❌'} {title}: {describe(c.figure, tr)}")
            if not c.ok and c.detail:
                print(f"      {describe(c.detail, tr)}")
            if c.warning:
                print(f"      ⚠️ {describe(c.warning, tr)}")
        print("  " + tr.gettext("(the form's own checks — clear goals, completeness — run when you apply)"))
    return 0 if eligible else 1


def _context(settings: Settings, rules, now: dt.datetime | None = None):
    """The context of a process that handles applications: locks shared through Redis when it is set."""
    from bot.jobs.handle import build_context

    return build_context(settings, rules, clock=(lambda: now) if now else None)


def _gateway_for(ctx, fund, *, throttle_writes: bool):
    if fund.installation_id is not None:
        return ctx.github.for_installation(fund.installation_id, throttle_writes=throttle_writes)
    return ctx.github.for_repository(fund.repo, throttle_writes=throttle_writes)


def _funds(ctx, settings: Settings, failures: list[str]):
    """The funds to sweep: FUNDBOT_REPO alone, or every fund of every installation of the App."""
    from bot.jobs.funds import FundRef, discover

    if settings.repo:
        return [FundRef(settings.repo, None)]
    return discover(ctx.github, ctx.funds, failures=failures)


def cmd_sweep(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.github.gateway import GitHubError
    from bot.jobs.sweep import parse_now, sweep

    settings = _settings(environ, Need.APP_OR_TOKEN)
    if settings.repo is None and not settings.has_app:
        return _fail("FUNDBOT_REPO is missing: set it, or the App's settings to sweep every fund of every installation")
    rules = _rules(settings)
    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now must be an ISO-8601 date or time, not {args.now!r}")
    ctx = _context(settings, rules, now)
    if settings.cache_file:
        ctx.github.load_caches(settings.cache_file)
    failures: list[str] = []
    try:
        funds = _funds(ctx, settings, failures)
    except GitHubError as err:
        return _fail(f"could not list the App's installations: {err}", 1)
    verb = "would" if args.dry_run else "did"
    for fund in funds:  # one fund's failure does not stop the others
        try:
            gateway = _gateway_for(ctx, fund, throttle_writes=not args.dry_run)
            result = sweep(ctx, gateway, fund.repo, dry_run=args.dry_run)
        except GitHubError as err:
            failures.append(f"{fund.repo}: could not reach it: {err}")
            continue
        for line in result.lines:
            print(f"{verb}: {line}")
        print(f"swept {result.applications} applications and {result.reports} report issues of {fund.repo} "
              f"at {now.isoformat()}: {len(result.lines)} changes "
              f"({'dry run, nothing written' if args.dry_run else 'written'}); requests {result.stats}")
        if result.logged and result.log:
            print(f"logged this run in the sweep log: {result.log.html_url}")
        failures += [f"{fund.repo}: {f}" if len(funds) > 1 else f for f in result.failures]
    if settings.cache_file:
        ctx.github.save_caches(settings.cache_file)
    if not funds:
        print("no fund found: no repository of the App's installations has .github/fund-bot.yml")
    for failure in failures:
        print(f"could not finish: {failure}", file=sys.stderr)
    return 0 if not failures else 1


def cmd_clock(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Sweep every fund every FUNDBOT_SWEEP_INTERVAL seconds until SIGTERM (the Procfile's `clock`).
    With Redis, each fund's sweep is a job for the workers (one at a time per fund, so the workers
    sweep funds in parallel); without it, the sweeps run here, one fund after the other."""
    from bot.jobs.sweep import sweep
    from bot.jobs.worker import connect, enqueue_sweep
    from bot.logs import configure_logging

    settings = _settings(environ, Need.APP_OR_TOKEN)
    if settings.repo is None and not settings.has_app:
        return _fail("FUNDBOT_REPO is missing: set it, or the App's settings to sweep every fund of every installation")
    rules = _rules(settings)
    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ctx = _context(settings, rules)
    redis = connect(settings.redis_url) if settings.redis_url else None
    while not stop.is_set():
        failures: list[str] = []
        try:
            funds = _funds(ctx, settings, failures)
        except Exception as err:  # the clock must outlive a bad round; the next one retries
            print(f"could not list the funds: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            funds = []
        for fund in funds:
            try:
                if redis is not None:
                    queued = enqueue_sweep(redis, fund.repo, fund.installation_id)
                    print(f"sweep of {fund.repo}: {'queued' if queued else 'still queued or running'}", flush=True)
                else:
                    result = sweep(ctx, _gateway_for(ctx, fund, throttle_writes=True), fund.repo)
                    print(f"sweep of {fund.repo}: {result.applications} applications, {len(result.lines)} changes, "
                          f"{len(result.failures)} failures, requests {result.stats}", flush=True)
            except Exception as err:  # one fund's failure does not stop the others
                print(f"sweep of {fund.repo} failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        for failure in failures:
            print(f"could not sweep: {failure}", file=sys.stderr, flush=True)
        stop.wait(settings.sweep_interval)
    return 0


def cmd_worker(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run deliveries and sweeps from Redis until SIGTERM (the Procfile's `worker`)."""
    from bot.jobs.worker import connect, run_worker
    from bot.logs import configure_logging

    settings = _settings(environ, Need.APP | Need.REDIS)
    rules = _rules(settings)
    configure_logging(settings.log_level, settings.log_format)
    assert settings.redis_url
    redis = connect(settings.redis_url)
    from bot.jobs.handle import build_context

    run_worker(build_context(settings, rules, redis=redis), redis, burst=args.burst)
    return 0


def cmd_replay(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Feed a saved delivery through the webhook's pipeline, here and now, and print its writes."""
    from bot.github.gateway import GitHubError
    from bot.github.webhooks import BadSavedDelivery, saved_delivery
    from bot.jobs.handle import Ignored, process, triage
    from bot.logs import configure_logging

    try:
        event = saved_delivery(Path(args.file).read_bytes(), event=args.event)
    except OSError as err:
        return _fail(f"cannot read {args.file}: {err.strerror}")
    except BadSavedDelivery as err:
        return _fail(f"{args.file}: {err}")
    settings = _settings(environ, Need.APP_OR_TOKEN)
    rules = _rules(settings)
    configure_logging(settings.log_level, settings.log_format)
    name = f"{event.name}.{event.action}" if event.action else event.name
    matched = triage(event)
    if isinstance(matched, Ignored):
        print(f"ignored {name} delivery {event.delivery_id}: {matched.reason} (the webhook ignores it too)")
        return 0
    try:
        applied = process(_context(settings, rules), event, matched.handler, dry_run=args.dry_run)
    except GitHubError as err:
        return _fail(f"could not replay {name} delivery {event.delivery_id}: {err}", 1)
    if applied is None:
        print(f"{name} delivery {event.delivery_id} concerns no application or report the bot acts on: nothing to do")
        return 0
    verb = "would" if args.dry_run else "did"
    for line in applied.lines:
        print(f"{verb}: {line}")
    for failure in applied.failures:
        print(f"GitHub refused {failure.what}: {failure.status} {failure.message}", file=sys.stderr)
    print(f"replayed {name} delivery {event.delivery_id} on {event.repository}: {len(applied.lines)} changes "
          f"({'dry run, nothing written' if args.dry_run else 'written'})")
    return 1 if applied.failures else 0


def cmd_setup(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Register the GitHub App with GitHub's App-manifest flow and write its credentials to an env file."""
    import webbrowser

    from bot.setup import ManifestFlow, SetupError, Target, load_manifest

    settings = _settings(environ, Need.NOTHING)
    env_file = Path(args.env_file)
    if env_file.exists() and not args.force:
        return _fail(f"{env_file} exists: choose another --env-file, or --force to replace it")
    if not env_file.parent.is_dir():
        return _fail(f"{env_file.parent} is not a folder: the env file cannot be written there")
    try:
        manifest = load_manifest(Path(args.manifest))
        flow = ManifestFlow(manifest, Target(args.host, args.org, settings.api_url), env_file, force=args.force,
                            port=args.port, webhook_url=args.webhook_url)
        url = flow.start()
    except SetupError as err:
        return _fail(str(err))
    try:
        print(f"Open {url} in a browser signed in to {args.host}, and create the App there. Waiting for GitHub's "
              f"redirect (Ctrl-C to give up) ...", flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        registered = flow.wait(args.timeout)
    except SetupError as err:
        return _fail(str(err), 1)
    except KeyboardInterrupt:
        return _fail("given up: nothing was written", 1)
    finally:
        flow.stop()
    print(f"Registered the GitHub App {registered.slug}: {registered.html_url}")
    print(f"Wrote {', '.join(registered.written)} to {registered.env_file} (readable by you only).")
    if "GITHUB_WEBHOOK_SECRET" not in registered.written:
        print("GitHub gave no webhook secret: set one in the App's settings, and in GITHUB_WEBHOOK_SECRET.")
    print(f"Next: install it on the applications repository ({registered.html_url}/installations/new), and set "
          "its webhook URL if app.yml's placeholder is still there (--webhook-url sets it).")
    return 0


def cmd_labels_sync(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.github.gateway import GitHubError
    from bot.jobs.labels import sync_labels

    settings = _settings(environ, Need.APP_OR_TOKEN | Need.REPO)
    rules = _rules(settings)
    ctx = _context(settings, rules)
    assert settings.repo
    try:
        changes = sync_labels(ctx.github.for_repository(settings.repo), settings.repo, rules, dry_run=args.dry_run)
    except GitHubError as err:
        return _fail(f"could not sync labels on {settings.repo}: {err}", 1)
    for change in changes:
        print(("would " if args.dry_run else "") + change)
    print(f"{len(changes)} label{'s' if len(changes) != 1 else ''} {'to change' if args.dry_run else 'changed'}; "
          f"{len(rules.stages.all_labels()) - len(changes)} already right")
    return 0


def cmd_validate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.policy.forms import validate_template_file
    from bot.policy.rules import RulesError, load_rules

    settings = _settings(environ, Need.NOTHING)
    rules_dir = Path(args.rules) if args.rules else settings.rules_dir
    templates_dir = Path(args.templates) if args.templates else settings.templates_dir
    errors: list[str] = []
    try:
        load_rules(rules_dir, templates_dir)
    except RulesError as err:
        errors.extend(err.errors)
    for template in sorted(templates_dir.glob("*.yml")):
        if template.name != "config.yml":
            errors.extend(validate_template_file(template))
    for line in dict.fromkeys(errors):
        print(line)
    if errors:
        print(f"{len(dict.fromkeys(errors))} problem(s) in {rules_dir} and {templates_dir}", file=sys.stderr)
        return 1
    print(f"rules in {rules_dir} and templates in {templates_dir} are valid")
    return 0


def cmd_demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.demo.story import run_demo

    return run_demo(rules_dir=Path(args.rules) if args.rules else None, out=sys.stdout, language=args.language)


def cmd_export(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.views.export import run_export

    settings = _settings(environ, Need.APP_OR_TOKEN | Need.REPO)
    rules = _rules(settings)
    return run_export(_context(settings, rules), settings.repo or "", args.format, args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fundbot", description="Fund Bot: an open-source fund's grant process on GitHub.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the webhook service (gunicorn, as the Procfile does)")
    p.add_argument("--port", type=int, help="listen on 127.0.0.1:PORT instead of $HOST:$PORT")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("check", help="check a repository's eligibility before applying")
    p.add_argument("repository", help="OWNER/REPO or https://github.com/OWNER/REPO")
    p.add_argument("--licence", "--license", help="the licence you would declare (SPDX id), to compare")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("sweep", help="send due reminders and repair what lost deliveries left behind")
    p.add_argument("--now", help="the moment to sweep at (ISO-8601, UTC), for previews and time travel")
    p.add_argument("--dry-run", action="store_true", help="print what would change and write nothing")
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser("clock", help="run the sweep every FUNDBOT_SWEEP_INTERVAL seconds (Procfile `clock`)")
    p.set_defaults(run=cmd_clock)

    p = sub.add_parser("worker", help="process deliveries and sweeps from Redis (Procfile `worker`)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.set_defaults(run=cmd_worker)

    p = sub.add_parser(
        "replay", help="feed a saved delivery through the webhook's pipeline, for local debugging",
        description="Feed a delivery saved from the App's Recent Deliveries page through the same pipeline as the "
                    "webhook (routing, then lock, gather, decide, apply), here and now, and print one line per write. "
                    "FILE is {\"headers\": {...}, \"payload\": {...}} as the page shows it (the payload may be its "
                    "JSON text), the REST API's hook delivery, or a bare payload with --event. The signature is not "
                    "checked: you have the file. Needs GITHUB_APP_ID and the key (or GITHUB_TOKEN), as the sweep does.")
    p.add_argument("file", metavar="FILE.json", help="the saved delivery")
    p.add_argument("--event", help="the event's name (X-GitHub-Event), for a file that holds only the payload")
    p.add_argument("--dry-run", action="store_true", help="print what would be written and write nothing")
    p.set_defaults(run=cmd_replay)

    p = sub.add_parser(
        "setup", help="register the GitHub App (GitHub's App-manifest flow) and write its credentials",
        description="Register Fund Bot's GitHub App from app.yml with GitHub's App-manifest flow: a page on "
                    "127.0.0.1 posts the manifest to GitHub, you create the App there, GitHub sends you back, and "
                    "GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET are written to the env file "
                    "(mode 0600). The key and secret are never printed.")
    p.add_argument("--host", default="github.com", help="github.com (default) or a GitHub Enterprise Server host")
    p.add_argument("--org", help="register the App for this organisation (default: your own account)")
    p.add_argument("--port", type=int, default=0, help="the local page's port on 127.0.0.1 (default: any free one)")
    p.add_argument("--env-file", default=".env", help="where to write the credentials (default .env)")
    p.add_argument("--force", action="store_true", help="replace an existing env file")
    p.add_argument("--webhook-url", help="the service's webhook URL (https://HOST/webhook), instead of app.yml's")
    p.add_argument("--manifest", default=str(PROJECT_ROOT / "app.yml"), help="the App's manifest (default app.yml)")
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for GitHub's redirect (900)")
    p.add_argument("--no-browser", action="store_true", help="print the page's address without opening a browser")
    p.set_defaults(run=cmd_setup)

    p = sub.add_parser("labels", help="manage the labels of the rules")
    labels = p.add_subparsers(dest="labels_command", required=True)
    s = labels.add_parser("sync", help="create or update every label of the rules in FUNDBOT_REPO")
    s.add_argument("--dry-run", action="store_true")
    s.set_defaults(run=cmd_labels_sync)

    p = sub.add_parser("validate", help="check the rules and issue templates; exit 1 on any problem")
    p.add_argument("--rules", help="rules folder (default FUNDBOT_RULES or the shipped rules/)")
    p.add_argument("--templates", help="issue templates folder (default .github/ISSUE_TEMPLATE)")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("demo", help="run a whole application's life against a sandbox GitHub, offline")
    p.add_argument("--rules", help="preview a changed rules folder")
    p.add_argument("--language", choices=tuple(LANGUAGES),
                   help="the applicant's language: the forms filed and the story told in it (default: the fund's)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("export", help="write one row per application for the fund's reporting")
    p.add_argument("--format", choices=("csv", "json", "md"), default="csv")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(run=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, os.environ if environ is None else environ))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


if __name__ == "__main__":
    sys.exit(main())
