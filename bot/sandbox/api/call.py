"""What a handler of the sandbox's REST API sees and answers: the ``Call`` (who asks, about which
repository, with which parameters and body, and the checks GitHub makes of them), the ``Reply`` or
``Listing`` it answers with, and the ``Route`` that leads to it."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import render, render_apps
from ..model import Account, Issue, Repo
from ..state.auth import Principal
from ..state.errors import Rejected
from ..state.sandbox import SandboxState


@dataclass(frozen=True)
class Reply:
    """A handler's answer; ``body=None`` sends no body (204). With ``media_type`` the body is the
    bytes of that type (a raw file), else it is sent as JSON."""

    status: int = 200
    body: Any = None
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # a redirect's `Location`


@dataclass(frozen=True)
class Listing:
    """A list answer, paginated by the dispatcher; only the page's items are rendered."""

    items: Sequence[Any]
    render: Callable[[Any], dict]
    wrap: Callable[[list[dict], int], Any] | None = None  # (page, total) -> body, for `{total_count, …}` lists


@dataclass
class Call:
    """One request as a handler sees it: who, which repository, parameters and body."""

    sandbox: SandboxState
    principal: Principal
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    urls: render.Urls
    method: str = "GET"
    repo: Repo | None = None
    accept: str = ""  # the Accept header: a media type GitHub offers for some resources

    @property
    def actor(self) -> Account:
        """Who writes: the user, or for an installation token the app's bot user."""
        return self.principal.account

    @property
    def via_app(self) -> bool:
        return self.principal.kind == "installation"

    @property
    def app(self) -> dict | None:
        """The App as ``performed_via_github_app`` shows it."""
        return render_apps.app(self.sandbox.app, self.urls) if self.sandbox.app else None

    def issue(self) -> Issue:
        """The issue in the path: 410 once deleted, a redirect once transferred, 404 if none."""
        return self.sandbox.issue_at(self.repo, int(self.params["issue_number"]))

    def require(self, role: str) -> None:
        self.sandbox.require(self.principal, self.repo, role)

    def may(self, role: str) -> bool:
        return self.sandbox.may(self.principal, self.repo, role)

    def fields(self, allowed: set[str]) -> dict:
        """The JSON body's fields; one the sandbox does not model is refused, not ignored."""
        body = self.body if isinstance(self.body, dict) else {}
        unmodelled = sorted(set(body) - allowed)
        if unmodelled:
            raise Rejected(422, "Invalid request.", reason=f"the sandbox does not model body field(s) "
                           f"{', '.join(unmodelled)} (it knows {', '.join(sorted(allowed))})")
        return body

    def since(self, name: str = "since") -> datetime | None:
        value = self.query.get(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected(422, f"Invalid value for `{name}`", reason=f"`{name}`={value!r} is not an ISO 8601 timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def required(self, body: dict, name: str) -> Any:
        if body.get(name) is None:
            raise Rejected(422, "Invalid request.", reason=f"`{name}` is required")
        return body[name]

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")

    def issue_json(self, issue: Issue) -> dict:
        return render.issue(issue, self.urls, self.app)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Callable[[Call], Reply | Listing]
    params: frozenset[str] = field(default_factory=frozenset)
    auth: str = "token"  # token: installation/personal token (or none for public reads); jwt: the app; none
