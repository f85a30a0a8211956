"""`fundbot`: serve | check | sweep | recheck | clock | worker | replay | setup | labels sync | validate | schema |
config show | demo | export | showcase build | verify.

Exit status: 0 success; 1 a negative answer (not eligible, invalid rules, a sweep that could not
finish); 2 a usage or configuration error. This module parses the arguments; each command is in
`bot.cli.deploy`, `bot.cli.funds` or `bot.cli.check`, and what they share in `bot.cli.common`.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence

from bot.cli.check import cmd_check, cmd_demo, cmd_validate
from bot.cli.config import cmd_config_show, cmd_schema
from bot.cli.deploy import cmd_clock, cmd_replay, cmd_serve, cmd_setup, cmd_worker
from bot.cli.funds import cmd_export, cmd_labels_sync, cmd_recheck, cmd_showcase_build, cmd_sweep, cmd_verify
from bot.cli.status import cmd_status
from bot.config.settings import DEFAULT_MANIFEST
from bot.policy.i18n import LANGUAGES


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
                    "GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET (and FUNDBOT_REPO with --repo) are "
                    "written to the env file (mode 0600). The key and secret are never printed.")
    p.add_argument("--host", default="github.com", help="github.com (default) or a GitHub Enterprise Server host")
    p.add_argument("--org", help="register the App for this organisation (default: your own account)")
    p.add_argument("--port", type=int, default=0, help="the local page's port on 127.0.0.1 (default: any free one)")
    p.add_argument("--env-file", default=".env", help="where to write the credentials (default .env)")
    p.add_argument("--force", action="store_true", help="replace an existing env file")
    p.add_argument("--webhook-url", help="the service's webhook URL (https://HOST/webhook), instead of app.yml's "
                                         "placeholder")
    p.add_argument("--force-url", action="store_true",
                   help="register the webhook URL even if it is a placeholder or its path is not /webhook (a proxy "
                        "channel such as smee.io's, a path prefix your proxy strips)")
    p.add_argument("--repo", metavar="OWNER/NAME",
                   help="the repository that holds the applications: written as FUNDBOT_REPO (the deployment then "
                        "serves it alone, with or without a .github/fund-bot.yml)")
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
    p.add_argument("--rules", help="rules folder (default FUNDBOT_RULES or the shipped rules/)")
    p.add_argument("--templates", help="issue templates folder (default FUNDBOT_TEMPLATES or the shipped "
                                       ".github/ISSUE_TEMPLATE/); with --fund-file, the fund's own forms")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--repo", metavar="OWNER/NAME",
                       help="check a fund's .github/fund-bot.yml and issue forms on GitHub instead (read only)")
    which.add_argument("--fund-file", metavar="PATH",
                       help="check a fund's .github/fund-bot.yml from disk, merged over the server's rules as the bot "
                            "merges it, without GitHub (with --templates DIR: the fund's forms too)")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON schema of a fund's .github/fund-bot.yml (for editors)")
    p.set_defaults(run=cmd_schema)

    p = sub.add_parser("config", help="show a fund's configuration")
    config = p.add_subparsers(dest="config_command", required=True)
    s = config.add_parser("show", help="the rules in force in a fund, key by key, each with the file it comes from")
    s.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the fund's repository")
    s.set_defaults(run=cmd_config_show)

    p = sub.add_parser("demo", help="run a whole application's life against a sandbox GitHub, offline")
    p.add_argument("--rules", help="preview a changed rules folder")
    p.add_argument("--fund-file", metavar="PATH",
                   help="preview a fund's .github/fund-bot.yml: the fund's repository holds it, over the rules")
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

    p = sub.add_parser("showcase", help="the fund's public showcase of its grants")
    showcase = p.add_subparsers(dest="showcase_command", required=True)
    s = showcase.add_parser(
        "build", help="write the showcase: a static site of the fund's grants, grants.json and feeds",
        description="Write the fund's showcase to OUT: a static site (English and Chinese) of its grants by round — "
                    "decisions, tranches, accepted progress reports — with grants.json and a JSON Feed and an Atom "
                    "feed, from the applications' sealed records only (a record that fails its seal is left out, "
                    "and said). Needs the App's settings (the seal's key comes from its private key). OUT must be "
                    "new, empty, or a showcase built before, which is replaced whole. Nothing is built when the "
                    "fund's rules say `fund.showcase: false`.")
    s.add_argument("out", metavar="OUT", help="the folder to write the site to")
    s.add_argument("--repo", metavar="OWNER/NAME", help="the fund (default FUNDBOT_REPO)")
    s.add_argument("--base-url", default="",
                   help="where the site is published (https://OWNER.github.io/NAME/): the feeds' links and ids "
                        "(without it, they link to GitHub)")
    s.set_defaults(run=cmd_showcase_build)

    p = sub.add_parser("verify", help="check every application's record against its seal; exit 1 on any that fails")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("status", help="what each application waits on: on whom, since when, the next reminder")
    p.add_argument("--repo", metavar="OWNER/NAME", help="the fund (default FUNDBOT_REPO)")
    p.add_argument("--stalled", action="store_true", help="only those longer in their stage than the rules allow")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.add_argument("--now", help="the moment to look at (ISO-8601, UTC; default the real time)")
    p.set_defaults(run=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        return int(args.run(args, environ))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except Exception as err:
        # Redis lost after the command's first PING: one line naming the setting, not redis-py's traceback.
        from redis.exceptions import RedisError

        if isinstance(err, RedisError):
            from bot.cli.common import fail, redis_trouble

            return fail(redis_trouble(err, environ.get("FUNDBOT_REDIS_URL", "")), 1)
        raise

