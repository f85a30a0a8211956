"""`fundbot`: serve | check | sweep | recheck | clock | worker | replay | setup | labels sync | validate | demo | export.

Exit status: 0 success; 1 a negative answer (not eligible, invalid rules, a sweep that could not
finish); 2 a usage or configuration error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.policy.i18n import LANGUAGES
from bot.settings import DEFAULT_MANIFEST, REPO_NAME, Need, Settings, SettingsError

if TYPE_CHECKING:  # the commands import what they use when they run: `fundbot --help` stays quick
    from bot.jobs.funds import FundRef
    from bot.jobs.recheck import RecheckResult
    from bot.jobs.sweep import SweepResult

log = logging.getLogger("fundbot.cli")
T = TypeVar("T")


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
    """The Procfile's `web`: gunicorn with the package's settings (bot/web/gunicorn_conf.py), bound to
    $HOST:$PORT (0.0.0.0:8000 unless set), as a deployment runs it; --host/--port set them."""
    env = dict(environ)
    if args.host:
        env["HOST"] = args.host
    if args.port:
        env["PORT"] = str(args.port)
    problem = startup_problem(env)
    if problem:
        return _fail(problem)
    # This interpreter's gunicorn: a venv's `fundbot` works without the venv on PATH.
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:bot.web.gunicorn_conf", "bot.app:create_app()"]
    os.execve(argv[0], argv, env)
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
    given = args.repository
    try:
        repo = parse_repository(given if "github.com" in given.lower() else f"https://github.com/{given}")
    except AnswerError:
        return _fail(f"not a repository: {_as_typed(given)} (give OWNER/REPO or https://github.com/OWNER/REPO)")
    github = GitHubApp(settings)
    use_app = not settings.token and settings.has_app and settings.repo
    try:
        gateway = github.for_repository(settings.repo) if use_app else github.for_token(settings.token)
        now = dt.datetime.now(dt.timezone.utc)
        facts = repo_facts(gateway, repo, rules, now, refusals_are_findings=False)
    except GitHubError as err:
        who = "the App (GITHUB_APP_ID and its key)" if use_app else \
            "the token (GITHUB_TOKEN)" if settings.token else "an anonymous request"
        return _fail(f"could not check {repo.full_name}: {github_trouble(err, settings.api_url, who)}")
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


def _as_typed(text: str, limit: int = 200) -> str:
    """What the user typed, quoted (control characters escaped); a long one shortened, with its length."""
    return repr(text) if len(text) <= limit else f"{text[:limit // 2]!r}… ({len(text):,} characters)"


def github_trouble(err: Exception, api_url: str, who: str) -> str:
    """Which of GitHub's refusals or failures `err` is, in words an operator can act on."""
    from bot.github.gateway import GitHubUnavailable

    status = getattr(err, "status", 0)
    detail = f"{status} {str(getattr(err, 'message', ''))[:200]}".strip()
    if status == 0:
        return f"GitHub is unreachable: no answer from {api_url} (connection failed or timed out)"
    if isinstance(err, GitHubUnavailable) and status in (403, 429):
        return f"GitHub's rate limit is used up for {who} ({detail}): try again later, or with a token"
    if status >= 500 or isinstance(err, GitHubUnavailable):
        return f"GitHub is down: it answered {detail} (retried); try again later"
    if status == 401:
        return f"GitHub refused the credentials of {who} ({detail}): they are wrong, expired or revoked"
    if status == 403:
        return f"GitHub refused for lack of permission ({detail}): {who} may not read this"
    return f"GitHub answered {detail}"


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


def _fund_settings(environ: Mapping[str, str], verb: str) -> Settings:
    """The settings of a command that acts on funds: FUNDBOT_REPO, or the App's to find every fund."""
    settings = _settings(environ, Need.APP_OR_TOKEN)
    if settings.repo is None and not settings.has_app:
        raise SystemExit(_fail(f"FUNDBOT_REPO is missing: set it, or the App's settings to {verb} every fund of "
                               "every installation"))
    return settings


def _listed_funds(ctx, settings: Settings, failures: list[str]):
    """`_funds` for a command: when the App's installations cannot be listed, it ends (exit 1)."""
    from bot.github.gateway import GitHubError

    try:
        return _funds(ctx, settings, failures)
    except GitHubError as err:
        raise SystemExit(_fail(f"could not list the App's installations: {err}", 1)) from None


def cmd_sweep(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.jobs.sweep import parse_now, sweep

    settings = _fund_settings(environ, "sweep")
    rules = _rules(settings)
    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now must be an ISO-8601 date or time, not {args.now!r}")
    real_now = dt.datetime.now(dt.timezone.utc)
    if now > real_now and not (args.dry_run or args.write_in_the_future):
        # A sweep in the future would post reminders and overdue notices, mentioning real applicants
        # and reviewers, that are not due yet (and record them as sent): a preview, unless meant.
        return _fail(f"--now {now.isoformat()} is later than the real time ({real_now.isoformat(timespec='seconds')}): "
                     "a sweep there would post reminders and overdue notices that are not due. Add --dry-run to "
                     "preview it, or --write-in-the-future to write them anyway (a sandbox, a test fund)")
    ctx = _context(settings, rules, now)
    if settings.cache_file:
        ctx.github.load_caches(settings.cache_file)
    failures: list[str] = []
    funds = _listed_funds(ctx, settings, failures)
    if settings.redis_url and not (args.dry_run or args.now or args.here):
        return _enqueue_sweeps(settings, funds, failures)
    verb = "would" if args.dry_run else "did"

    def run(fund: FundRef) -> SweepResult:
        return sweep(ctx, _gateway_for(ctx, fund, throttle_writes=not args.dry_run), fund.repo, dry_run=args.dry_run)

    for fund, result in _each_fund(funds, run, failures):
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


def _each_fund(funds: Sequence[FundRef], run: Callable[[FundRef], T],
               failures: list[str]) -> Iterator[tuple[FundRef, T]]:
    """Each fund with what `run` made of it; a fund that fails is said in `failures`, and the others go on."""
    from bot.github.gateway import GitHubError

    for fund in funds:
        try:
            result = run(fund)
        except GitHubError as err:
            failures.append(f"{fund.repo}: could not reach it: {err}")
            continue
        except Exception as err:  # a surprise in one fund: said, and the other funds go on
            log.exception("a fund could not be finished", extra={"repo": fund.repo})
            failures.append(f"{fund.repo}: {type(err).__name__}: {err}")
            continue
        yield fund, result


def _enqueue_sweeps(settings: Settings, funds, failures: list[str]) -> int:
    """With Redis: one sweep job per fund, for the workers to run in parallel."""
    from bot.jobs.worker import connect, enqueue_sweep

    assert settings.redis_url
    redis = connect(settings.redis_url)
    try:
        for fund in funds:
            queued = enqueue_sweep(redis, fund.repo, fund.installation_id)
            print(f"sweep of {fund.repo}: {'queued for the workers' if queued else 'already queued or running'}")
    finally:
        redis.close()
    for failure in failures:
        print(f"could not sweep: {failure}", file=sys.stderr)
    return 0 if not failures else 1


def cmd_recheck(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the eligibility checks again on the open applications still in screening (a preview unless --apply)."""
    from bot.jobs.recheck import recheck

    settings = _fund_settings(environ, "recheck")
    rules = _rules(settings)
    ctx = _context(settings, rules)
    failures: list[str] = []
    funds = _listed_funds(ctx, settings, failures)
    verb = "did" if args.apply else "would"

    def run(fund: FundRef) -> RecheckResult:
        return recheck(ctx, _gateway_for(ctx, fund, throttle_writes=args.apply), fund.repo, apply=args.apply)

    for fund, result in _each_fund(funds, run, failures):
        for line in result.lines:
            print(f"{verb}: {line}")
        numbers = ", ".join(f"#{n}" for n in result.rechecked) or "none"
        print(f"{fund.repo}: checks {'run again' if args.apply else 'would run again'} on {len(result.rechecked)} "
              f"application(s) in screening ({numbers}): {len(result.lines)} changes "
              f"({'written' if args.apply else 'a preview, nothing written: add --apply to write'})")
        failures += [f"{fund.repo}: {f}" for f in result.failures]
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

    settings = _fund_settings(environ, "sweep")
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

    try:
        run_worker(build_context(settings, rules, redis=redis), redis, burst=args.burst)
    finally:
        from bot.metrics import process_exited

        process_exited(os.getpid())
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
    from bot.jobs.labels import is_problem, leftover_labels, sync_labels

    settings = _settings(environ, Need.APP_OR_TOKEN | Need.REPO)
    rules = _rules(settings)
    ctx = _context(settings, rules)
    assert settings.repo
    try:
        gateway = ctx.github.for_repository(settings.repo)
        lines = sync_labels(gateway, settings.repo, rules, dry_run=args.dry_run)
        leftovers = leftover_labels(gateway, settings.repo, rules)
    except GitHubError as err:
        return _fail(f"could not sync labels on {settings.repo}: {err}", 1)
    changes = [line for line in lines if not is_problem(line)]
    for line in lines:
        print(line if is_problem(line) else ("would " if args.dry_run else "") + line)
    for leftover in leftovers:
        print(f"left alone {leftover}: the App made it, the rules no longer have it; delete it by hand once no "
              "issue needs it")
    print(f"{len(changes)} label{'s' if len(changes) != 1 else ''} {'to change' if args.dry_run else 'changed'}; "
          f"{len(rules.all_labels()) - len(lines)} already right")
    return 1 if len(lines) > len(changes) else 0


def cmd_validate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.policy.forms import validate_template_file
    from bot.policy.rules import RulesError, load_rules

    if args.repo:
        return _validate_fund(args.repo, environ)
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


def _validate_fund(repo: str, environ: Mapping[str, str]) -> int:
    """`fundbot validate --repo OWNER/NAME`: the fund's own `.github/fund-bot.yml` and issue forms, as
    they are on its default branch, with the server's rules; reads only, writes nothing."""
    from bot.github.gateway import GitHubError, NotFound
    from bot.jobs.funds import config_files, rules_from
    from bot.policy.rules import FUND_FILE, RulesError

    if not REPO_NAME.fullmatch(repo):
        return _fail(f"--repo must be OWNER/NAME, not {repo!r}")
    settings = _settings(environ, Need.APP_OR_TOKEN)
    rules = _rules(settings)
    github = _context(settings, rules).github
    try:
        files = config_files(github.for_repository(repo), repo)
    except NotFound:
        return _fail(f"{repo}: not found, or the App (or token) has no access to it")
    except GitHubError as err:
        return _fail(f"{repo}: could not read its configuration: {err}")
    present = [path for path, found in files.items() if found is not None]
    if files[FUND_FILE] is None:
        print(f"{repo} has no {FUND_FILE}: it is not a fund (unless FUNDBOT_REPO names it)")
    try:
        rules_from(rules, files)
    except RulesError as err:
        problems = list(dict.fromkeys(err.errors))
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s) in {repo} ({', '.join(present)})", file=sys.stderr)
        return 1
    print(f"{repo}: {', '.join(present) or 'no files of its own'} valid with the server's rules")
    return 0


def cmd_demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.demo.story import run_demo

    return run_demo(rules_dir=Path(args.rules) if args.rules else None, out=sys.stdout, language=args.language)


def cmd_export(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.views.export import run_export

    if args.repo and not REPO_NAME.fullmatch(args.repo):
        return _fail(f"--repo must be OWNER/NAME, not {args.repo!r}")
    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        return _fail(f"--since must be a date (YYYY-MM-DD), not {args.since!r}")
    settings = _settings(environ, Need.APP_OR_TOKEN | (Need.NOTHING if args.repo else Need.REPO))
    rules = _rules(settings)
    kind = "payouts" if args.payouts else "audit" if args.audit else "applications"
    return run_export(_context(settings, rules), args.repo or settings.repo or "", args.format, args.output,
                      kind=kind, since=since, round_name=args.round)


def cmd_verify(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Check the seal of every application's record in every fund (or FUNDBOT_REPO); exit 1 on any failure."""
    from bot.github.gateway import GitHubError
    from bot.views.rows import pipeline_rows

    settings = _fund_settings(environ, "verify")
    if not settings.has_app:
        return _fail("records are sealed with a key derived from the App's private key: set GITHUB_APP_ID and it")
    rules = _rules(settings)
    ctx = _context(settings, rules)
    failures: list[str] = []
    broken = checked = 0
    for fund in _listed_funds(ctx, settings, failures):
        try:
            gateway = _gateway_for(ctx, fund, throttle_writes=False)
            fund_rules = ctx.fund_rules(gateway, fund.repo) or rules
            rows = pipeline_rows(gateway, fund.repo, fund_rules, ctx.clock().date(), ctx.seal_key, ctx.seal_previous)
        except GitHubError as err:
            failures.append(f"{fund.repo}: could not read it: {err}")
            continue
        for row in rows:
            checked += 1
            if not row.sealed:
                broken += 1
                print(f"{fund.repo}#{row.number}: the record does not hold its seal (edited, copied from another "
                      f"issue, or written before records were sealed): {row.html_url}")
    for failure in failures:
        print(f"could not finish: {failure}", file=sys.stderr)
    print(f"{checked} applications checked, {broken} records failed their seal")
    return 1 if broken or failures else 0


def installed_version() -> str:
    """The installed distribution's version (pyproject.toml's, as pip installed it): what `--version` says."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fund-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fundbot", description="Fund Bot: an open-source fund's grant process on GitHub.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the webhook service (gunicorn, as the Procfile does), on $HOST:$PORT")
    p.add_argument("--host", help="the address to listen on (default $HOST, else 0.0.0.0)")
    p.add_argument("--port", type=int, help="the port to listen on (default $PORT, else 8000)")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("check", help="check a repository's eligibility before applying")
    p.add_argument("repository", help="OWNER/REPO or https://github.com/OWNER/REPO")
    p.add_argument("--licence", "--license", help="the licence you would declare (SPDX id), to compare")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("sweep", help="send due reminders and repair what lost deliveries left behind")
    p.add_argument("--now", help="the moment to sweep at (ISO-8601, UTC); a later one than the real time needs "
                                 "--dry-run or --write-in-the-future")
    p.add_argument("--dry-run", action="store_true", help="print what would change and write nothing")
    p.add_argument("--here", action="store_true",
                   help="with FUNDBOT_REDIS_URL set, sweep in this process instead of queueing a job per fund")
    p.add_argument("--write-in-the-future", action="store_true",
                   help="with a --now later than the real time, write what that sweep would (reminders, overdue "
                        "notices) — for a sandbox or a test fund")
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser(
        "recheck", help="run the eligibility checks again on open applications still in screening (a preview "
                        "unless --apply)",
        description="After a change to the rules' thresholds: run the eligibility checks again, under the rules now "
                    "in force, on every open application still in screening (first stage, no outcome), through the "
                    "webhook's own path. Prints what would change and writes nothing unless --apply is given.")
    p.add_argument("--apply", action="store_true", help="write the changes (default: a preview)")
    p.set_defaults(run=cmd_recheck)

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
    p.add_argument("--manifest", default=str(DEFAULT_MANIFEST),
                   help="the App's manifest (default: the shipped bot/defaults/app.yml)")
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for GitHub's redirect (900)")
    p.add_argument("--no-browser", action="store_true", help="print the page's address without opening a browser")
    p.set_defaults(run=cmd_setup)

    p = sub.add_parser("labels", help="manage the labels of the rules")
    labels = p.add_subparsers(dest="labels_command", required=True)
    s = labels.add_parser("sync", help="create or update every label of the rules in FUNDBOT_REPO")
    s.add_argument("--dry-run", action="store_true")
    s.set_defaults(run=cmd_labels_sync)

    p = sub.add_parser("validate", help="check the rules and issue templates; exit 1 on any problem")
    p.add_argument("--rules", help="rules folder (default FUNDBOT_RULES or the shipped bot/defaults/rules)")
    p.add_argument("--templates", help="issue templates folder (default FUNDBOT_TEMPLATES or the shipped bot/defaults/ISSUE_TEMPLATE)")
    p.add_argument("--repo", metavar="OWNER/NAME",
                   help="check a fund's .github/fund-bot.yml and issue forms on GitHub instead (read only)")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("demo", help="run a whole application's life against a sandbox GitHub, offline")
    p.add_argument("--rules", help="preview a changed rules folder")
    p.add_argument("--language", choices=tuple(LANGUAGES),
                   help="the applicant's language: the forms filed and the story told in it (default: the fund's)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("export", help="write one row per application for the fund's reporting")
    p.add_argument("--format", choices=("csv", "json", "md"), default="csv")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--repo", metavar="OWNER/NAME", help="the fund to export (default FUNDBOT_REPO)")
    p.add_argument("--round", help="only the applications of this funding round")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--payouts", action="store_true",
                      help="CSV of the grant parts released: date, application, project, payee, amount, currency, "
                           "tranche k of n")
    what.add_argument("--audit", action="store_true", help="every decision as JSON lines (who, when, what, why)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="with --payouts: those released on or after this day")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("verify", help="check every application's record against its seal; exit 1 on any that fails")
    p.set_defaults(run=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, os.environ if environ is None else environ))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


if __name__ == "__main__":
    sys.exit(main())
