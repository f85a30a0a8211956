"""Webhook deliveries: the payloads GitHub sends when something happens on an issue.

Each payload starts from a real example (``payloads/<event>.<action>.json``, from octokit's
collection; see ``payloads/SOURCES.md``) and takes its objects from the sandbox state: ``issue`` and
``comment`` are the REST shapes (plus any key the example has that REST lacks), ``repository`` has
exactly the example's keys, ``installation`` is ``{id, node_id}`` when the app is installed.
https://docs.github.com/webhooks/webhook-events-and-payloads#issues
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import render, render_apps

if TYPE_CHECKING:  # pragma: no cover - types only
    from .model import Account, App, Comment, Installation, Issue, Label, Repo

PAYLOADS = Path(__file__).with_name("payloads")


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: the ``X-GitHub-Event`` name, the JSON payload and the
    ``X-GitHub-Delivery`` GUID."""

    event: str
    payload: dict
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def action(self) -> str | None:
        return self.payload.get("action")

    def body(self) -> bytes:
        """The request body as GitHub sends it (compact JSON)."""
        return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False).encode()

    def headers(self, secret: str | None = None) -> dict[str, str]:
        """The request headers, signed over ``body()`` when a webhook secret is given.
        https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries"""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/sandbox",
            "X-GitHub-Event": self.event,
            "X-GitHub-Delivery": self.id,
            "X-GitHub-Hook-Installation-Target-Type": "integration",
        }
        if secret is not None:
            digest = hmac.new(secret.encode(), self.body(), hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        return headers


@cache
def _example(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def example(event: str, action: str) -> dict:
    """A fresh copy of the vendored example payload for ``event.action``."""
    return copy.deepcopy(_example(f"{event}.{action}"))


def _organization(account: Account, urls: render.Urls) -> dict:
    """The short ``organization`` object of webhook payloads, from an example that has one."""
    source = _example("issue_comment.created")["organization"]
    old = source["login"]
    body = {key: value.replace(f"/{old}", f"/{account.login}").replace(render.EXAMPLE_API, urls.api)
            if isinstance(value, str) else value for key, value in source.items()}
    body.update(login=account.login, id=account.id, node_id=render.node_id("Organization", account.id),
                avatar_url=f"https://avatars.githubusercontent.com/u/{account.id}?v=4", description="")
    return body


def build(event: str, action: str, *, issue: Issue, sender: Account, urls: render.Urls, app: dict | None,
          installation_id: int | None, comment: Comment | None = None, label: Label | None = None,
          assignee: Account | None = None, changes: dict | None = None) -> Delivery:
    """The delivery GitHub sends for ``event.action`` on ``issue``, as the state is now."""
    shape = example(event, action)
    repo = issue.repo
    payload: dict[str, Any] = {
        "action": action,
        "issue": render.conform(render.issue(issue, urls, app), shape["issue"]),
        "repository": render.conform(render.repository(repo, urls, None), shape["repository"], exact=True),
        "sender": render.user(sender, urls),
    }
    if comment is not None:
        payload["comment"] = render.conform(render.comment(comment, urls, app), shape["comment"])
    if label is not None:
        payload["label"] = render.label(label, repo, urls)
    if assignee is not None:
        payload["assignee"] = render.user(assignee, urls)
    if changes is not None:
        payload["changes"] = changes
    if repo.owner.type == "Organization":
        payload["organization"] = _organization(repo.owner, urls)
    if installation_id is not None:
        payload["installation"] = {"id": installation_id, "node_id": render.node_id("IntegrationInstallation", installation_id)}
    order = list(shape) + [key for key in payload if key not in shape]
    return Delivery(event, {key: payload[key] for key in order if key in payload})


def _installation_ref(installation_id: int) -> dict:
    return {"id": installation_id, "node_id": render.node_id("IntegrationInstallation", installation_id)}


def _short_repo(repo: Repo) -> dict:
    return {"id": repo.id, "node_id": render.node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "private": repo.private}


def installation(action: str, item: Installation, the_app: App, repos: list[Repo], sender: Account,
                 urls: render.Urls) -> Delivery:
    """``installation.created`` / ``installation.deleted``: the App installed on (or removed from) `repos`."""
    shape = example("installation", action)
    payload = {"action": action, "installation": render_apps.installation(item, the_app, urls),
               "repositories": [_short_repo(r) for r in repos], "requester": None, "sender": render.user(sender, urls)}
    return Delivery("installation", {key: payload[key] for key in list(shape) if key in payload})


def installation_repositories(action: str, item: Installation, the_app: App, added: list[Repo], removed: list[Repo],
                              sender: Account, urls: render.Urls) -> Delivery:
    """``installation_repositories.added`` / ``.removed``."""
    payload = {"action": action, "installation": render_apps.installation(item, the_app, urls),
               "repository_selection": "selected", "repositories_added": [_short_repo(r) for r in added],
               "repositories_removed": [_short_repo(r) for r in removed], "requester": None,
               "sender": render.user(sender, urls)}
    return Delivery("installation_repositories", payload)


def push(repo: Repo, pusher: Account, sha: str, change: dict[str, list[str]], urls: render.Urls,
         installation_id: int | None) -> Delivery:
    """``push`` of one commit to the default branch, with the files it added, modified and removed."""
    shape = copy.deepcopy(_example("push"))
    commit = dict(shape["commits"][0])
    commit.update(id=sha, tree_id=sha, message="Update", timestamp=render.iso(repo.commits[0].date),
                  url=f"{urls.web}/{repo.full_name}/commit/{sha}", **change)
    payload = {
        "ref": f"refs/heads/{repo.default_branch}", "before": repo.commits[1].sha if len(repo.commits) > 1 else "0" * 40,
        "after": sha, "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": f"{urls.web}/{repo.full_name}/commit/{sha}", "commits": [commit], "head_commit": commit,
        "repository": render.conform(render.repository(repo, urls, None), shape["repository"], exact=True),
        "pusher": {"name": pusher.login, "email": f"{pusher.login}@users.noreply.github.com"},
        "sender": render.user(pusher, urls),
    }
    if installation_id is not None:
        payload["installation"] = _installation_ref(installation_id)
    return Delivery("push", payload)
