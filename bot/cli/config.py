"""`fundbot validate --repo` and `fundbot config show --repo`: a fund's configuration as GitHub has it —
its own `.github/fund-bot.yml` and forms and the files its `_extends` names, merged over the server's
rules — checked, and shown key by key with where each value comes from. Reads only; writes nothing.
`fundbot validate --fund-file PATH [--templates DIR]` checks the same from disk, without GitHub (what
`_extends` names is on GitHub: said, and not followed); `fundbot schema` prints the file's JSON schema."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.cli.common import context_for, fail, rules_for, settings_for
from bot.config.settings import REPO_NAME, Need


def read_fund(repo: str, environ: Mapping[str, str]):
    """(the fund's files as read, the server's rules, the gateway that read them), or an exit status after
    saying why not."""
    from bot.config.fund_files import read_fund_files
    from bot.github.app import NotInstalled
    from bot.github.transport import GitHubError, NotFound

    if not REPO_NAME.fullmatch(repo):
        return fail(f"--repo must be OWNER/NAME, not {repo!r}")
    settings = settings_for(environ, Need.APP_OR_TOKEN)
    rules = rules_for(settings)
    github = context_for(settings, rules).github
    try:
        gateway = github.for_repository(repo)
        return read_fund_files(gateway, repo), rules, gateway
    except NotFound as err:
        return fail(str(err) if isinstance(err, NotInstalled) else
                    f"{repo}: not found, or the App (or token) has no access to it")
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


def validate_fund_file(fund_file: str, templates: str | None, rules_dir: str | None,
                       environ: Mapping[str, str]) -> int:
    """`fundbot validate --fund-file PATH [--templates DIR]`: the file (and forms) merged over the server's
    rules exactly as the bot merges a fund's, offline: every problem, or the keys the file sets."""
    from bot.config.files import FUND_TEMPLATES
    from bot.config.forms import validate_template_file
    from bot.config.fund_files import extends_of, local_fund_files, rules_from
    from bot.policy.rules import FUND_FILE, RulesError

    settings = settings_for(environ, Need.NOTHING)
    server = rules_for(settings, rules_dir)
    path, folder = Path(fund_file), Path(templates) if templates else None
    if folder is not None and not folder.is_dir():
        return fail(f"--templates {templates!r} is not a folder")
    try:
        files = local_fund_files(path, folder)
    except OSError as err:
        return fail(f"cannot read {err.filename or path}: {err.strerror}")

    def as_given(line: str) -> str:  # the bot names the files as they are on GitHub; here, as given
        line = line.replace(FUND_FILE, str(path), 1) if line.startswith(FUND_FILE) else line
        return line.replace(FUND_TEMPLATES, str(folder), 1) if folder and line.startswith(FUND_TEMPLATES) else line

    target = extends_of(files)
    if target is not None:
        print(f"note: {path}: _extends: {target!r} names a file on GitHub, which is not read offline: this checks "
              f"{path} over the server's rules alone (`fundbot validate --repo OWNER/NAME` follows it)")
    problems: list[str] = []
    try:
        rules = rules_from(server, files)
    except RulesError as err:
        problems += [as_given(line) for line in err.errors]
    if folder is not None:
        problems += [line for name, found in files.files.items() if found is not None and name != FUND_FILE
                     for line in validate_template_file(folder / Path(name).name)]
    problems = list(dict.fromkeys(problems))
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {path}{f' and {folder}' if folder else ''}", file=sys.stderr)
        return 1
    forms = f" and the forms in {folder}" if folder else ""
    print(f"{path}{forms}: valid over the server's rules in {rules_dir or settings.rules_dir}"
          f"{' (without the file _extends names)' if target is not None else ''}")
    for line in effective_lines(rules, only_the_funds=True):
        print(f"  {as_given(line.replace(f'({FUND_FILE})', f'({path})'))}")
    return 0


def cmd_schema(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """`fundbot schema`: the JSON schema of `.github/fund-bot.yml` (as the documentation site publishes it)."""
    from bot.config.fund_schema import fund_file_schema

    print(json.dumps(fund_file_schema(), indent=2, ensure_ascii=False))
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
