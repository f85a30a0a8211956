"""The CLI's commands that check before anything is written: a repository's eligibility, the rules and
forms (the server's, or a fund's on GitHub), and the demo against a sandbox GitHub."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.cli.common import as_typed, context_for, fail, github_trouble, rules_for, settings_for
from bot.config.settings import REPO_NAME, Need


def cmd_check(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Gather a repository's facts with GitHub, and print what `bot.policy.check` makes of them."""
    from bot.github.app import GitHubApp
    from bot.github.transport import GitHubError
    from bot.github.facts import repo_facts
    from bot.policy.answers import AnswerError, parse_repository
    from bot.policy.check import check_repository, render_check

    settings = settings_for(environ, Need.NOTHING)
    rules = rules_for(settings)
    given = args.repository
    try:
        repo = parse_repository(given if "github.com" in given.lower() else f"https://github.com/{given}")
    except AnswerError:
        return fail(f"not a repository: {as_typed(given)} (give OWNER/REPO or https://github.com/OWNER/REPO)")
    github = GitHubApp(settings)
    use_app = not settings.token and settings.has_app and settings.repo
    try:
        gateway = github.for_repository(settings.repo) if use_app else github.for_token(settings.token)
        now = dt.datetime.now(dt.timezone.utc)
        facts = repo_facts(gateway, repo, rules.eligibility.window_days, now, refusals_are_findings=False)
    except GitHubError as err:
        who = "the App (GITHUB_APP_ID and its key)" if use_app else \
            "the token (GITHUB_TOKEN)" if settings.token else "an anonymous request"
        return fail(f"could not check {repo.full_name}: {github_trouble(err, settings.api_url, who)}")
    report = check_repository(repo.full_name, facts, args.licence, rules.eligibility, now)
    print(render_check(report, rules.language, as_json=args.json, reads=gateway.stats.reads,
                       not_modified=gateway.stats.not_modified))
    return 0 if report.eligible else 1


def cmd_validate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.config.forms import validate_template_file
    from bot.config.rules import load_rules
    from bot.policy.rules import RulesError

    if args.repo:
        from bot.cli.config import validate_fund

        return validate_fund(args.repo, environ)
    if args.fund_file:
        from bot.cli.config import validate_fund_file

        return validate_fund_file(args.fund_file, args.templates, args.rules, environ)
    settings = settings_for(environ, Need.NOTHING)
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

    return run_demo(rules_dir=Path(args.rules) if args.rules else None, out=sys.stdout, language=args.language,
                    fund_file=Path(args.fund_file) if args.fund_file else None)
