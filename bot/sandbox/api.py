"""The sandbox's REST API: a WSGI app serving GitHub's paths from the state.

What the handlers share is done once, here, the way GitHub does it: authentication, rate limits and
their headers, pagination with ``Link`` headers, ``ETag``/``If-None-Match``, redirects for renamed
repositories, injected faults, the request log, and strictness: a request GitHub would not take, or
that the sandbox cannot honour, is answered with an error and recorded in ``sandbox.violations``.
All paths are GitHub's (``ROUTES`` uses the templates of GitHub's OpenAPI description).
"""
from __future__ import annotations

import base64

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from . import render
from .openapi import MISSING, best, split
from .state.auth import Principal
from .state.errors import GitHubError, Moved, Rejected, not_found
from .state.labels import sorted_labels
from .state.model import ROLES, Account, Issue, Repo
from .state.requestlog import RecordedRequest
from .state.sandbox import Sandbox

RATE_DOCS = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rating-limiting"
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
REDIRECT_DOCS = "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"


@dataclass(frozen=True)
class Reply:
    """A handler's answer; ``body=None`` sends no body (204)."""

    status: int = 200
    body: Any = None


@dataclass(frozen=True)
class Listing:
    """A list answer, paginated by the dispatcher; only the page's items are rendered."""

    items: Sequence[Any]
    render: Callable[[Any], dict]
    wrap: Callable[[list[dict], int], Any] | None = None  # (page, total) -> body, for `{total_count, …}` lists


@dataclass
class Call:
    """One request as a handler sees it: who, which repository, parameters and body."""

    sandbox: Sandbox
    principal: Principal
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    urls: render.Urls
    method: str = "GET"
    repo: Repo | None = None

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
        return render.app(self.sandbox.app, self.urls) if self.sandbox.app else None

    def issue(self) -> Issue:
        found = self.repo.issues.get(int(self.params["issue_number"]))
        if found is None:
            raise not_found()
        return found

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


# ---------------------------------------------------------------------------------------------
# handlers: the App and its installations (JWT)


def get_app(call: Call) -> Reply:
    """:calls: GET /app"""
    return Reply(200, render.app(call.sandbox.app, call.urls))


def list_installations(call: Call) -> Listing:
    """:calls: GET /app/installations"""
    sb = call.sandbox
    return Listing(sb.installations(), lambda i: render.installation(i, sb.app, call.urls))


def list_installation_repositories(call: Call) -> Listing:
    """:calls: GET /installation/repositories (an installation token: the repositories it may access)"""
    installation = call.principal.installation
    if call.principal.kind != "installation" or installation is None:
        raise GitHubError(403, "This endpoint requires you to be authenticated as a GitHub App installation.")
    repos = call.sandbox.repos_of_installation(installation.id)
    return Listing(repos, lambda r: render.repository(r, call.urls, None),
                   wrap=lambda page, total: {"total_count": total, "repository_selection": "selected",
                                             "repositories": page})


def get_blob(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/git/blobs/{file_sha} (any version a commit ever had)"""
    text = call.sandbox.blob(call.params["file_sha"])
    if text is None:
        raise not_found()
    data = text.encode()
    encoded = base64.b64encode(data).decode()
    return Reply(200, {"sha": call.params["file_sha"], "node_id": render.node_id("Blob", call.params["file_sha"]),
                       "size": len(data), "url": f"{call.urls.api}/repos/{call.repo.full_name}/git/blobs/"
                                                  f"{call.params['file_sha']}",
                       "content": "".join(encoded[i:i + 60] + "\n" for i in range(0, len(encoded), 60)),
                       "encoding": "base64"})


def get_installation(call: Call) -> Reply:
    """:calls: GET /app/installations/{installation_id}"""
    inst = call.sandbox.installation(int(call.params["installation_id"]))
    if inst is None:
        raise not_found()
    return Reply(200, render.installation(inst, call.sandbox.app, call.urls))


def create_installation_token(call: Call) -> Reply:
    """:calls: POST /app/installations/{installation_id}/access_tokens"""
    call.fields({"permissions"})  # tokens narrowed to some repositories are not modelled
    return Reply(201, call.sandbox.create_installation_token(int(call.params["installation_id"]), call.urls))


def create_app_from_manifest(call: Call) -> Reply:
    """:calls: POST /app-manifests/{code}/conversions (no authentication, as on GitHub: the code is the proof)"""
    item, credentials = call.sandbox.convert_manifest(call.params["code"])
    return Reply(201, render.app_from_manifest(item, call.urls, credentials))


def get_repo_installation(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/installation (the app sees private repositories it is on)"""
    sb = call.sandbox
    inst = sb.installation_for(sb.repo_named(call.params["owner"], call.params["repo"]))
    if inst is None:
        raise not_found()
    return Reply(200, render.installation(inst, sb.app, call.urls))


# ---------------------------------------------------------------------------------------------
# handlers: repositories and people


def get_rate_limit(call: Call) -> Reply:
    """:calls: GET /rate_limit (does not count against the limit)"""
    sb = call.sandbox
    headers = sb.rate_headers(call.principal)
    core = {"limit": int(headers["X-RateLimit-Limit"]), "used": int(headers["X-RateLimit-Used"]),
            "remaining": int(headers["X-RateLimit-Remaining"]), "reset": int(headers["X-RateLimit-Reset"])}
    return Reply(200, render.rate_limit(core, int(sb.now().timestamp()) + 3600))


def _permissions(call: Call) -> dict[str, bool] | None:
    principal, repo = call.principal, call.repo
    if principal.kind == "anonymous":
        return None
    if principal.kind == "installation":
        inside = repo.id in principal.installation.repo_ids
        return {"admin": False, "maintain": False, "push": inside, "triage": inside, "pull": True}
    rank = ROLES.index(repo.role(principal.login))
    return {name: rank >= ROLES.index(role) for name, role in
            (("admin", "admin"), ("maintain", "maintain"), ("push", "write"), ("triage", "triage"), ("pull", "read"))}


def get_repo(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}"""
    return Reply(200, render.repository(call.repo, call.urls, _permissions(call)))


def list_commits(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/commits (newest first; ``sha`` a branch or commit)"""
    repo = call.repo
    if repo.empty:
        raise GitHubError(409, "Git Repository is empty.", documentation_url="https://docs.github.com/rest/commits/commits#list-commits")
    commits = repo.commits
    sha = call.query.get("sha")
    if sha and sha != repo.default_branch:
        start = next((i for i, c in enumerate(commits) if c.sha.startswith(sha) and len(sha) >= 7), None)
        if start is None:
            raise GitHubError(404, f"No commit found for SHA: {sha}")
        commits = commits[start:]
    since, until = call.since("since"), call.since("until")
    chosen = [c for c in commits if (since is None or c.date >= since) and (until is None or c.date <= until)]
    parents = {c.sha: repo.commits[i + 1] if i + 1 < len(repo.commits) else None for i, c in enumerate(repo.commits)}
    return Listing(chosen, lambda c: render.commit(repo, c, parents[c.sha], call.urls))


def list_contributors(call: Call) -> Listing | Reply:
    """:calls: GET /repos/{owner}/{repo}/contributors (by contributions; anonymous only with ``anon``)"""
    repo, sb = call.repo, call.sandbox
    if repo.contributors_too_large:
        raise GitHubError(403, "The history or contributor list is too large to list contributors for this "
                               "repository via the API.",
                          documentation_url="https://docs.github.com/rest/repos/repos#list-repository-contributors")
    if repo.empty:
        return Reply(204, None)  # GitHub answers an empty repository with no content at all
    anon = call.flag("anon")
    people = [c for c in repo.contributors if anon or c.type != "Anonymous"]
    return Listing(people, lambda c: render.contributor(c, None if c.type == "Anonymous" else sb.account(c.name), call.urls))


def get_contents(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/contents/{path} (a file, or a directory's entries)"""
    repo = call.repo
    if repo.empty:
        raise GitHubError(404, "This repository is empty.")
    ref = call.query.get("ref") or repo.default_branch
    if ref != repo.default_branch and not any(c.sha == ref for c in repo.commits):
        raise GitHubError(404, f"No commit found for the ref {ref}")
    path = call.params["path"].strip("/")
    if path in repo.files:
        return Reply(200, render.content_file(repo, path, repo.files[path], ref, call.urls))
    prefix = f"{path}/" if path else ""
    children = sorted({p[len(prefix):].split("/", 1)[0] for p in repo.files if p.startswith(prefix)})
    if not children:
        raise not_found()
    return Reply(200, [render.content_file(repo, prefix + name, repo.files.get(prefix + name), ref, call.urls)
                       for name in children])


def get_authenticated_user(call: Call) -> Reply:
    """:calls: GET /user (a user's token only: an installation is not a user)"""
    if call.principal.kind != "user" or call.principal.account is None:
        raise GitHubError(403, "Resource not accessible by integration")
    return Reply(200, render.user(call.principal.account, call.urls))


def list_collaborators(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/collaborators (``permission`` filters by role; needs push access)"""
    call.require("write")
    wanted = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain", "admin": "admin"}
    floor = wanted.get(call.query.get("permission", "pull"), "read")
    repo = call.repo
    logins = [repo.owner.login] if repo.owner.type == "User" else []
    logins += [login for login, role in sorted(repo.permissions.items()) if role != "none"]
    chosen = [call.sandbox.account(login) for login in dict.fromkeys(l.lower() for l in logins)
              if repo.can(login, floor)]
    return Listing(chosen, lambda account: render.user(account, call.urls))


def get_collaborator_permission(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/collaborators/{username}/permission"""
    account = call.sandbox.account(call.params["username"])
    return Reply(200, render.collaborator_permission(call.repo.role(account.login), account, call.urls))


def check_assignee(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/assignees/{assignee} (204 if assignable, else 404)"""
    if call.sandbox.can_be_assigned(call.repo, call.params["assignee"]):
        return Reply(204, None)
    raise not_found()


def check_public_member(call: Call) -> Reply:
    """:calls: GET /orgs/{org}/public_members/{username} (204 if a public member, else 404)"""
    if call.sandbox.is_public_member(call.params["org"], call.params["username"]):
        return Reply(204, None)
    raise not_found()


def get_team_membership(call: Call) -> Reply:
    """:calls: GET /orgs/{org}/teams/{team_slug}/memberships/{username} (404 if not a member)"""
    team = call.sandbox.team(call.params["org"], call.params["team_slug"])
    role = team.members.get(call.params["username"].lower()) if team else None
    if role is None:
        raise not_found()
    return Reply(200, render.team_membership(team.id, call.params["username"], role, call.urls))


# ---------------------------------------------------------------------------------------------
# handlers: issues


def list_issues(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/issues"""
    q = call.query
    state = q.get("state", "open")
    wanted = [n.strip().lower() for n in q.get("labels", "").split(",") if n.strip()]
    since = call.since()
    creator = q.get("creator", "").lower()
    assignee = q.get("assignee", "").lower()

    def keep(issue: Issue) -> bool:
        names = {lab.name.lower() for lab in issue.labels()}
        logins = {a.login.lower() for a in issue.assignees}
        return ((state == "all" or issue.state == state)
                and all(n in names for n in wanted)
                and (since is None or issue.updated_at >= since)
                and (not creator or issue.user.login.lower() == creator)
                and (not assignee or (assignee == "*" and logins) or (assignee == "none" and not logins)
                     or assignee in logins))

    sort = q.get("sort", "created")
    key = {"created": lambda i: (i.created_at, i.number), "updated": lambda i: (i.updated_at, i.number),
           "comments": lambda i: (len(i.comments), i.number)}[sort]
    found = sorted((i for i in call.repo.issues.values() if keep(i)), key=key, reverse=q.get("direction", "desc") == "desc")
    return Listing(found, call.issue_json)


def _label_names(value: Any) -> list[str]:
    """Labels as GitHub accepts them: names, ``{"name": ...}`` objects, or ``{"labels": [...]}``."""
    if isinstance(value, dict):
        value = value.get("labels", [])
    if isinstance(value, str):
        value = [value]
    return [item["name"] if isinstance(item, dict) else str(item) for item in value or []]


def create_issue(call: Call) -> Reply:
    """:calls: POST /repos/{owner}/{repo}/issues (labels and assignees need triage, else dropped)"""
    body = call.fields({"title", "body", "labels", "assignees", "assignee"})
    call.require("read")
    triage = call.may("triage")
    assignees = [*body.get("assignees", []), *([body["assignee"]] if body.get("assignee") else [])]
    issue, sent = call.sandbox.create_issue(
        call.repo, call.actor, str(call.required(body, "title")), body.get("body"), _label_names(body.get("labels")) if triage else (),
        assignees if triage else (), via_app=call.via_app, create_labels=True)
    call.sandbox.queue(sent, call.repo)
    return Reply(201, call.issue_json(issue))


def get_issue(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/issues/{issue_number}"""
    return Reply(200, call.issue_json(call.issue()))


def update_issue(call: Call) -> Reply:
    """:calls: PATCH /repos/{owner}/{repo}/issues/{issue_number} (the author may edit title, body
    and state; labels and assignees need triage and are silently dropped otherwise)"""
    body = call.fields({"title", "body", "state", "state_reason", "labels", "assignees", "assignee"})
    issue, sb = call.issue(), call.sandbox
    triage = call.may("triage")
    if not triage:
        call.require("read")
        if issue.user is not call.actor:
            raise GitHubError(403, "Resource not accessible by personal access token")
    state = body.get("state")
    if body.get("state_reason") == "reopened" and state is None:
        state = "open"
    sent = sb.update_issue(issue, call.actor, title=None if body.get("title") is None else str(body["title"]),
                           body=body.get("body"), state=state, state_reason=body.get("state_reason"))
    if triage and "labels" in body:
        sent += sb.set_issue_labels(issue, call.actor, _label_names(body["labels"]))
    if triage and ("assignees" in body or "assignee" in body):
        wanted = body.get("assignees") or ([body["assignee"]] if body.get("assignee") else [])
        current = [a.login for a in issue.assignees]
        lowered = {w.lower() for w in wanted}
        sent += sb.change_assignees(issue, call.actor, add=wanted, remove=[c for c in current if c.lower() not in lowered])
    sb.queue(sent, call.repo)
    return Reply(200, call.issue_json(issue))


def change_assignees(call: Call) -> Reply:
    """:calls: POST|DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees"""
    logins = call.required(call.fields({"assignees"}), "assignees")
    issue, adding = call.issue(), call.method == "POST"
    if call.may("triage"):  # without push access GitHub silently ignores the change
        sent = call.sandbox.change_assignees(issue, call.actor, **{"add" if adding else "remove": logins})
        call.sandbox.queue(sent, call.repo)
    return Reply(201 if adding else 200, call.issue_json(issue))


# ---------------------------------------------------------------------------------------------
# handlers: comments


def list_comments(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/issues/{issue_number}/comments (oldest first)"""
    since = call.since()
    found = [c for c in call.issue().comments if since is None or c.updated_at >= since]
    return Listing(found, lambda c: render.comment(c, call.urls, call.app))


def create_comment(call: Call) -> Reply:
    """:calls: POST /repos/{owner}/{repo}/issues/{issue_number}/comments"""
    body = call.fields({"body"})
    call.require("read")
    comment, sent = call.sandbox.create_comment(call.issue(), call.actor, call.required(body, "body"), via_app=call.via_app)
    call.sandbox.queue(sent, call.repo)
    return Reply(201, render.comment(comment, call.urls, call.app))


def _own_comment(call: Call):  # noqa: ANN202 - a Comment the caller may change
    comment = call.sandbox.comment_by_id(call.repo, int(call.params["comment_id"]))
    if not call.may("write"):
        call.require("read")
        if comment.user is not call.actor:
            raise GitHubError(403, "Resource not accessible by personal access token")
    return comment


def get_comment(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/issues/comments/{comment_id}"""
    comment = call.sandbox.comment_by_id(call.repo, int(call.params["comment_id"]))
    return Reply(200, render.comment(comment, call.urls, call.app))


def update_comment(call: Call) -> Reply:
    """:calls: PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"""
    body = call.fields({"body"})
    comment = _own_comment(call)
    call.sandbox.queue(call.sandbox.update_comment(comment, call.actor, call.required(body, "body")), call.repo)
    return Reply(200, render.comment(comment, call.urls, call.app))


def delete_comment(call: Call) -> Reply:
    """:calls: DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}"""
    comment = _own_comment(call)
    call.sandbox.queue(call.sandbox.remove_comment(comment, call.actor), call.repo)
    return Reply(204, None)


# ---------------------------------------------------------------------------------------------
# handlers: labels


def _label_json(call: Call) -> Callable[[Any], dict]:
    return lambda label: render.label(label, call.repo, call.urls)


def list_labels(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/labels"""
    return Listing(sorted_labels(call.repo), _label_json(call))


def _named_label(call: Call):  # noqa: ANN202 - the Label named in the path (case-insensitive)
    label = call.repo.find_label(call.params["name"])
    if label is None:
        raise not_found()
    return label


def create_label(call: Call) -> Reply:
    """:calls: POST /repos/{owner}/{repo}/labels (422 ``already_exists`` for a taken name)"""
    body = call.fields({"name", "color", "description"})
    call.require("write")
    label = call.sandbox.create_label(call.repo, call.required(body, "name"), body.get("color"), body.get("description"))
    return Reply(201, _label_json(call)(label))


def get_label(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/labels/{name}"""
    return Reply(200, _label_json(call)(_named_label(call)))


def update_label(call: Call) -> Reply:
    """:calls: PATCH /repos/{owner}/{repo}/labels/{name}"""
    body = call.fields({"new_name", "color", "description"})
    call.require("write")
    label = _named_label(call)
    call.sandbox.update_label(call.repo, label, body.get("new_name"), body.get("color"), body.get("description"))
    return Reply(200, _label_json(call)(label))


def delete_label(call: Call) -> Reply:
    """:calls: DELETE /repos/{owner}/{repo}/labels/{name}"""
    call.require("write")
    call.sandbox.delete_label(call.repo, _named_label(call))
    return Reply(204, None)


def list_issue_labels(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/issues/{issue_number}/labels"""
    return Listing(call.issue().labels(), _label_json(call))


def add_issue_labels(call: Call) -> Reply:
    """:calls: POST /repos/{owner}/{repo}/issues/{issue_number}/labels (answers the full list)"""
    call.require("triage")
    issue = call.issue()
    call.sandbox.queue(call.sandbox.add_issue_labels(issue, call.actor, _label_names(call.body)), call.repo)
    return Reply(200, [_label_json(call)(lab) for lab in issue.labels()])


def set_issue_labels(call: Call) -> Reply:
    """:calls: PUT /repos/{owner}/{repo}/issues/{issue_number}/labels"""
    call.require("triage")
    issue = call.issue()
    call.sandbox.queue(call.sandbox.set_issue_labels(issue, call.actor, _label_names(call.body)), call.repo)
    return Reply(200, [_label_json(call)(lab) for lab in issue.labels()])


def clear_issue_labels(call: Call) -> Reply:
    """:calls: DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels"""
    call.require("triage")
    issue = call.issue()
    call.sandbox.queue(call.sandbox.set_issue_labels(issue, call.actor, []), call.repo)
    return Reply(204, None)


def remove_issue_label(call: Call) -> Reply:
    """:calls: DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}
    (404 "Label does not exist" when the issue does not carry it; else the remaining labels)"""
    call.require("triage")
    issue = call.issue()
    call.sandbox.queue(call.sandbox.remove_issue_label(issue, call.actor, call.params["name"]), call.repo)
    return Reply(200, [_label_json(call)(lab) for lab in issue.labels()])


# ---------------------------------------------------------------------------------------------
# handlers: reactions (GitHub sends no webhook for them)


def _reaction_target(call: Call):  # noqa: ANN202 - the Issue or Comment in the path
    if "comment_id" in call.params:
        return call.sandbox.comment_by_id(call.repo, int(call.params["comment_id"]))
    return call.issue()


def list_reactions(call: Call) -> Listing:
    """:calls: GET /repos/{owner}/{repo}/issues/{issue_number}/reactions (and comments')"""
    content = call.query.get("content")
    found = [r for r in _reaction_target(call).reactions if content is None or r.content == content]
    return Listing(found, lambda r: render.reaction(r, call.urls))


def create_reaction(call: Call) -> Reply:
    """:calls: POST .../reactions: 201 when new, 200 when this user already gave this reaction"""
    body = call.fields({"content"})
    call.require("read")
    content = call.required(body, "content")
    if content not in render.REACTIONS:
        raise Rejected(422, "Invalid request.", reason=f"`content` must be one of {', '.join(render.REACTIONS)}")
    reaction, created = call.sandbox.create_reaction(_reaction_target(call), call.actor, content)
    return Reply(201 if created else 200, render.reaction(reaction, call.urls))


def delete_reaction(call: Call) -> Reply:
    """:calls: DELETE .../reactions/{reaction_id} (only the caller's own)"""
    call.require("read")
    target = _reaction_target(call)
    reaction = next((r for r in target.reactions if r.id == int(call.params["reaction_id"])), None)
    if reaction is None or reaction.user is not call.actor:
        raise not_found()
    target.reactions.remove(reaction)
    return Reply(204, None)


# ---------------------------------------------------------------------------------------------
# the routing table: GitHub's path templates, and the query parameters each handler honours

R = "/repos/{owner}/{repo}"
ISSUE = f"{R}/issues/{{issue_number}}"
COMMENT = f"{R}/issues/comments/{{comment_id}}"


def _route(method: str, template: str, handler: Callable, params: str = "", auth: str = "token") -> Route:
    return Route(method, template, handler, frozenset(params.split()), auth)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/app", get_app, auth="jwt"),
    _route("GET", "/app/installations", list_installations, "per_page page", auth="jwt"),
    _route("GET", "/app/installations/{installation_id}", get_installation, auth="jwt"),
    _route("POST", "/app/installations/{installation_id}/access_tokens", create_installation_token, auth="jwt"),
    _route("GET", f"{R}/installation", get_repo_installation, auth="jwt"),
    _route("GET", "/installation/repositories", list_installation_repositories, "per_page page"),
    _route("GET", f"{R}/git/blobs/{{file_sha}}", get_blob),
    _route("POST", "/app-manifests/{code}/conversions", create_app_from_manifest, auth="none"),
    _route("GET", "/rate_limit", get_rate_limit),
    _route("GET", R, get_repo),
    _route("GET", f"{R}/commits", list_commits, "sha since until per_page page"),
    _route("GET", f"{R}/contributors", list_contributors, "anon per_page page"),
    _route("GET", f"{R}/contents/{{path}}", get_contents, "ref"),
    _route("GET", "/user", get_authenticated_user),
    _route("GET", f"{R}/collaborators", list_collaborators, "affiliation permission per_page page"),
    _route("GET", f"{R}/collaborators/{{username}}/permission", get_collaborator_permission),
    _route("GET", f"{R}/assignees/{{assignee}}", check_assignee),
    _route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", get_team_membership),
    _route("GET", "/orgs/{org}/public_members/{username}", check_public_member),
    _route("GET", f"{R}/issues", list_issues, "state labels sort direction since creator assignee per_page page"),
    _route("POST", f"{R}/issues", create_issue),
    _route("GET", ISSUE, get_issue),
    _route("PATCH", ISSUE, update_issue),
    _route("POST", f"{ISSUE}/assignees", change_assignees),
    _route("DELETE", f"{ISSUE}/assignees", change_assignees),
    _route("GET", f"{ISSUE}/comments", list_comments, "since per_page page"),
    _route("POST", f"{ISSUE}/comments", create_comment),
    _route("GET", COMMENT, get_comment),
    _route("PATCH", COMMENT, update_comment),
    _route("DELETE", COMMENT, delete_comment),
    _route("GET", f"{R}/labels", list_labels, "per_page page"),
    _route("POST", f"{R}/labels", create_label),
    _route("GET", f"{R}/labels/{{name}}", get_label),
    _route("PATCH", f"{R}/labels/{{name}}", update_label),
    _route("DELETE", f"{R}/labels/{{name}}", delete_label),
    _route("GET", f"{ISSUE}/labels", list_issue_labels, "per_page page"),
    _route("POST", f"{ISSUE}/labels", add_issue_labels),
    _route("PUT", f"{ISSUE}/labels", set_issue_labels),
    _route("DELETE", f"{ISSUE}/labels", clear_issue_labels),
    _route("DELETE", f"{ISSUE}/labels/{{name}}", remove_issue_label),
    _route("GET", f"{ISSUE}/reactions", list_reactions, "content per_page page"),
    _route("POST", f"{ISSUE}/reactions", create_reaction),
    _route("DELETE", f"{ISSUE}/reactions/{{reaction_id}}", delete_reaction),
    _route("GET", f"{COMMENT}/reactions", list_reactions, "content per_page page"),
    _route("POST", f"{COMMENT}/reactions", create_reaction),
    _route("DELETE", f"{COMMENT}/reactions/{{reaction_id}}", delete_reaction),
)
# Requests that create content: GitHub allows at most 80 a minute and 500 an hour (secondary limits).
CONTENT_CREATING = frozenset({f"{R}/issues", f"{ISSUE}/comments"})
_BY_METHOD: dict[str, dict[str, Route]] = {}
for _r in ROUTES:
    _BY_METHOD.setdefault(_r.method, {})[_r.template] = _r


# ---------------------------------------------------------------------------------------------
# the dispatcher


@dataclass
class Exchange:
    """The request being answered and what the answer has become so far."""

    request: Request
    segments: list[str]  # as requested, decoded segment by segment
    query: MultiDict
    resolved: list[str] = field(default_factory=list)  # /repositories/{id}/... read as /repos/{o}/{r}/...
    body: Any = MISSING
    principal: Principal | None = None
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    @property
    def conditional(self) -> bool:
        return "If-None-Match" in self.request.headers

    def fail(self, err: GitHubError) -> None:
        self.status, self.payload = err.status, err.body
        self.headers.update(err.headers)


def make_wsgi_app(sandbox: Sandbox) -> Callable:
    """The WSGI application serving ``sandbox``."""

    def app(environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        if sandbox.faults.latency_ms:
            time.sleep(sandbox.faults.latency_ms / 1000)  # outside the lock: slow, not serial
        with sandbox.lock:
            response = _answer(sandbox, request)
        return response(environ, start_response)

    return app


def _raw_segments(request: Request) -> list[str]:
    """Path segments decoded one by one, so an encoded ``/`` in a label name stays in its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.environ.get("PATH_INFO", "/")
    raw = raw.split("?", 1)[0]
    if "://" in raw:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    return [unquote(s) for s in split(raw)]


def _answer(sandbox: Sandbox, request: Request) -> Response:
    ex = Exchange(request, _raw_segments(request), request.args)
    urls = render.Urls(api=request.host_url.rstrip("/"))
    try:
        _serve(sandbox, ex, urls)
    except Rejected as err:
        sandbox.violate(f"{request.method} {ex.path}: {err.reason}")
        ex.fail(err)
    except GitHubError as err:
        ex.fail(err)
    except Exception as err:  # a sandbox bug must fail the test, not hang or pass
        sandbox.violate(f"{request.method} {ex.path}: sandbox error {type(err).__name__}: {err}")
        ex.fail(GitHubError(500, "Sandbox error"))
    return _finish(sandbox, ex)


def _serve(sandbox: Sandbox, ex: Exchange, urls: render.Urls) -> None:
    method = ex.request.method
    ex.resolved = ex.segments
    if len(ex.segments) >= 2 and ex.segments[0] == "repositories" and ex.segments[1].isdigit():
        repo = sandbox.repo_by_id(int(ex.segments[1]))  # GitHub's stable alias of /repos/{owner}/{repo}
        if repo is None:
            raise not_found()
        ex.resolved = ["repos", repo.owner.login, repo.name, *ex.segments[2:]]
    found = best(_BY_METHOD.get(method, {}), ex.resolved)
    if found is None:
        raise Rejected(404, "Not Found", reason=_unserved(sandbox, method, ex.resolved))
    route, params = _BY_METHOD[method][found[0]], found[1]
    _check_request(sandbox, ex, route)
    ex.principal = sandbox.authenticate(ex.request.headers.get("Authorization"), ex.request.remote_addr or "127.0.0.1")
    _check_auth(route, ex.principal)
    refused = sandbox.refusal(method, ex.path)
    if refused is not None:
        raise refused
    fault = sandbox.draw_fault()  # before anything changes, so a faulted write did nothing
    if fault == "error":
        raise GitHubError(502, "Server Error")
    if fault == "secondary":
        raise GitHubError(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                               f"again. If you reach out to GitHub Support for help, please include the request ID {_request_id()}.",
                          documentation_url=SECONDARY_DOCS, headers={"Retry-After": str(sandbox.faults.retry_after)})
    counted = route.template != "/rate_limit"  # https://docs.github.com/rest/rate-limit
    bucket = sandbox.bucket(ex.principal)
    exhausted = counted and bucket.used >= ex.principal.rate_limit
    if exhausted and not (method == "GET" and ex.conditional):
        raise _rate_limited(ex.principal)
    if method == "POST" and route.template in CONTENT_CREATING and ex.principal.kind != "app":
        passed = sandbox.created_content(ex.principal)
        if passed is not None:  # GitHub's secondary limit on creating content, with its own answer
            raise GitHubError(403, "You have exceeded a secondary rate limit and have been temporarily blocked "
                                   "from content creation. Please retry your request again later. If you reach out "
                                   f"to GitHub Support for help, please include the request ID {_request_id()}.",
                              documentation_url=SECONDARY_DOCS, headers={"Retry-After": "60"})
    call = Call(sandbox, ex.principal, params, dict(ex.query.items()), None if ex.body is MISSING else ex.body, urls, method)
    try:
        if route.auth == "token" and route.template.startswith(R):
            call.repo = sandbox.readable_repo(ex.principal, params["owner"], params["repo"])
        reply = route.handler(call)
    except Moved as moved:
        reply = _redirect(ex, moved.repo_id, urls, method)
    except Rejected:
        raise
    except GitHubError as err:
        reply = Reply(err.status, err.body)
        ex.headers.update(err.headers)
    if isinstance(reply, Listing):
        reply = _paginate(ex, call, reply, urls)
    if method != "GET" and reply.status < 300 and sandbox.draw_lost_answer():
        reply = Reply(502, {"message": "Server Error"})  # done, but the answer is lost on the way
    ex.status, ex.payload = reply.status, reply.body
    if method == "GET" and ex.status == 200:
        ex.headers["ETag"] = 'W/"' + hashlib.sha256(_encode(ex.payload)).hexdigest() + '"'
        ex.not_modified = _matches(ex.request.headers.get("If-None-Match"), ex.headers["ETag"])
    if ex.not_modified:  # a 304 costs nothing against the rate limit
        ex.status, ex.payload = 304, None
        return
    if exhausted:
        raise _rate_limited(ex.principal)
    if counted:
        bucket.used += 1


def _unserved(sandbox: Sandbox, method: str, segments: list[str]) -> str:
    """Say whether GitHub has the endpoint the sandbox does not serve."""
    if sandbox.checker is None:
        return "not served by the sandbox (give Sandbox(openapi=...) to learn whether GitHub has it)"
    template = sandbox.checker.github_endpoint(method, segments)
    if template is None:
        return "GitHub has no such endpoint"
    return f"GitHub has {method} {template}, but the sandbox does not implement it"


def _check_request(sandbox: Sandbox, ex: Exchange, route: Route) -> None:
    """Strictness: unknown query parameters, bad values, and bodies GitHub would refuse."""
    raw = ex.request.get_data()
    if raw.strip():
        try:
            ex.body = json.loads(raw)
        except ValueError:
            raise Rejected(400, "Problems parsing JSON") from None
    checker = sandbox.checker
    problems = []
    for name, value in ex.query.items():
        if checker is not None:
            problems += checker.value_problems(route.method, route.template, name, value)
        if name not in route.params and (checker is None or checker.knows_query(route.method, route.template, name)):
            problems.append(f"query parameter `{name}` is not implemented by the sandbox")
    if problems:
        raise Rejected(422, "Invalid request.", reason="; ".join(problems))
    if checker is not None:
        problems = checker.body_problems(route.method, route.template, ex.body)
        if problems:
            raise Rejected(422, "Invalid request.\n\n" + "\n".join(problems),
                           reason="request body: " + "; ".join(problems))


def _check_auth(route: Route, principal: Principal) -> None:
    if route.auth == "none":
        return
    if route.auth == "jwt":
        if principal.kind != "app":
            raise GitHubError(401, "A JSON web token could not be decoded")
        return
    if principal.kind == "app":
        raise GitHubError(403, "Resource not accessible by integration")
    if principal.kind == "anonymous" and route.method == "GET" and route.template.startswith(R):
        return  # public repositories can be read without credentials, at 60 requests an hour
    if principal.kind == "anonymous" and route.template != "/rate_limit":
        raise GitHubError(401, "Requires authentication")


def _rate_limited(principal: Principal) -> GitHubError:
    return GitHubError(403, principal.rate_message, documentation_url=RATE_DOCS)


def _redirect(ex: Exchange, repo_id: int, urls: render.Urls, method: str) -> Reply:
    """GitHub answers a renamed repository's old name with 301 (307 for writes) to its id."""
    location = f"{urls.api}/repositories/{repo_id}" + "".join(f"/{s}" for s in ex.resolved[3:])
    if ex.request.query_string:
        location += "?" + ex.request.query_string.decode()
    ex.headers["Location"] = location
    status, message = (301, "Moved Permanently") if method == "GET" else (307, "Temporary Redirect")
    return Reply(status, {"message": message, "url": location, "documentation_url": REDIRECT_DOCS})


def _paginate(ex: Exchange, call: Call, listing: Listing, urls: render.Urls) -> Reply:
    """One page (``per_page`` default 30, at most 100) and GitHub's ``Link`` header.
    https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api"""
    per_page = _int(call.query.get("per_page"), 30)
    per_page = 30 if per_page < 1 else min(per_page, 100)
    page = max(1, _int(call.query.get("page"), 1))
    last = max(1, math.ceil(len(listing.items) / per_page))
    chosen = listing.items[(page - 1) * per_page: page * per_page]
    # GitHub links a repository's lists through its stable /repositories/{id} form
    path = (f"/repositories/{call.repo.id}" + "".join(f"/{s}" for s in ex.resolved[3:])
            if call.repo is not None else ex.path)
    kept = [(k, v) for k, v in ex.query.items(multi=True) if k != "page"]

    def link(number: int, rel: str) -> str:
        return f'<{urls.api}{path}?{urlencode([*kept, ("page", number)])}>; rel="{rel}"'

    rels = []
    if page > 1:
        rels.append(link(min(page - 1, last), "prev"))
    if page < last:
        rels += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        rels.append(link(1, "first"))
    if rels:
        ex.headers["Link"] = ", ".join(rels)
    page_items = [listing.render(item) for item in chosen]
    return Reply(200, listing.wrap(page_items, len(listing.items)) if listing.wrap else page_items)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _request_id() -> str:
    return uuid.uuid4().hex[:20].upper()


def _finish(sandbox: Sandbox, ex: Exchange) -> Response:
    """Headers every answer carries, the log entry, and the response itself."""
    request = ex.request
    principal = ex.principal or sandbox.authenticate(None, request.remote_addr or "127.0.0.1")
    headers = {
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-GitHub-Api-Version-Selected": "2022-11-28",
        "X-GitHub-Request-Id": _request_id(),
        "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
        **sandbox.rate_headers(principal),
        **ex.headers,
    }
    sandbox.record(RecordedRequest(
        method=request.method,
        path=ex.path,
        query=dict(ex.query.items()),
        status=ex.status,
        body=None if ex.body is MISSING else ex.body,
        conditional=ex.conditional,
        not_modified=ex.not_modified,
        actor=principal.login if principal.kind != "anonymous" else None,
        at=time.time(),
    ))
    if ex.payload is None:
        return Response(status=ex.status, headers=headers)
    return Response(_encode(ex.payload), status=ex.status, headers=headers, content_type="application/json; charset=utf-8")
