"""Which repositories are funds, each fund's rules, and the issues the App keeps in a fund's repository.

A repository where the App is installed and `.github/fund-bot.yml` exists is a fund (SPEC §13);
`FUNDBOT_REPO` narrows the deployment to one repository, which is then a fund with or without the
file. A fund's rules are the server's, with the sections its file holds replaced, and its own issue
forms (`bot.policy.rules.fund_rules`). They are read with conditional requests (304s, free against
the rate limit) at most every `ttl` seconds per process, and at once after a `push` that touches
them.

An invalid configuration is never used and never silently replaced: the bot acts by the last valid
configuration of that repository — known to this process, or recorded by blob sha in the fund-state
issue, so a restart keeps it — or, if there never was one, does nothing there; and it keeps exactly
one issue open listing every problem, updated as the files change and closed once they are fixed.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.github.app import GitHubApp
from bot.github.data import RepoFile
from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.configissue import CONFIG_ISSUE_TITLE, render_fixed, render_problems
from bot.policy.fundstate import FUND_STATE_TITLE, FundState, decode, render
from bot.policy.i18n import translator
from bot.policy.markers import CONFIG_ISSUE_MARKER, FUND_STATE_MARKER, own_issues
from bot.policy.models import Issue
from bot.config.files import APPLICATION_TEMPLATE, FUND_TEMPLATES, REPORT_TEMPLATE, TEMPLATE_FILES, translations_of
from bot.config.rules import fund_rules
from bot.policy.rules import FUND_FILE, Rules, RulesError
from bot.policy.seal import fund_state_holds, fund_state_seal

log = logging.getLogger("fundbot.funds")
TEMPLATE_PATHS = {name: f"{FUND_TEMPLATES}/{name}" for name in TEMPLATE_FILES}
CONFIG_PATHS = (FUND_FILE, *TEMPLATE_PATHS.values())


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


@dataclass
class _Entry:
    config: FundConfig
    expires: float


def config_files(gateway: GitHubGateway, repo: str) -> dict[str, RepoFile | None]:
    """The fund's configuration files as they are now (conditional reads: 304s when unchanged). A form's
    translations are read only with the fund's own form (else the server's forms and theirs serve): a
    fund without forms of its own costs no request for them (a 404 is not free)."""
    files = {path: gateway.file(repo, path)
             for path in (FUND_FILE, TEMPLATE_PATHS[APPLICATION_TEMPLATE], TEMPLATE_PATHS[REPORT_TEMPLATE])}
    for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE):
        if files[TEMPLATE_PATHS[base]] is not None:
            files.update({TEMPLATE_PATHS[n]: gateway.file(repo, TEMPLATE_PATHS[n]) for n in translations_of(base)})
    return files


def rules_from(server_rules: Rules, files: Mapping[str, RepoFile | None]) -> Rules:
    """The rules those files make with the server's; raises `RulesError` listing every problem."""
    fund_file = files.get(FUND_FILE)
    templates = {name: (f.text if (f := files.get(path)) else None) for name, path in TEMPLATE_PATHS.items()}
    return fund_rules(server_rules, fund_file.text if fund_file else None, templates)


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
        self._lock = threading.Lock()
        self.states = FundStates(seal_key, seal_previous)

    def config(self, gateway: GitHubGateway, repo: str, *, fresh: bool = False) -> FundConfig:
        """`repo` as a fund (reading its files when the cached answer is older than the TTL)."""
        key = repo.lower()
        if self.narrow_to and key != self.narrow_to.lower():
            return FundConfig(repo, None, is_fund=False)
        with self._lock:
            entry = self._entries.get(key)
            if entry and not fresh and self._monotonic() < entry.expires:
                return entry.config
        config = self._read(gateway, repo, entry.config if entry else None)
        with self._lock:
            self._entries[key] = _Entry(config, self._monotonic() + self.ttl)
        return config

    def invalidate(self, repo: str) -> None:
        """The fund's files changed (a push): read them again at the next delivery."""
        with self._lock:
            self._entries.pop(repo.lower(), None)

    def forget(self, repo: str) -> None:
        """The App was removed from `repo`: nothing of it is kept."""
        with self._lock:
            self._entries.pop(repo.lower(), None)
            self._last_valid.pop(repo.lower(), None)
        self.states.forget(repo)

    def _read(self, gateway: GitHubGateway, repo: str, known: FundConfig | None) -> FundConfig:
        files = config_files(gateway, repo)
        if files[FUND_FILE] is None and not self.narrow_to:
            return FundConfig(repo, None, is_fund=False)
        shas = {path: f.sha for path, f in files.items() if f is not None}
        if known is not None and known.is_fund and dict(known.shas) == shas:
            return known  # unchanged (the reads were 304s)
        try:
            rules = rules_from(self.server_rules, files)
        except RulesError as err:
            return self._invalid(gateway, repo, tuple(dict.fromkeys(err.errors)), shas)
        except Exception as err:  # a check that should have said so raised instead: still a problem of this fund's files
            log.exception("reading the fund's configuration raised", extra={"repo": repo})
            return self._invalid(gateway, repo, (f"{FUND_FILE}: could not be read ({type(err).__name__}: {err})"[:500],),
                                 shas)
        with self._lock:
            self._last_valid[repo.lower()] = (rules, shas)
        if shas or (known is not None and known.problems):  # the server's rules alone: nothing to record
            self._valid_now(gateway, repo, rules, shas)
        return FundConfig(repo, rules, (), shas)

    def reconcile(self, gateway: GitHubGateway, repo: str) -> FundConfig:
        """Read the fund's configuration afresh and put the issues that speak of it in step (the sweep,
        and a new installation, do this): the configuration issue open exactly while it is invalid."""
        config = self.config(gateway, repo, fresh=True)
        if config.is_fund and not config.problems and config.rules is not None:
            self._valid_now(gateway, repo, config.rules, config.shas)
        return config

    def _invalid(self, gateway: GitHubGateway, repo: str, problems: tuple[str, ...],
                 shas: Mapping[str, str]) -> FundConfig:
        with self._lock:
            last = self._last_valid.get(repo.lower())
        if last is None:
            last = self._recorded_valid(gateway, repo)
        rules = last[0] if last else None
        log.warning("the fund's configuration is invalid", extra={"repo": repo, "reason": f"{len(problems)} problems"})
        try:
            self._problems_issue(gateway, repo, rules or self.server_rules, problems, acting=last is not None)
        except GitHubError as err:
            log.warning("could not open the configuration issue", extra={"repo": repo, "reason": str(err)})
        return FundConfig(repo, rules, problems, shas, last_valid=rules is not None)

    def _recorded_valid(self, gateway: GitHubGateway, repo: str) -> tuple[Rules, Mapping[str, str]] | None:
        """The configuration the fund-state issue records as last valid, read back by blob sha."""
        try:
            state, _ = self.states.read(gateway, repo, self.server_rules)
        except GitHubError:
            return None
        if not state.config or not state.verified:  # an edited record of it points nowhere we trust
            return None
        texts = {path: gateway.blob(repo, sha) for path, sha in state.config.items()}
        templates = {name: texts.get(path) for name, path in TEMPLATE_PATHS.items()}
        try:
            rules = fund_rules(self.server_rules, texts.get(FUND_FILE), templates)
        except RulesError:
            return None
        with self._lock:
            self._last_valid[repo.lower()] = (rules, dict(state.config))
        return rules, dict(state.config)

    def _valid_now(self, gateway: GitHubGateway, repo: str, rules: Rules, shas: Mapping[str, str]) -> None:
        """Record the valid configuration in the fund-state issue (once per change), and close the
        configuration issue if one is open."""
        try:
            state, number = self.states.read(gateway, repo, rules)
            if dict(state.config) != dict(shas):
                self.states.write(gateway, repo, rules, dataclasses.replace(state, config=dict(shas)), number)
            found = self._config_issue(gateway, repo, rules)
            if found is not None and found.state == "open":
                gateway.update_issue(repo, found.number, body=render_fixed(translator(rules.language)), state="closed",
                                     state_reason="completed")
        except GitHubError as err:
            log.warning("could not record the valid configuration", extra={"repo": repo, "reason": str(err)})

    def _problems_issue(self, gateway: GitHubGateway, repo: str, rules: Rules, problems: tuple[str, ...],
                        acting: bool) -> None:
        tr = translator(rules.language)  # the last valid configuration's, else the server's
        body = render_problems(problems, acting_on_last_valid=acting, tr=tr)
        found = self._config_issue(gateway, repo, rules)
        label = rules.stages.labels.bot.name
        if found is None:
            gateway.create_issue(repo, tr.gettext(CONFIG_ISSUE_TITLE), body, labels=(label,), marker=CONFIG_ISSUE_MARKER)
        elif found.body != body or found.state != "open":
            gateway.update_issue(repo, found.number, body=body, state="open")

    @staticmethod
    def _config_issue(gateway: GitHubGateway, repo: str, rules: Rules) -> Issue | None:
        """:calls: `GET /repos/{o}/{r}/issues?labels=<labels.bot>&state=all` (conditional)"""
        listed = gateway.issues(repo, labels=rules.stages.labels.bot.name, state="all")
        mine = own_issues(listed, gateway.app_login, CONFIG_ISSUE_MARKER)
        return mine[0] if mine else None


class FundStates:
    """The fund-state issue of each fund: found once per process, then read with one conditional request;
    its data sealed with `seal_key` (`bot.policy.seal`), so a ledger edited by hand is known as such."""

    def __init__(self, seal_key: bytes | None = None, previous: tuple[bytes, ...] = ()) -> None:
        self._numbers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._key = seal_key
        self._previous = previous  # accepted too, while the App's private key is rotated

    def _decode(self, repo: str, body: str) -> FundState:
        stale: list[bool] = []  # sealed with the previous key only: to be written again with the current one

        def holds(payload: str, signature: str | None) -> bool:
            if fund_state_holds(self._key, repo, payload, signature):
                return True
            stale.append(bool(self._previous) and fund_state_holds(self._key, repo, payload, signature,
                                                                   self._previous))
            return stale[-1]

        state = decode(body, holds)
        if state is not None and any(stale):
            state = dataclasses.replace(state, stale_seal=True)
        if state is not None and not state.verified:
            log.warning("the fund-state issue failed its seal: its ledger is not used until the sweep rebuilds it",
                        extra={"repo": repo})
        return state or FundState()

    def forget(self, repo: str) -> None:
        with self._lock:
            self._numbers.pop(repo.lower(), None)

    def read(self, gateway: GitHubGateway, repo: str, rules: Rules) -> tuple[FundState, int | None]:
        """:calls: `GET /repos/{o}/{r}/issues/{n}` (conditional) — or, the first time in this process,
        the listing of the App's issues to find it. A fund without one has an empty state."""
        with self._lock:
            number = self._numbers.get(repo.lower())
        if number is not None:
            issue = gateway.issue(repo, number)
            if issue.user.login.lower() == gateway.app_login.lower() and FUND_STATE_MARKER in issue.body:
                return self._decode(repo, issue.body), number
        listed = gateway.issues(repo, labels=rules.stages.labels.bot.name, state="all")
        mine = own_issues(listed, gateway.app_login, FUND_STATE_MARKER)
        if not mine:
            return FundState(), None
        with self._lock:
            self._numbers[repo.lower()] = mine[0].number
        return self._decode(repo, mine[0].body), mine[0].number

    def write(self, gateway: GitHubGateway, repo: str, rules: Rules, state: FundState, number: int | None) -> int:
        """:calls: `PATCH /repos/{o}/{r}/issues/{n}`, or `POST …/issues` the first time"""
        tr = translator(rules.language)
        key = self._key
        body = render(state, rules.funding.currency, tr,
                      None if key is None else lambda payload: fund_state_seal(key, repo, payload))
        if number is None:
            label = rules.stages.labels.bot.name
            issue = gateway.create_issue(repo, tr.gettext(FUND_STATE_TITLE), body, labels=(label,),
                                         marker=FUND_STATE_MARKER)
            if not issue.has_label(label):
                gateway.add_labels(repo, issue.number, (label,))
            number = issue.number
        else:
            gateway.update_issue(repo, number, body=body)
        with self._lock:
            self._numbers[repo.lower()] = number
        return number


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
