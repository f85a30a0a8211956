#!/usr/bin/env python3
"""Vendor the parts of GitHub's published descriptions that the sandbox GitHub is built from.

Reads ``../shared/data`` (GitHub's OpenAPI description and the octokit webhook examples) and writes:

* ``tests/fixtures/github-openapi-subset.json``: the operations the sandbox serves, with their
  parameters and request bodies, every ``$ref`` resolved, plus ``x-github-operations``: every
  method and path GitHub has, so the sandbox can tell "GitHub has no such endpoint" from "the
  sandbox does not implement it";
* ``bot/sandbox/shapes/*.json``: example response bodies the sandbox fills in;
* ``bot/sandbox/payloads/*.json``: example webhook payloads the sandbox fills in;
* a provenance file beside each set (``SOURCES-openapi.md``, ``shapes/SOURCES.md``,
  ``payloads/SOURCES.md``) naming the source file and JSON pointer of every piece.

Run from anywhere: ``python scripts/vendor_openapi.py [--shared DIR]``. The output is
deterministic, so re-running it on the same input changes nothing.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox.api.routes import NOT_REST, ROUTES  # noqa: E402  (the one list of what the sandbox serves)

OPENAPI = "github-rest-openapi.json"
WEBHOOKS = "octokit-webhooks-examples.json"

# shape file -> the example in components/examples that it copies verbatim
SHAPES: dict[str, str] = {
    "simple-user": "simple-user",
    "issue": "issue",
    "issue-comment": "issue-comment",
    "label": "label",
    "reaction": "reaction",
    "full-repository": "full-repository",
    "commit-items": "commit-items",
    "contributor-items": "contributor-items-response-if-repository-contains-content",
    "installation-token": "installation-token",
    "installation": "installation",
    "integration": "integration",
    "integration-from-manifest": "integration-from-manifest",
    "team-membership": "team-membership-response-if-user-is-a-team-maintainer",
    "team-full": "team-full",
    "collaborator-permission": "repository-collaborator-permission-response-if-user-has-admin-permissions",
    "content-file": "content-file-response-if-content-is-a-file",
    "rate-limit-overview": "rate-limit-overview",
    # what the evidence pack reads (issue 21)
    "community-profile": "community-profile",
    "release": "release",
    "stargazer-items": "stargazer-items-alternative-response-with-star-creation-timestamps",
    "contributor-activity-items": "contributor-activity-items",
    "participation-stats": "participation-stats",
}

# payload file -> (event, action of the example to copy). `issues.closed` has no example in the
# octokit set, so it copies `issues.reopened` (the same shape) and sets the action when filled in.
PAYLOADS: dict[str, tuple[str, str]] = {
    "issues.opened": ("issues", "opened"),
    "issues.edited": ("issues", "edited"),
    "issues.closed": ("issues", "reopened"),
    "issues.reopened": ("issues", "reopened"),
    "issues.labeled": ("issues", "labeled"),
    "issues.unlabeled": ("issues", "unlabeled"),
    "issues.assigned": ("issues", "assigned"),
    "issues.unassigned": ("issues", "unassigned"),
    "issue_comment.created": ("issue_comment", "created"),
    "issue_comment.edited": ("issue_comment", "edited"),
    "issue_comment.deleted": ("issue_comment", "deleted"),
    "installation.created": ("installation", "created"),
    "installation.deleted": ("installation", "deleted"),
    "installation_repositories.added": ("installation_repositories", "added"),
    "installation_repositories.removed": ("installation_repositories", "removed"),
    "push": ("push", None),  # push has no action
}

# Where GitHub accepts more than its schema says, in the schema's own description text
# ("You can also pass an `array` of labels directly" / "a single label as a `string`" /
# "You can pass an empty array to remove all labels"). PyGithub's Issue.add_to_labels and
# set_labels send a bare array, so the strict checker must accept what GitHub accepts.
LABEL_BODY_ALTERNATIVES = [
    {"type": "array", "items": {"type": "string"}},
    {"type": "string"},
]
LABEL_BODY_OPERATIONS = {
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("put", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
}


def resolve(node: Any, spec: dict, stack: tuple[str, ...] = ()) -> Any:
    """Inline every ``$ref`` below ``node``; a cycle is an error (none of our operations has one)."""
    if isinstance(node, list):
        return [resolve(item, spec, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in stack:
            raise ValueError(f"cyclic $ref {ref} via {' -> '.join(stack)}")
        return resolve(pointer(spec, ref[1:]), spec, (*stack, ref))
    return {key: resolve(value, spec, stack) for key, value in node.items()}


def pointer(doc: Any, path: str) -> Any:
    """Follow a JSON pointer (RFC 6901) such as ``/components/examples/issue/value``."""
    for part in path.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def widen_label_body(operation: dict, method: str) -> None:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    variants = copy.deepcopy(schema.get("oneOf", [schema]))
    for variant in variants if method == "put" else ():  # "You can pass an empty array to remove all labels"
        variant.get("properties", {}).get("labels", {}).pop("minItems", None)
    operation["requestBody"]["content"]["application/json"]["schema"] = {
        "anyOf": variants + LABEL_BODY_ALTERNATIVES,
        "x-sandbox-note": "widened to what the description text says GitHub accepts",
    }


def subset(spec: dict) -> tuple[dict, list[str]]:
    """The served operations, resolved, and the provenance lines for them."""
    paths: dict[str, dict] = {}
    lines: list[str] = []
    served = {(r.method.lower(), r.template) for r in ROUTES if r.template not in NOT_REST}
    for method, template in sorted(served, key=lambda mt: (mt[1], mt[0])):
        item = spec["paths"].get(template, {})
        if method not in item:
            raise SystemExit(f"{method.upper()} {template} is served by the sandbox but not in GitHub's description")
        source = item[method]
        operation = {
            key: resolve(source[key], spec)
            for key in ("operationId", "summary", "parameters", "requestBody")
            if key in source
        }
        operation["responses"] = {
            code: {"description": resolve(response, spec).get("description", "")}
            for code, response in source["responses"].items()
        }
        if (method, template) in LABEL_BODY_OPERATIONS:
            widen_label_body(operation, method)
        paths.setdefault(template, {})[method] = operation
        if "parameters" in item:
            paths[template]["parameters"] = resolve(item["parameters"], spec)
        lines.append(f"| `{method.upper()} {template}` | `#/paths/{escape(template)}/{method}` |")
    operations = {
        path: sorted(m for m in item if m in {"get", "post", "put", "patch", "delete", "head"})
        for path, item in sorted(spec["paths"].items())
    }
    document = {
        "openapi": spec["openapi"],
        "info": {
            "title": "Subset of " + spec["info"]["title"],
            "version": spec["info"]["version"],
            "x-source": f"shared/data/{OPENAPI}",
        },
        "servers": spec.get("servers", []),
        "paths": paths,
        "x-github-operations": operations,
    }
    return document, lines


def pick_example(hooks: list[dict], event: str, action: str) -> tuple[str, dict]:
    """The richest example of one event.action: with `installation`, then `organization`."""
    index = next(i for i, entry in enumerate(hooks) if entry["name"] == event)
    candidates = [
        (j, example)
        for j, example in enumerate(hooks[index]["examples"])
        if example.get("action") == action and ("changes" not in example or action == "edited")
        and (event != "push" or example.get("commits"))  # a push that carries its commits
    ]
    j, example = max(
        candidates, key=lambda c: ("installation" in c[1], "organization" in c[1], len(c[1]), -c[0])
    )
    return f"/{index}/examples/{j}", example


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared folder (default ../shared)")
    args = parser.parse_args(argv)
    data = args.shared / "data"
    spec = json.loads((data / OPENAPI).read_text(encoding="utf-8"))
    hooks = json.loads((data / WEBHOOKS).read_text(encoding="utf-8"))

    document, op_lines = subset(spec)
    write_json(ROOT / "tests/fixtures/github-openapi-subset.json", document)
    (ROOT / "tests/fixtures/SOURCES-openapi.md").write_text(
        "# Where `github-openapi-subset.json` comes from\n\n"
        f"Generated by `scripts/vendor_openapi.py` from `shared/data/{OPENAPI}` "
        f"(GitHub's REST description, `info.version` {spec['info']['version']}). Do not edit by hand: "
        "re-run the script.\n\n"
        "Each operation below is copied from the pointer shown (keys `operationId`, `summary`, "
        "`parameters`, `requestBody`; `responses` keep only their descriptions), with every `$ref` "
        "inlined; path-level `parameters` likewise. `x-github-operations` lists every path of the "
        "source `paths` with its methods, so the sandbox can say whether GitHub has an endpoint it "
        "does not serve.\n\n"
        "One deliberate change: the request bodies of `POST` and `PUT "
        "/repos/{owner}/{repo}/issues/{issue_number}/labels` are widened (`anyOf`, with "
        "`x-sandbox-note`) to also accept a bare array of names or a single name, and (for `PUT`) an "
        "empty `labels` array, because the schema's own description says GitHub accepts them (and "
        "PyGithub's `Issue.add_to_labels`/`set_labels` send a bare array).\n\n"
        "| operation | JSON pointer in the source |\n|---|---|\n" + "\n".join(op_lines) + "\n",
        encoding="utf-8",
    )

    shape_lines = []
    for name, example in SHAPES.items():
        ptr = f"/components/examples/{example}/value"
        write_json(ROOT / f"bot/sandbox/shapes/{name}.json", pointer(spec, ptr))
        shape_lines.append(f"| `{name}.json` | `shared/data/{OPENAPI}` | `#{ptr}` |")
    rollup_ptr, _ = pick_example(hooks, "issues", "opened")
    rollup_ptr += "/issue/reactions"
    write_json(ROOT / "bot/sandbox/shapes/reaction-rollup.json", pointer(hooks, rollup_ptr))
    shape_lines.append(f"| `reaction-rollup.json` | `shared/data/{WEBHOOKS}` | `#{rollup_ptr}` |")
    (ROOT / "bot/sandbox/shapes/SOURCES.md").write_text(
        "# Where the response shapes come from\n\n"
        "Generated by `scripts/vendor_openapi.py`; each file is the JSON value at the pointer, "
        "copied verbatim. The sandbox fills them in from its state (`bot/sandbox/render.py`, and "
        "`render_apps.py` for the App and its installations). "
        "GitHub's REST examples carry no `reactions` roll-up, so `reaction-rollup.json` is taken "
        "from a real webhook payload's issue.\n\n"
        "| file | source | JSON pointer |\n|---|---|---|\n" + "\n".join(shape_lines) + "\n",
        encoding="utf-8",
    )

    payload_lines = []
    for name, (event, action) in PAYLOADS.items():
        ptr, example = pick_example(hooks, event, action)
        write_json(ROOT / f"bot/sandbox/payloads/{name}.json", example)
        note = "" if name in (f"{event}.{action}", event) else f" (no `{name}` example exists; same shape)"
        payload_lines.append(f"| `{name}.json` | `#{ptr}` | `{event}.{action}`{note} |")
    (ROOT / "bot/sandbox/payloads/SOURCES.md").write_text(
        "# Where the webhook payload templates come from\n\n"
        f"Generated by `scripts/vendor_openapi.py` from `shared/data/{WEBHOOKS}` (the octokit "
        "webhook examples: a list of `{name, actions, examples}`); each file is the example at the "
        "pointer, copied verbatim. For each event and action the richest example is taken (one with "
        "`installation`, then `organization`). The sandbox fills them in from its state "
        "(`bot/sandbox/deliveries.py`).\n\n"
        "| file | JSON pointer | example |\n|---|---|---|\n" + "\n".join(payload_lines) + "\n",
        encoding="utf-8",
    )
    print(f"vendored {len(document['paths'])} paths, {len(SHAPES) + 1} shapes, {len(PAYLOADS)} payloads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
