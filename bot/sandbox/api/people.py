"""Handlers for people: the authenticated user and its rate limit, a repository's collaborators and
their permission, who may be assigned, and organisation and team membership."""
from __future__ import annotations

from .. import render
from ..state.errors import GitHubError, not_found
from .call import Call, Listing, Reply


def get_rate_limit(call: Call) -> Reply:
    """:calls: GET /rate_limit (does not count against the limit)"""
    sb = call.sandbox
    headers = sb.rate_headers(call.principal)
    core = {"limit": int(headers["X-RateLimit-Limit"]), "used": int(headers["X-RateLimit-Used"]),
            "remaining": int(headers["X-RateLimit-Remaining"]), "reset": int(headers["X-RateLimit-Reset"])}
    return Reply(200, render.rate_limit(core, int(sb.now().timestamp()) + 3600))


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


def check_org_member(call: Call) -> Reply:
    """:calls: GET /orgs/{org}/members/{username}: 204 if a member (public or private) and 404 if not, for an
    installation on the organisation (the App reads members); anyone else is sent to the public list (302)."""
    org, login = call.params["org"], call.params["username"]
    principal = call.principal
    inside = principal.installation is not None and principal.installation.account.login.lower() == org.lower()
    if not inside and not (principal.account and call.sandbox.is_org_member(org, principal.account.login)):
        location = f"{call.urls.api}/orgs/{org}/public_members/{login}"
        return Reply(302, None, headers={"Location": location})
    if call.sandbox.is_org_member(org, login):
        return Reply(204, None)
    raise not_found()


def get_team(call: Call) -> Reply:
    """:calls: GET /orgs/{org}/teams/{team_slug} (404 if there is no such team)"""
    team = call.sandbox.team(call.params["org"], call.params["team_slug"])
    if team is None:
        raise not_found()
    return Reply(200, render.team(team, call.urls))
