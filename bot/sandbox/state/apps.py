"""The GitHub App: its registration (directly, or by GitHub's App-manifest flow), its installations and
the repositories they reach, and the installation tokens its JWT is exchanged for.
https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest"""
from __future__ import annotations

import functools
import json
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization

from .. import deliveries, render, render_apps
from ..deliveries import Delivery
from ..model import App, Installation, Repo, Token
from .errors import not_found


@dataclass(frozen=True)
class ManifestCode:
    """What GitHub keeps between a person confirming an App manifest and the code's conversion."""

    manifest: Mapping[str, Any]
    owner: str
    expires_at: datetime


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


class Apps:
    """The sandbox's part that knows the App and where it is installed."""

    lock: threading.RLock
    app: App | None
    _installations: dict[int, Installation]
    _manifest_codes: dict[str, ManifestCode]  # code -> what it converts into (good once, for an hour)
    _tokens: dict[str, Token]
    _repos: dict[int, Repo]

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
        from ..keys import throwaway_app_key

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

    # -- installations -------------------------------------------------------------------------

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

    def installation_for(self, repo: Repo) -> Installation | None:
        return next((i for i in self._installations.values() if repo.id in i.repo_ids), None)

    def installation(self, installation_id: int) -> Installation | None:
        return self._installations.get(installation_id)

    def installations(self) -> list[Installation]:
        return sorted(self._installations.values(), key=lambda i: i.id)

    # -- installation tokens -------------------------------------------------------------------

    def create_installation_token(self, installation_id: int, urls: render.Urls) -> dict:
        """A fresh random token for the installation, valid one hour by the sandbox clock."""
        inst = self._installations.get(installation_id)
        if inst is None:
            raise not_found()
        value = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "b")[:36]
        expires = self.now() + timedelta(hours=1)
        self._tokens[value] = Token(value, installation_id=inst.id, expires_at=expires)
        repos = [render.repository(self._repos[i], urls, None) for i in sorted(inst.repo_ids)]
        return render_apps.installation_token(value, expires, repos)

    def issued_tokens(self) -> list[str]:
        """Every installation token handed out so far, for tests that check none leaks (into a log)."""
        with self.lock:
            return [t.value for t in self._tokens.values() if t.installation_id is not None]

    def app_json(self) -> dict | None:
        return render_apps.app(self.app, self.urls()) if self.app else None
