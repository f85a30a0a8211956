"""Which repositories are funds, and the rules each fund is run by (SPEC §13).

A repository where the App is installed and `.github/fund-bot.yml` exists is a fund; `FUNDBOT_REPO`
narrows the deployment to one repository, which is then a fund with or without the file. A fund's
rules are the server's, with the sections its file holds replaced, and its own issue forms
(`bot.config.rules.fund_rules`). They are read with conditional requests (304s, free against the rate
limit) at most every `ttl` seconds per process, and at once after a `push` that touches them.

An invalid configuration is never used and never silently replaced: the bot acts by the last valid
configuration of that repository — known to this process, or recorded by blob sha in the fund-state
issue, so a restart keeps it — or, if there never was one, does nothing there. Reading never writes:
the configuration issue and the record of the valid configuration are kept in step by
`bot.jobs.fund_setup`, from what this hands back.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.config.fund_files import read_fund_files, rules_from, rules_from_texts
from bot.config.teams_check import team_problems
from bot.github.app import GitHubApp
from bot.github.gateway import GitHubGateway
from bot.github.own_issues import OwnIssues
from bot.github.transport import GitHubError
from bot.policy.fundstate import SERVER_RULES
from bot.policy.not_a_fund import NotAFund
from bot.policy.rules import FUND_FILE, Rules, RulesError

log = logging.getLogger("fundbot.funds")


@dataclass(frozen=True)
class FundConfig:
    """A repository as a fund: the rules the bot acts by there (None: it acts on nothing there), the
    problems of its configuration as it is now, and the blob shas it was read at."""

    repo: str
    rules: Rules | None
    problems: tuple[str, ...] = ()
    shas: Mapping[str, str] = field(default_factory=dict)
    is_fund: bool = True
    last_valid: bool = False  # `rules` are the last valid configuration, not the current (invalid) one
    changed: bool = False  # read now, and not what this process knew: the issues that speak of it may lag
    was_invalid: bool = False  # the configuration this process knew before had problems
    first: bool = False  # the first reading of it in this process (so nothing is known to have changed)
    why_not: NotAFund | None = None  # not a fund: why (no file of its own, FUNDBOT_REPO names another)

    @property
    def ignored(self) -> NotAFund | None:
        """Why the bot acts on nothing here, or None when it serves the repository."""
        if self.rules is not None:
            return None
        return self.why_not or NotAFund.NEVER_VALID


@dataclass
class _Entry:
    config: FundConfig
    expires: float


class Funds:
    """Every fund this process serves, with its rules, read again at most every `ttl` seconds."""

    def __init__(self, server_rules: Rules, *, narrow_to: str | None = None, ttl: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic, seal_key: bytes | None = None,
                 seal_previous: tuple[bytes, ...] = ()) -> None:
        self.server_rules = server_rules
        self.narrow_to = narrow_to
        self.ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}
        self._last_valid: dict[str, tuple[Rules, Mapping[str, str]]] = {}
        self._pushes: dict[str, float] = {}  # repo -> when a push last made its files be read
        self._lock = threading.Lock()
        self.issues = OwnIssues(seal_key, seal_previous)

    def config(self, gateway: GitHubGateway, repo: str, *, fresh: bool = False) -> FundConfig:
        """`repo` as a fund (reading its files when the cached answer is older than the TTL)."""
        key = repo.lower()
        if self.narrow_to and key != self.narrow_to.lower():
            return FundConfig(repo, None, is_fund=False, why_not=NotAFund.OTHER_REPO)
        with self._lock:
            entry = self._entries.get(key)
            if entry and not fresh and self._monotonic() < entry.expires:
                return entry.config
        config = self._read(gateway, repo, entry.config if entry else None)
        with self._lock:  # what is handed out later was read before: nothing in it is new then
            self._entries[key] = _Entry(dataclasses.replace(config, changed=False, first=False),
                                        self._monotonic() + self.ttl)
        return config

    def invalidate(self, repo: str) -> None:
        """The fund's files changed: read them again at the next delivery."""
        with self._lock:
            self._entries.pop(repo.lower(), None)

    def pushed(self, repo: str) -> bool:
        """A push touched the fund's files: True when they should be read now. The first push after a
        quiet TTL is read at once; later ones within the TTL are not — the files are read again when it
        ends — so a storm of pushes costs one reading of the files per TTL."""
        key, now = repo.lower(), self._monotonic()
        with self._lock:
            last = self._pushes.get(key)
            if last is not None and now - last < self.ttl:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.expires = min(entry.expires, last + self.ttl)
                return False
            self._pushes[key] = now
            self._entries.pop(key, None)
            return True

    def forget(self, repo: str) -> None:
        """The App was removed from `repo`: nothing of it is kept."""
        with self._lock:
            self._entries.pop(repo.lower(), None)
            self._last_valid.pop(repo.lower(), None)
        self.issues.forget(repo)

    def _read(self, gateway: GitHubGateway, repo: str, known: FundConfig | None) -> FundConfig:
        # Without FUNDBOT_REPO, a repository without the file is no fund: one request (a 404) says so.
        read = read_fund_files(gateway, repo, only_a_fund=not self.narrow_to)
        if read.own is None and not self.narrow_to:
            return FundConfig(repo, None, is_fund=False, why_not=NotAFund.NO_FILE)
        shas = dict(read.shas)
        if known is not None and known.is_fund and dict(known.shas) == shas:
            return dataclasses.replace(known, changed=False, first=False)
        was_invalid = bool(known is not None and known.problems)
        try:
            rules = rules_from(self.server_rules, read)
            missing = team_problems(gateway, rules)  # a team no one could be found in
            if missing:
                raise RulesError(missing)
        except RulesError as err:
            return self._invalid(gateway, repo, tuple(dict.fromkeys(err.errors)), shas, was_invalid, known)
        except Exception as err:  # a check that should have said so raised instead: still a problem of this fund's files
            log.exception("reading the fund's configuration raised", extra={"repo": repo})
            return self._invalid(gateway, repo, (f"{FUND_FILE}: could not be read ({type(err).__name__}: {err})"[:500],),
                                 shas, was_invalid, known)
        with self._lock:
            self._last_valid[repo.lower()] = (rules, shas)
        return FundConfig(repo, rules, (), shas, changed=True, was_invalid=was_invalid, first=known is None)

    def _invalid(self, gateway: GitHubGateway, repo: str, problems: tuple[str, ...], shas: Mapping[str, str],
                 was_invalid: bool, known: FundConfig | None) -> FundConfig:
        """An invalid configuration is never used: the last valid one is (this process's, else the one the
        fund-state issue records, else — for a fund that needs no file of its own — the server's rules)."""
        with self._lock:
            last = self._last_valid.get(repo.lower())
        if last is None:
            last = self._recorded_valid(gateway, repo)
        if last is None and self.narrow_to:
            last = (self.server_rules, {})
        rules = last[0] if last else None
        log.warning("the fund's configuration is invalid", extra={"repo": repo, "reason": f"{len(problems)} problems"})
        return FundConfig(repo, rules, problems, shas, last_valid=rules is not None, changed=True,
                          was_invalid=was_invalid, first=known is None)

    def _recorded_valid(self, gateway: GitHubGateway, repo: str) -> tuple[Rules, Mapping[str, str]] | None:
        """The configuration the fund-state issue records as last valid, read back by blob sha (the files it
        extends from their own repositories); the server's rules when that is what it records."""
        try:
            state = self.issues.fund_state(gateway, repo, self.server_rules.stages.labels.bot.name).state
        except GitHubError:
            return None
        if not state.config or not state.verified:  # an edited record of it points nowhere we trust
            return None
        if set(state.config) == {SERVER_RULES}:
            return self.server_rules, {}
        texts = {path: gateway.blob(*(path.split(":", 1)[0], sha) if ":" in path else (repo, sha))
                 for path, sha in state.config.items()}
        try:
            rules = rules_from_texts(self.server_rules, repo, texts)
        except RulesError:
            return None
        with self._lock:
            self._last_valid[repo.lower()] = (rules, dict(state.config))
        return rules, dict(state.config)


@dataclass(frozen=True)
class FundRef:
    """A fund found by walking the App's installations: where it is, and which installation serves it."""

    repo: str
    installation_id: int | None  # None: a token's access (`GITHUB_TOKEN`), not an installation


def discover(github: GitHubApp, funds: Funds, *, failures: list[str] | None = None) -> list[FundRef]:
    """Every fund the App serves (SPEC §13): each installation (`GET /app/installations`), each of its
    repositories (`GET /installation/repositories`, with that installation's token), and among them
    those with `.github/fund-bot.yml` — or, with `FUNDBOT_REPO`, that repository alone. An installation
    that cannot be read is reported in `failures` and the walk goes on."""
    if funds.narrow_to:
        return [FundRef(funds.narrow_to, github.installation_of(funds.narrow_to))]
    found: list[FundRef] = []
    for installation_id in github.installations():
        try:
            gateway = github.for_installation(installation_id)
            for repo in gateway.installation_repositories():
                github.remember_installation(repo, installation_id)
                if funds.config(gateway, repo).is_fund:
                    found.append(FundRef(repo, installation_id))
        except GitHubError as err:
            (failures if failures is not None else []).append(f"installation {installation_id}: {err}")
            log.warning("could not walk an installation", extra={"installation": installation_id,
                                                                 "reason": str(err)})
    return found


@dataclass(frozen=True)
class Survey:
    """The repositories the App is installed on: those this deployment serves, those it ignores and why,
    and whether every one was examined (the walk stops at its limit)."""

    served: tuple[FundRef, ...]
    ignored: tuple[tuple[str, NotAFund], ...]
    complete: bool = True


def survey(github: GitHubApp, narrow_to: str | None, *, limit: int | None = None) -> Survey:
    """:calls: `GET /app/installations`, each installation's repositories, and — without `narrow_to` —
    each repository's `.github/fund-bot.yml` (one request: a fund's other files are not read), until
    `limit` repositories are examined (None: all). Raises `GitHubError` when the installations cannot be
    listed."""
    served: list[FundRef] = []
    ignored: list[tuple[str, NotAFund]] = []
    for installation_id in github.installations():
        gateway = github.for_installation(installation_id)
        for repo in gateway.installation_repositories():
            if limit is not None and len(served) + len(ignored) >= limit:
                return Survey(tuple(served), tuple(ignored), complete=False)
            github.remember_installation(repo, installation_id)
            if narrow_to and repo.lower() != narrow_to.lower():
                ignored.append((repo, NotAFund.OTHER_REPO))
            elif not narrow_to and gateway.file(repo, FUND_FILE) is None:
                ignored.append((repo, NotAFund.NO_FILE))
            else:
                served.append(FundRef(repo, installation_id))
    return Survey(tuple(served), tuple(ignored))


class FundDirectory:
    """The funds this deployment serves, for pages that list them (the dashboard): `discover` at most
    every `ttl` seconds, each fund's rules from `funds`, and a gateway acting as its installation."""

    def __init__(self, github: GitHubApp, funds: Funds, *, ttl: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._github = github
        self._funds = funds
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._found: list[FundRef] | None = None
        self._expires = 0.0

    def repos(self) -> list[str]:
        """Every fund's `OWNER/NAME`, sorted; raises `GitHubError` only if none could ever be listed."""
        with self._lock:
            if self._found is not None and self._monotonic() < self._expires:
                return [f.repo for f in self._found]
        failures: list[str] = []
        found = sorted(discover(self._github, self._funds, failures=failures), key=lambda f: f.repo.lower())
        with self._lock:
            if failures and not found and self._found is not None:
                found = self._found  # GitHub failed: keep the last list rather than show none
            self._found, self._expires = found, self._monotonic() + self._ttl
        return [f.repo for f in found]

    def find(self, repo: str) -> str | None:
        """`repo` as the fund spells it, or None when it is not one of this deployment's funds."""
        return next((r for r in self.repos() if r.lower() == repo.lower()), None)

    def gateway(self, repo: str) -> GitHubGateway:
        installation_id = self._github.installation_of(repo)
        if installation_id is not None:
            return self._github.for_installation(installation_id)
        return self._github.for_repository(repo)

    def rules(self, repo: str) -> Rules | None:
        """The rules `repo` is run by now (its own file merged with the server's), None if it has none."""
        return self._funds.config(self.gateway(repo), repo).rules
