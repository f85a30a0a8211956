"""Handlers for the App and its installations: the App itself, its installations and their tokens
(the App's JWT), the repositories an installation reaches, and creating an App from a manifest."""
from __future__ import annotations

from .. import render, render_apps
from ..state.errors import GitHubError, not_found
from .call import Call, Listing, Reply


def get_app(call: Call) -> Reply:
    """:calls: GET /app"""
    return Reply(200, render_apps.app(call.sandbox.app, call.urls))


def list_installations(call: Call) -> Listing:
    """:calls: GET /app/installations"""
    sb = call.sandbox
    return Listing(sb.installations(), lambda i: render_apps.installation(i, sb.app, call.urls))


def get_installation(call: Call) -> Reply:
    """:calls: GET /app/installations/{installation_id}"""
    inst = call.sandbox.installation(int(call.params["installation_id"]))
    if inst is None:
        raise not_found()
    return Reply(200, render_apps.installation(inst, call.sandbox.app, call.urls))


def create_installation_token(call: Call) -> Reply:
    """:calls: POST /app/installations/{installation_id}/access_tokens"""
    call.fields({"permissions"})  # tokens narrowed to some repositories are not modelled
    return Reply(201, call.sandbox.create_installation_token(int(call.params["installation_id"]), call.urls))


def get_repo_installation(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/installation (the app sees private repositories it is on)"""
    sb = call.sandbox
    inst = sb.installation_for(sb.repo_named(call.params["owner"], call.params["repo"]))
    if inst is None:
        raise not_found()
    return Reply(200, render_apps.installation(inst, sb.app, call.urls))


def list_installation_repositories(call: Call) -> Listing:
    """:calls: GET /installation/repositories (an installation token: the repositories it may access)"""
    installation = call.principal.installation
    if call.principal.kind != "installation" or installation is None:
        raise GitHubError(403, "This endpoint requires you to be authenticated as a GitHub App installation.")
    repos = call.sandbox.repos_of_installation(installation.id)
    return Listing(repos, lambda r: render.repository(r, call.urls, None),
                   wrap=lambda page, total: {"total_count": total, "repository_selection": "selected",
                                             "repositories": page})


def create_app_from_manifest(call: Call) -> Reply:
    """:calls: POST /app-manifests/{code}/conversions (no authentication, as on GitHub: the code is the proof)"""
    item, credentials = call.sandbox.convert_manifest(call.params["code"])
    return Reply(201, render_apps.app_from_manifest(item, call.urls, credentials))
