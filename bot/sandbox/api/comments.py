"""Handlers for comments on issues: listing an issue's, creating one, and reading, editing and deleting
one by id (its author, or anyone with write access)."""
from __future__ import annotations

from .. import render
from ..state.errors import GitHubError
from .call import Call, Listing, Reply


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
