"""The routing table: every endpoint the sandbox serves, as GitHub's path template (from its OpenAPI
description), the handler, the query parameters it honours, and how the caller must authenticate."""
from __future__ import annotations

from collections.abc import Callable

from .apps import (create_app_from_manifest, create_installation_token, get_app, get_installation, get_repo_installation,
                   list_installation_repositories, list_installations)
from .call import Route
from .comments import create_comment, delete_comment, get_comment, list_comments, update_comment
from .insights import (get_community_profile, get_contributors_stats, get_participation_stats, list_releases,
                       list_repo_comments, list_stargazers)
from .issues import change_assignees, create_issue, get_issue, list_issues, update_issue
from .labels import (add_issue_labels, clear_issue_labels, create_label, delete_label, get_label, list_issue_labels,
                     list_labels, remove_issue_label, set_issue_labels, update_label)
from .graphql import graphql_query
from .people import (check_assignee, check_org_member, check_public_member, get_authenticated_user,
                     get_collaborator_permission, get_rate_limit, get_team, get_team_membership, list_collaborators)
from .reactions import create_reaction, delete_reaction, list_reactions
from .repos import get_blob, get_contents, get_repo, list_commits, list_contributors

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
    # what the evidence pack reads (issue 21)
    _route("GET", f"{R}/community/profile", get_community_profile),
    _route("GET", f"{R}/stats/contributors", get_contributors_stats),
    _route("GET", f"{R}/stats/participation", get_participation_stats),
    _route("GET", f"{R}/releases", list_releases, "per_page page"),
    _route("GET", f"{R}/stargazers", list_stargazers, "per_page page"),
    _route("GET", f"{R}/issues/comments", list_repo_comments, "sort direction since per_page page"),
    _route("GET", "/user", get_authenticated_user),
    _route("GET", f"{R}/collaborators", list_collaborators, "affiliation permission per_page page"),
    _route("GET", f"{R}/collaborators/{{username}}/permission", get_collaborator_permission),
    _route("GET", f"{R}/assignees/{{assignee}}", check_assignee),
    _route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", get_team_membership),
    _route("GET", "/orgs/{org}/public_members/{username}", check_public_member),
    _route("GET", "/orgs/{org}/members/{username}", check_org_member),
    _route("GET", "/orgs/{org}/teams/{team_slug}", get_team),
    _route("POST", "/graphql", graphql_query),
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
# Served, but not REST: GitHub's description of the REST API does not have them.
NOT_REST = frozenset({"/graphql"})
# Requests that create content: GitHub allows at most 80 a minute and 500 an hour (secondary limits).
CONTENT_CREATING = frozenset({f"{R}/issues", f"{ISSUE}/comments"})
BY_METHOD: dict[str, dict[str, Route]] = {}
for _r in ROUTES:
    BY_METHOD.setdefault(_r.method, {})[_r.template] = _r
