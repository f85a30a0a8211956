"""Who a request acts as, and what it may do: credentials (a personal token, an installation token,
the App's JWT, or none) become a ``Principal`` with its rate-limit bucket; a private repository out of
the caller's reach is a 404, a write out of its reach a 403.
https://docs.github.com/rest/authentication/authenticating-to-the-rest-api"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import jwt

from ..model import Account, App, Installation, Repo, Token
from .errors import GitHubError, bad_credentials, not_found


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


class Access:
    """The sandbox's part that authenticates requests and checks what they may reach."""

    app: App | None
    _tokens: dict[str, Token]  # every token handed out or seeded, by its value

    def add_token(self, token: str, login: str) -> None:
        """A personal access token for ``login`` (what the CLI's ``GITHUB_TOKEN`` would be)."""
        with self.lock:
            self.account(login)
            self._tokens[token] = Token(token, login=login)

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
