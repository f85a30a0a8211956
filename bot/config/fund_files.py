"""A fund's configuration files as they are on GitHub: its own `.github/fund-bot.yml` and issue forms,
and the files its `_extends` names — an organisation's shared defaults (SPEC §13).

`_extends: .github` names the same file in the owner's `.github` repository, as Probot apps do;
`_extends: name` a repository of the same owner; `_extends: owner/name`, or `owner/name:path`, any
repository the App can read. A file it extends may extend another: at most two files deep, never in a
loop. Every file is read with a conditional request (a 304 costs nothing against the rate limit), and
none is ever taken for empty: a missing, unreadable or oversized one is a listed problem, naming the
file and the key to fix.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config.files import APPLICATION_TEMPLATE, FUND_TEMPLATES, REPORT_TEMPLATE, TEMPLATE_FILES, translations_of
from bot.config.fund_yaml import MAX_BYTES, FundYamlError, load_fund_yaml
from bot.config.layers import EXTENDS
from bot.config.rules import fund_rules
from bot.github.data import RepoFile
from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.rules import FUND_FILE, Rules, RulesError

TEMPLATE_PATHS = {name: f"{FUND_TEMPLATES}/{name}" for name in TEMPLATE_FILES}
CONFIG_PATHS = (FUND_FILE, *TEMPLATE_PATHS.values())
MAX_EXTENDS = 2  # files deep: a fund's file may extend one that extends one more
_TARGET = re.compile(r"(?:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/)?(?P<repo>[A-Za-z0-9._-]{1,100})(?::(?P<path>[^\s:]+))?")


@dataclass(frozen=True)
class FundFiles:
    """What a fund's configuration is made of, as read now: its own files, the files it extends (farthest
    first, as `owner/repo:path` and text), every file's blob sha, and what could not be read."""

    files: Mapping[str, RepoFile | None]
    bases: tuple[tuple[str, str], ...] = ()
    shas: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def own(self) -> RepoFile | None:
        return self.files.get(FUND_FILE)


def read_fund_files(gateway: GitHubGateway, repo: str, *, only_a_fund: bool = False) -> FundFiles:
    """:calls: the fund's files (`GET …/contents/{path}`, conditional), then each file `_extends` names.
    A form's translations are read only with the fund's own form (else the server's forms and theirs
    serve): a fund without forms of its own costs no request for them (a 404 is not free). With
    `only_a_fund`, a repository without `.github/fund-bot.yml` is no fund: nothing more is read."""
    own = gateway.file(repo, FUND_FILE)
    if own is None and only_a_fund:
        return FundFiles({FUND_FILE: None})
    files = {FUND_FILE: own, **{path: gateway.file(repo, path)
                                for path in (TEMPLATE_PATHS[APPLICATION_TEMPLATE], TEMPLATE_PATHS[REPORT_TEMPLATE])}}
    for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE):
        if files[TEMPLATE_PATHS[base]] is not None:
            files.update({TEMPLATE_PATHS[n]: gateway.file(repo, TEMPLATE_PATHS[n]) for n in translations_of(base)})
    shas = {path: f.sha for path, f in files.items() if f is not None}
    bases: list[tuple[str, str]] = []
    problems: list[str] = []
    own = files[FUND_FILE]
    if own is not None and own.text is not None and own.size <= MAX_BYTES:
        _extended(gateway, repo, FUND_FILE, own.text, bases, shas, problems, seen={f"{repo}:{FUND_FILE}".lower()})
    return FundFiles(files, tuple(reversed(bases)), shas, tuple(problems))


def _extended(gateway: GitHubGateway, repo: str, name: str, text: str, bases: list[tuple[str, str]],
              shas: dict[str, str], problems: list[str], seen: set[str]) -> None:
    """The file `text` (named `name`) extends, and what that one extends, appended to `bases`."""
    try:
        document = load_fund_yaml(text)
    except FundYamlError:
        return  # its own problem, said when its rules are read
    target = document.get(EXTENDS) if isinstance(document, dict) else None
    if target is None:
        return
    where = f"{name}: {EXTENDS}"
    match = _TARGET.fullmatch(target.strip()) if isinstance(target, str) else None
    if match is None:
        problems.append(f"{where}: {str(target)[:100]!r} is not a repository (`.github`, `name`, `owner/name` or "
                        "`owner/name:path`)")
        return
    owner = match["owner"] or repo.split("/", 1)[0]
    base_repo, path = f"{owner}/{match['repo']}", match["path"] or FUND_FILE
    key = f"{base_repo}:{path}"
    if key.lower() in seen:
        problems.append(f"{where}: {target!r} leads back to {key}, which is already in the chain")
        return
    if len(bases) == MAX_EXTENDS:
        problems.append(f"{where}: {target!r} is a third file deep; at most {MAX_EXTENDS} files may be extended")
        return
    try:
        found = gateway.file(base_repo, path)
    except GitHubError as err:
        problems.append(f"{where}: {key} could not be read (GitHub answered {err.status} {err.message})")
        return
    if found is None:
        problems.append(f"{where}: {key} was not found, or is in a repository Fund Bot is not installed on")
        return
    if found.text is None or found.size > MAX_BYTES:
        problems.append(f"{where}: {key} is {found.size:,} bytes; at most {MAX_BYTES:,} are read")
        return
    bases.append((key, found.text))
    shas[key] = found.sha
    seen.add(key.lower())
    _extended(gateway, base_repo, key, found.text, bases, shas, problems, seen)


def local_fund_files(fund_file: Path, templates_dir: Path | None = None) -> FundFiles:
    """A fund's files from disk, as `read_fund_files` has them from GitHub: `fund_file` in the place of
    `.github/fund-bot.yml`, and the forms `templates_dir` holds in the place of `.github/ISSUE_TEMPLATE/…`
    (a translation only with its form, as on GitHub). Nothing `_extends` names is read: it is on GitHub
    (`extends_of` says what it names). Raises `OSError` for a file that cannot be read."""
    paths = {FUND_FILE: fund_file}
    if templates_dir is not None:
        for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE):
            if (templates_dir / base).is_file():
                paths.update({TEMPLATE_PATHS[name]: templates_dir / name for name in (base, *translations_of(base))
                              if (templates_dir / name).is_file()})
    files: dict[str, RepoFile | None] = {path: None for path in TEMPLATE_PATHS.values()}
    for path, on_disk in paths.items():
        data = on_disk.read_bytes()
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None  # said as GitHub's file without content is: unreadable
        files[path] = RepoFile(path, "", text, len(data))
    return FundFiles(files)


def extends_of(files: FundFiles) -> str | None:
    """What the fund's own file's `_extends` names (as written), or None."""
    own = files.own
    if own is None or own.text is None:
        return None
    try:
        document = load_fund_yaml(own.text)
    except FundYamlError:
        return None
    target = document.get(EXTENDS) if isinstance(document, dict) else None
    return None if target is None else str(target)[:100]


def rules_from(server_rules: Rules, read: FundFiles) -> Rules:
    """The rules those files make with the server's; raises `RulesError` listing every problem."""
    oversized = [f"{path}: (top): the file is {f.size:,} bytes; at most {MAX_BYTES:,} are read"
                 for path, f in read.files.items() if f is not None and (f.text is None or f.size > MAX_BYTES)]
    if oversized:
        raise RulesError([*read.problems, *oversized])
    texts = {path: f.text if f is not None else None for path, f in read.files.items()}
    templates = {name: texts.get(path) for name, path in TEMPLATE_PATHS.items()}
    try:
        rules = fund_rules(server_rules, texts.get(FUND_FILE), templates, bases=read.bases)
    except RulesError as err:
        raise RulesError([*read.problems, *err.errors]) from None
    if read.problems:
        raise RulesError(list(read.problems))
    return rules


def rules_from_texts(server_rules: Rules, repo: str, texts: Mapping[str, str | None]) -> Rules:
    """The rules the files of `repo`'s recorded configuration make: its own files by path, and those it
    extends by `owner/repo:path` — put in order again by following each file's `_extends`."""
    bases: list[tuple[str, str]] = []
    text = texts.get(FUND_FILE)
    while text is not None and len(bases) <= MAX_EXTENDS:
        try:
            document = load_fund_yaml(text)
        except FundYamlError:
            break
        target = document.get(EXTENDS) if isinstance(document, dict) else None
        match = _TARGET.fullmatch(target.strip()) if isinstance(target, str) else None
        owner = (match["owner"] if match else None) or repo.split("/", 1)[0]
        key = f"{owner}/{match['repo']}:{match['path'] or FUND_FILE}" if match else ""
        found = next((k for k in texts if k.lower() == key.lower()), None) if key else None
        if found is None or texts[found] is None:
            break
        bases.append((found, texts[found]))  # type: ignore[arg-type]
        text, repo = texts[found], found.split(":", 1)[0]
    templates = {name: texts.get(path) for name, path in TEMPLATE_PATHS.items()}
    return fund_rules(server_rules, texts.get(FUND_FILE), templates, bases=tuple(reversed(bases)))
