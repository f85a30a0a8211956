"""Handlers for labels: a repository's labels (names case-insensitive) and the labels on an issue."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import render
from ..state.errors import not_found
from ..state.labels import sorted_labels
from .call import Call, Listing, Reply


def label_names(value: Any) -> list[str]:
    """Labels as GitHub accepts them: names, ``{"name": ...}`` objects, or ``{"labels": [...]}``."""
    if isinstance(value, dict):
        value = value.get("labels", [])
    if isinstance(value, str):
        value = [value]
    return [item["name"] if isinstance(item, dict) else str(item) for item in value or []]


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
    call.sandbox.queue(call.sandbox.add_issue_labels(issue, call.actor, label_names(call.body)), call.repo)
    return Reply(200, [_label_json(call)(lab) for lab in issue.labels()])


def set_issue_labels(call: Call) -> Reply:
    """:calls: PUT /repos/{owner}/{repo}/issues/{issue_number}/labels"""
    call.require("triage")
    issue = call.issue()
    call.sandbox.queue(call.sandbox.set_issue_labels(issue, call.actor, label_names(call.body)), call.repo)
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
