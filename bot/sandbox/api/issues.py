"""Handlers for issues: listing (GitHub's filters and sorts), creating, reading and updating one, and
its assignees. Labels and assignees need triage access; without it GitHub silently drops them."""
from __future__ import annotations

from ..model import Issue
from ..state.errors import GitHubError
from .call import Call, Listing, Reply
from .labels import label_names


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


def create_issue(call: Call) -> Reply:
    """:calls: POST /repos/{owner}/{repo}/issues (labels and assignees need triage, else dropped)"""
    body = call.fields({"title", "body", "labels", "assignees", "assignee"})
    call.require("read")
    triage = call.may("triage")
    assignees = [*body.get("assignees", []), *([body["assignee"]] if body.get("assignee") else [])]
    issue, sent = call.sandbox.create_issue(
        call.repo, call.actor, str(call.required(body, "title")), body.get("body"), label_names(body.get("labels")) if triage else (),
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
        sent += sb.set_issue_labels(issue, call.actor, label_names(body["labels"]))
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
