"""GitHub-shaped JSON for the App and where it is installed: the App (``integration``, also shown as
``performed_via_github_app``), the App just made from a manifest, an installation, and an installation
token. Filled in from the records of ``model.py`` as ``render.py`` fills the other shapes."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from .render import Urls, conform, iso, node_id, template, user

if TYPE_CHECKING:  # pragma: no cover - types only
    from .model import App, Installation

# the sandbox's default App's permissions and events; installations and their tokens show these
# whichever App is registered
APP_PERMISSIONS = {"issues": "write", "metadata": "read", "contents": "read", "members": "read"}
APP_EVENTS = ("issues", "issue_comment")


def app(item: App, urls: Urls, shape: str = "integration") -> dict:
    """The ``integration`` (GitHub App) object, also used as ``performed_via_github_app``."""
    body = template(shape)
    body.update(
        id=item.id,
        slug=item.slug,
        node_id=node_id("Integration", item.id),
        client_id=f"Iv1.{item.id:016x}",
        owner=user(item.owner, urls),
        name=item.name,
        description="",
        external_url=f"{urls.web}/{item.owner.login}",
        html_url=f"{urls.web}/apps/{item.slug}",
        created_at=iso(item.created_at),
        updated_at=iso(item.created_at),
        permissions=dict(APP_PERMISSIONS if item.permissions is None else item.permissions),
        events=list(APP_EVENTS if item.events is None else item.events),
    )
    return body


def app_from_manifest(item: App, urls: Urls, credentials: Mapping[str, str]) -> dict:
    """The App just made from a manifest, with the credentials GitHub hands out this once."""
    body = app(item, urls, "integration-from-manifest")
    body.update(credentials)
    return body


def installation(item: Installation, the_app: App, urls: Urls) -> dict:
    body = template("installation")
    body.update(
        id=item.id,
        account=user(item.account, urls),
        repository_selection="selected",
        access_tokens_url=f"{urls.api}/app/installations/{item.id}/access_tokens",
        repositories_url=f"{urls.api}/installation/repositories",
        html_url=(f"{urls.web}/organizations/{item.account.login}/settings/installations/{item.id}"
                  if item.account.type == "Organization" else f"{urls.web}/settings/installations/{item.id}"),
        app_id=the_app.id,
        client_id=f"Iv1.{the_app.id:016x}",
        target_id=item.account.id,
        target_type=item.account.type,
        permissions=dict(APP_PERMISSIONS),
        events=list(APP_EVENTS),
        created_at=iso(item.created_at),
        updated_at=iso(item.created_at),
        single_file_name=None,
        has_multiple_single_files=False,
        single_file_paths=[],
        app_slug=the_app.slug,
        suspended_at=None,
        suspended_by=None,
    )
    return body


def installation_token(token: str, expires_at: datetime, repos: list[dict]) -> dict:
    """``installation-token``; its ``repositories`` items keep the example item's keys."""
    body = template("installation-token")
    item_keys = body["repositories"][0]
    body.update(
        token=token,
        expires_at=iso(expires_at),
        permissions=dict(APP_PERMISSIONS),
        repository_selection="selected",
        repositories=[conform(repo, item_keys, exact=True) for repo in repos],
    )
    return body
