"""`fundbot validate --repo` and `fundbot config show --repo`: a fund's configuration as GitHub has it —
its own `.github/fund-bot.yml` and forms and the files its `_extends` names, merged over the server's
rules — checked, and shown key by key with where each value comes from. Reads only; writes nothing."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from bot.cli.common import context_for, fail, rules_for, settings_for
from bot.config.settings import REPO_NAME, Need


def read_fund(repo: str, environ: Mapping[str, str]):
    """(the fund's files as read, the server's rules, the gateway that read them), or an exit status after
    saying why not."""
    from bot.config.fund_files import read_fund_files
    from bot.github.transport import GitHubError, NotFound

    if not REPO_NAME.fullmatch(repo):
        return fail(f"--repo must be OWNER/NAME, not {repo!r}")
    settings = settings_for(environ, Need.APP_OR_TOKEN)
    rules = rules_for(settings)
    github = context_for(settings, rules).github
    try:
        gateway = github.for_repository(repo)
        return read_fund_files(gateway, repo), rules, gateway
    except NotFound:
        return fail(f"{repo}: not found, or the App (or token) has no access to it")
    except GitHubError as err:
        return fail(f"{repo}: could not read its configuration: {err}")


def effective_lines(rules, only_the_funds: bool = False) -> list[str]:
    """`section.key = value  (file)` for every key in force (or only those the fund's files set)."""
    from bot.config.layers import effective

    server_files = {section: rules.origins[section] for section in rules.documents}
    rows = effective(rules.documents, server_files, rules.key_origins)
    return [f"{key} = {json.dumps(value, ensure_ascii=False)}  ({origin})" for key, value, origin in rows
            if not only_the_funds or origin != server_files[key.split(".", 1)[0]]]


def validate_fund(repo: str, environ: Mapping[str, str]) -> int:
    """`fundbot validate --repo OWNER/NAME`: every problem, or the keys the fund's files set, with their files."""
    from bot.config.fund_files import rules_from
    from bot.config.teams_check import team_problems
    from bot.policy.rules import FUND_FILE, RulesError

    read = read_fund(repo, environ)
    if isinstance(read, int):
        return read
    files, server, gateway = read
    present = [path for path, found in files.files.items() if found is not None] + [key for key, _ in files.bases]
    if files.own is None:
        print(f"{repo} has no {FUND_FILE}: it is not a fund (unless FUNDBOT_REPO names it)")
    try:
        rules = rules_from(server, files)
        missing = team_problems(gateway, rules)
        if missing:
            raise RulesError(missing)
    except RulesError as err:
        problems = list(dict.fromkeys(err.errors))
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s) in {repo} ({', '.join(present)})", file=sys.stderr)
        return 1
    print(f"{repo}: {', '.join(present) or 'no files of its own'} valid with the server's rules")
    for line in effective_lines(rules, only_the_funds=True):
        print(f"  {line}")
    return 0


def cmd_config_show(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """`fundbot config show --repo OWNER/NAME`: the rules in force there, key by key, each with its file."""
    from bot.config.fund_files import rules_from
    from bot.policy.rules import RulesError

    read = read_fund(args.repo, environ)
    if isinstance(read, int):
        return read
    files, server, _ = read
    try:
        rules = rules_from(server, files)
    except RulesError as err:
        for line in dict.fromkeys(err.errors):
            print(line, file=sys.stderr)
        return fail(f"{args.repo}: its configuration is invalid (`fundbot validate --repo {args.repo}` lists "
                    "the problems); the bot acts by the last valid one meanwhile", 1)
    for line in effective_lines(rules):
        print(line)
    return 0
