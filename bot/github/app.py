"""The GitHub App: gateways made per installation (webhooks), per repository (the sweep) or per token
(CLI), installation tokens cached until shortly before they expire, the App's JWT.

The only module that imports PyGithub: it gives us App authentication (the JWT), GitHub Enterprise
base URLs and the HTTP session; `bot.github.transport` sends every request through its requester.
No hidden throttling: PyGithub's 0.25 s / 1 s sleeps are off for deliveries and set deliberately for
bulk work (the sweep asks for `throttle_writes`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from github import Auth, Github

from bot.github.gateway import GitHubGateway
from bot.github.pacing import Limits, LocalPacer, Pacer
from bot.github.transport import (
    PER_PAGE, ConditionalCache, GitHubError, GitHubUnavailable, NotFound, RetryPolicy, Transport, parse_link, repo_path,
)
from bot.policy.models import parse_time

TOKEN_REFRESH_MARGIN = dt.timedelta(minutes=5)  # installation tokens live 1 h; renew a little early
_CLOCK_CLAIM = re.compile(r"claim \('(?:exp|iat)'\)")  # GitHub's 401 for a JWT dated too far from its own time


class AppRefused(GitHubError):
    """GitHub refused the App's own credentials (its JWT, 401): the App ID and the key do not belong
    together, or this machine's clock is far from GitHub's. `str()` says which setting to check."""

    def __init__(self, err: GitHubError) -> None:
        super().__init__(err.status, err.message, err.data)
        hint = ("this machine's clock is off: GitHub takes the App's token only if it is dated near GitHub's own "
                "time; set the clock (NTP)") if _CLOCK_CLAIM.search(err.message) else \
            ("check GITHUB_APP_ID (the App ID on the App's settings page) and that GITHUB_PRIVATE_KEY (or the file "
             "GITHUB_PRIVATE_KEY_PATH names) is a private key of that App")
        self.args = (f"GitHub refused the App's credentials ({err.status} {err.message}): {hint}",)


class NotInstalled(NotFound):
    """`GET /repos/{owner}/{repo}/installation` answered 404: the App is not installed on that repository
    (or it does not exist). `str()` says what to do."""

    def __init__(self, err: GitHubError, repo: str) -> None:
        super().__init__(err.status, err.message, err.data)
        self.repo = repo
        self.args = (f"the App is not installed on {repo} (GitHub answered {err.status} {err.message}): install it "
                     f"there (the App's page, \"Install App\"), or check the repository's name (FUNDBOT_REPO, "
                     "--repo)",)


class InstallationGone(GitHubError):
    """An installation's token could not be made (404): the App was uninstalled there. Not a `NotFound`:
    a gateway must not take it for a missing file or issue."""

    def __init__(self, err: GitHubError, installation_id: int) -> None:
        super().__init__(err.status, err.message, err.data)
        self.args = (f"the App's installation {installation_id} is gone (GitHub answered {err.status} {err.message}):"
                     " it was uninstalled, or GITHUB_APP_ID names another App",)


def _as_app(request: Callable[..., Any], verb: str, url: str, **kw: Any) -> Any:
    """A request as the App (its JWT), with GitHub's refusal of its credentials said as such."""
    try:
        return request(verb, url, **kw)
    except GitHubUnavailable:
        raise
    except GitHubError as err:
        if err.status == 401:
            raise AppRefused(err) from None
        raise


class AppSettings(Protocol):
    """What the App reads of the settings (`bot.config.settings.Settings` has it all): named here, not
    imported, because github does not import config (tests/test_layout.py)."""

    @property
    def api_url(self) -> str: ...

    @property
    def app_id(self) -> int | None: ...

    @property
    def private_key(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...

    @property
    def max_retry_wait(self) -> float: ...

    @property
    def content_limits(self) -> tuple[int, int]: ...

    @property
    def has_app(self) -> bool: ...


class InstallationTokens:
    """Installation access tokens, cached until shortly before they expire (thread-safe)."""

    def __init__(self, app_transport: Transport, clock: Callable[[], dt.datetime]) -> None:
        self._transport = app_transport
        self._clock = clock
        self._tokens: dict[int, tuple[str, dt.datetime]] = {}
        self._lock = threading.Lock()

    def token(self, installation_id: int) -> str:
        """:calls: `POST /app/installations/{installation_id}/access_tokens` when none is cached"""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - TOKEN_REFRESH_MARGIN > self._clock():
                return cached[0]
            try:
                data = _as_app(self._transport.request, "POST",
                               f"/app/installations/{installation_id}/access_tokens").data
            except NotFound as err:
                raise InstallationGone(err, installation_id) from None
            expires = parse_time(data.get("expires_at")) or self._clock() + dt.timedelta(hours=1)
            self._tokens[installation_id] = (data["token"], expires)
            return data["token"]

    def forget(self, installation_id: int) -> None:
        """Drop the cached token (GitHub refused it); the next `token()` fetches a new one."""
        with self._lock:
            self._tokens.pop(installation_id, None)


@dataclass
class GitHubApp:
    """Makes gateways: per installation (webhooks), per repository (the sweep) or per token (CLI)."""

    settings: AppSettings
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    sleep: Callable[[float], None] = time.sleep
    policy: RetryPolicy | None = None
    pacer: Pacer | None = None  # content writes paced per installation (a LocalPacer unless given)

    def __post_init__(self) -> None:
        if self.pacer is None:
            self.pacer = LocalPacer(Limits.under(*self.settings.content_limits))
        self._policy = self.policy or RetryPolicy(max_wait=self.settings.max_retry_wait)
        self._caches: dict[str, ConditionalCache] = {}
        self._installations: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tokens: InstallationTokens | None = None
        self._logins: dict[str, str] = {}  # scope -> the login that scope writes as
        if self.settings.has_app:
            # Parse the PEM once: PyJWT would parse it again for every JWT (~40 ms for RSA-2048).
            key = serialization.load_pem_private_key(self.settings.private_key.encode(), password=None)
            app_auth = Auth.AppAuth(self.settings.app_id, lambda: key)
            app_github = self._github(app_auth, throttle_writes=False)
            self._app_transport = self._transport(lambda: app_github.requester, scope="app")
            self._tokens = InstallationTokens(self._app_transport, self.clock)

    def for_installation(self, installation_id: int, *, throttle_writes: bool = False) -> GitHubGateway:
        """A gateway acting as the installation; the token is fetched or reused per request."""
        if self._tokens is None:
            if self.settings.token:
                return self.for_token(self.settings.token, throttle_writes=throttle_writes)
            raise GitHubError(0, "no GitHub App credentials configured")
        tokens = self._tokens
        current: dict[str, Any] = {}

        def requester() -> Any:
            token = tokens.token(installation_id)
            if current.get("token") != token:  # a new token (first use, or renewed): a new session
                current["token"] = token
                current["github"] = self._github(Auth.Token(token), throttle_writes=throttle_writes)
            return current["github"].requester

        return self._gateway(self._transport(requester, scope=f"installation:{installation_id}",
                                             renew=lambda: tokens.forget(installation_id)), self.app_login)

    def for_repository(self, full_name: str, *, throttle_writes: bool = False) -> GitHubGateway:
        """:calls: `GET /repos/{owner}/{repo}/installation` (once per process) to find the installation"""
        if self._tokens is None:
            if not self.settings.token:
                raise GitHubError(0, "no GitHub credentials configured")
            return self.for_token(self.settings.token, throttle_writes=throttle_writes)
        with self._lock:
            installation_id = self._installations.get(full_name.lower())
        if installation_id is None:
            try:
                data = _as_app(self._app_transport.request, "GET", f"{repo_path(full_name)}/installation").data
            except NotFound as err:
                raise NotInstalled(err, full_name) from None
            installation_id = int(data["id"])
            with self._lock:
                self._installations[full_name.lower()] = installation_id
        return self.for_installation(installation_id, throttle_writes=throttle_writes)

    def for_token(self, token: str | None, *, throttle_writes: bool = False) -> GitHubGateway:
        """A gateway acting as a personal token, or anonymously (60 requests an hour) without one."""
        github = self._github(Auth.Token(token) if token else None, throttle_writes=throttle_writes)
        transport = self._transport(lambda: github.requester, scope="token" if token else "anonymous")
        return self._gateway(transport, (lambda: self._token_login(transport)) if token else (lambda: ""))

    def installations(self) -> list[int]:
        """:calls: `GET /app/installations?per_page=100` (every page, as the App): where the App is installed"""
        if self._tokens is None:
            return []
        ids: list[int] = []
        url: str | None = "/app/installations"
        params: Mapping[str, Any] | None = {"per_page": PER_PAGE}
        while url:
            response = _as_app(self._app_transport.request, "GET", url, params=params)
            ids += [int(i["id"]) for i in response.data or []]
            url = parse_link(response.headers.get("link")).get("next")
            params = None
        return ids

    def installation_of(self, full_name: str) -> int | None:
        """The installation a repository's deliveries came from, if this process has seen it."""
        with self._lock:
            return self._installations.get(full_name.lower())

    def remember_installation(self, full_name: str, installation_id: int) -> None:
        with self._lock:
            self._installations[full_name.lower()] = installation_id

    def app_login(self) -> str:
        """:calls: `GET /app` (once per process): the App writes as `<slug>[bot]`."""
        with self._lock:
            known = self._logins.get("app")
        if known is None:
            data = _as_app(self._app_transport.request, "GET", "/app").data
            known = f"{data['slug']}[bot]"
            with self._lock:
                self._logins["app"] = known
        return known

    def _token_login(self, transport: Transport) -> str:
        """:calls: `GET /user` (once per process): a token writes as its user."""
        with self._lock:
            known = self._logins.get("token")
        if known is None:
            known = str(transport.request("GET", "/user").data["login"])
            with self._lock:
                self._logins["token"] = known
        return known

    def _gateway(self, transport: Transport, login: Callable[[], str]) -> GitHubGateway:
        return GitHubGateway(transport, login, sleep=self.sleep, policy=self._policy, pacer=self.pacer)

    def save_caches(self, path: Path) -> None:
        """Keep the conditional-request caches in a file, so that the next process (a scheduled
        `fundbot sweep`) is answered by 304s where nothing changed."""
        with self._lock:
            data = {scope: cache.dump() for scope, cache in self._caches.items() if scope != "app"}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def load_caches(self, path: Path) -> None:
        """Read a file written by `save_caches`; a missing or unreadable one is simply not used."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            for scope, entries in data.items():
                try:
                    self._caches.setdefault(scope, ConditionalCache()).load(entries)
                except (TypeError, ValueError):
                    self._caches.pop(scope, None)

    def _transport(self, requester_factory: Callable[[], Any], scope: str,
                   renew: Callable[[], None] | None = None) -> Transport:
        with self._lock:
            cache = self._caches.setdefault(scope, ConditionalCache())
        return Transport(requester_factory, scope=scope, cache=cache, policy=self._policy, sleep=self.sleep,
                         renew=renew)

    def _github(self, auth: Any, *, throttle_writes: bool) -> Github:
        # Deliberate throttling (SPEC §10): none while answering a delivery (a handful of
        # requests); one second between writes for bulk work, as GitHub's best practices ask.
        return Github(
            auth=auth,
            base_url=self.settings.api_url,
            retry=None,
            timeout=10,
            per_page=PER_PAGE,
            seconds_between_requests=None,
            seconds_between_writes=1.0 if throttle_writes else None,
            user_agent="fund-bot",
        )
