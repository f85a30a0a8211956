"""Handlers for reactions to issues and comments (GitHub sends no webhook for them)."""
from __future__ import annotations

from .. import render
from ..state.errors import Rejected, not_found
from .call import Call, Listing, Reply


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
