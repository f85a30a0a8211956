"""The outside services the evidence pack reads, served beside the sandbox GitHub under a prefix each — so a
test or `fundbot demo` points `FUNDBOT_SCORECARD_URL` at `{sandbox}/scorecard` and so on — with their own
trouble (latency slept outside the lock, an error status) and request log:

- `/scorecard/projects/github.com/{owner}/{repo}`: OpenSSF Scorecard's result, 404 when it has none;
- `/depsdev/v3alpha/systems/{system}/packages/{name}/versions/{version}:dependents`: deps.dev's counts;
- `/pypistats/api/packages/{name}/recent`: pypistats' recent downloads;
- `/npm/downloads/point/last-month/{name}`: npm's downloads of the last 30 days.

Shapes: `shapes/outside/` (their sources in its SOURCES.md).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from .. import render
from ..state.outside import SERVICES
from ..state.sandbox import SandboxState


def outside_service(request: Request) -> str | None:
    """The outside service a request is for (by its path's first segment), or None: GitHub's."""
    first = request.path.lstrip("/").split("/", 1)[0]
    return first if first in SERVICES else None


def serve_outside(sandbox: SandboxState, service: str, request: Request) -> Response:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    raw = raw.split("?", 1)[0]
    if "://" in raw:
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    segments = [unquote(s) for s in raw.strip("/").split("/")][1:]
    with sandbox.lock:
        sandbox.outside_log.append((service, "/" + "/".join(segments)))
    trouble = sandbox.trouble_of(service)
    if trouble.latency_ms:
        time.sleep(trouble.latency_ms / 1000)  # outside the lock: slow, not serial
    if request.method != "GET":
        return _json(405, {"message": "Method Not Allowed"})
    if trouble.status is not None:
        return _json(trouble.status, {"message": "Server Error"})
    with sandbox.lock:
        return HANDLERS[service](sandbox, segments)


def _json(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _scorecard(sandbox: SandboxState, segments: list[str]) -> Response:
    if len(segments) != 4 or segments[:2] != ["projects", "github.com"]:
        return _json(400, {"code": 400, "message": "invalid path"})
    found = sandbox.scorecard_of(f"{segments[2]}/{segments[3]}")
    if found is None:
        return _json(404, render.template("outside/scorecard-error"))
    body = render.template("outside/scorecard-result")
    shape = body["checks"][0]
    body.update(date=found["date"], score=found["score"],
                repo=dict(body["repo"], name=f"github.com/{segments[2]}/{segments[3]}"),
                checks=[dict(shape, name=name, score=score, reason=f"{name}: {score} (sandbox)", details=None)
                        for name, score in found["checks"].items()])
    return _json(200, body)


def _depsdev(sandbox: SandboxState, segments: list[str]) -> Response:
    # v3alpha / systems / {system} / packages / {name} / versions / {version}:dependents
    if len(segments) != 7 or segments[0] != "v3alpha" or segments[1] != "systems" or segments[3] != "packages" \
            or segments[5] != "versions" or not segments[6].endswith(":dependents"):
        return _json(404, render.template("outside/depsdev-error"))
    package = sandbox.package(segments[2], segments[4])
    version = segments[6].removesuffix(":dependents")
    if package is None or version not in package.dependents:
        return _json(404, render.template("outside/depsdev-error"))
    counts = package.dependents[version]
    body = render.template("outside/depsdev-dependents")
    body.update(dependentCount=counts[0], directDependentCount=counts[1], indirectDependentCount=counts[0] - counts[1])
    return _json(200, body)


def _pypistats(sandbox: SandboxState, segments: list[str]) -> Response:
    if len(segments) != 4 or segments[:2] != ["api", "packages"] or segments[3] != "recent":
        return Response("<h1>Not Found</h1>", status=404, content_type="text/html")
    package = sandbox.package("pypi", segments[2])
    if package is None:
        return Response("<h1>Not Found</h1>", status=404, content_type="text/html")  # pypistats' plain 404 page
    body = render.template("outside/pypistats-recent")
    body.update(package=segments[2].lower().replace(".", "-").replace("_", "-"),
                data={"last_day": package.month // 30, "last_month": package.month, "last_week": package.month // 4})
    return _json(200, body)


def _npm(sandbox: SandboxState, segments: list[str]) -> Response:
    if len(segments) < 4 or segments[:3] != ["downloads", "point", "last-month"]:
        return _json(404, {"error": "not found"})
    name = "/".join(segments[3:])
    package = sandbox.package("npm", name)
    if package is None:
        return _json(404, dict(render.template("outside/npm-error"), error=f"package {name} not found"))
    today = sandbox.now().date()
    body = render.template("outside/npm-point")
    body.update(downloads=package.month, package=name, end=(today - dt.timedelta(days=1)).isoformat(),
                start=(today - dt.timedelta(days=30)).isoformat())
    return _json(200, body)


HANDLERS: dict[str, Callable[[SandboxState, list[str]], Response]] = {
    "scorecard": _scorecard, "depsdev": _depsdev, "pypistats": _pypistats, "npm": _npm,
}
