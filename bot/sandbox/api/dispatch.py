"""The sandbox's REST API as a WSGI app: each request routed to its handler, with what all handlers
share done once, here, the way GitHub does it: authentication, rate limits and their headers,
pagination with ``Link`` headers, ``ETag``/``If-None-Match``, redirects for renamed repositories,
injected faults and latency, the request log, and strictness: a request GitHub would not take, or
that the sandbox cannot honour, is answered with an error and recorded in ``sandbox.violations``.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from .. import render
from ..openapi import MISSING, best, split
from ..state.auth import Principal
from ..state.errors import GitHubError, Moved, Rejected, not_found
from ..state.requestlog import RecordedRequest
from ..state.sandbox import SandboxState
from .call import Call, Listing, Reply, Route
from .outside import outside_service, serve_outside
from .routes import BY_METHOD, CONTENT_CREATING, R

RATE_DOCS = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rating-limiting"
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
REDIRECT_DOCS = "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"


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
    media_type: str | None = None  # a payload of bytes of this type, not JSON
    headers: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    @property
    def conditional(self) -> bool:
        return "If-None-Match" in self.request.headers

    def fail(self, err: GitHubError) -> None:
        self.status, self.payload, self.media_type = err.status, err.body, None
        self.headers.update(err.headers)


def make_wsgi_app(sandbox: SandboxState) -> Callable:
    """The WSGI application serving ``sandbox``."""

    def app(environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        service = outside_service(request)
        if service is not None:  # a service beyond GitHub (`api/outside.py`), with its own trouble
            return serve_outside(sandbox, service, request)(environ, start_response)
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


def _answer(sandbox: SandboxState, request: Request) -> Response:
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


def _serve(sandbox: SandboxState, ex: Exchange, urls: render.Urls) -> None:
    method = ex.request.method
    ex.resolved = ex.segments
    if len(ex.segments) >= 2 and ex.segments[0] == "repositories" and ex.segments[1].isdigit():
        repo = sandbox.repo_by_id(int(ex.segments[1]))  # GitHub's stable alias of /repos/{owner}/{repo}
        if repo is None:
            raise not_found()
        ex.resolved = ["repos", repo.owner.login, repo.name, *ex.segments[2:]]
    found = best(BY_METHOD.get(method, {}), ex.resolved)
    if found is None:
        raise Rejected(404, "Not Found", reason=_unserved(sandbox, method, ex.resolved))
    route, params = BY_METHOD[method][found[0]], found[1]
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
    call = Call(sandbox, ex.principal, params, dict(ex.query.items()), None if ex.body is MISSING else ex.body, urls, method,
                accept=ex.request.headers.get("Accept", ""))
    try:
        if route.auth == "token" and route.template.startswith(R):
            call.repo = sandbox.readable_repo(ex.principal, params["owner"], params["repo"])
        reply = route.handler(call)
    except Moved as moved:
        reply = _redirect(ex, moved, urls, method)
    except Rejected:
        raise
    except GitHubError as err:
        reply = Reply(err.status, err.body)
        ex.headers.update(err.headers)
    if isinstance(reply, Listing):
        reply = _paginate(ex, call, reply, urls)
    if method != "GET" and reply.status < 300 and sandbox.draw_lost_answer():
        reply = Reply(502, {"message": "Server Error"})  # done, but the answer is lost on the way
    ex.status, ex.payload, ex.media_type = reply.status, reply.body, reply.media_type
    ex.headers.update(reply.headers)
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


def _unserved(sandbox: SandboxState, method: str, segments: list[str]) -> str:
    """Say whether GitHub has the endpoint the sandbox does not serve."""
    if sandbox.checker is None:
        return "not served by the sandbox (give Sandbox(openapi=...) to learn whether GitHub has it)"
    template = sandbox.checker.github_endpoint(method, segments)
    if template is None:
        return "GitHub has no such endpoint"
    return f"GitHub has {method} {template}, but the sandbox does not implement it"


def _check_request(sandbox: SandboxState, ex: Exchange, route: Route) -> None:
    """Strictness: unknown query parameters, bad values, and bodies GitHub would refuse."""
    raw = ex.request.get_data()
    if raw.strip():
        try:
            ex.body = json.loads(raw)
        except ValueError:
            raise Rejected(400, "Problems parsing JSON") from None
    checker = sandbox.checker if route.template != "/graphql" else None  # GraphQL is not in the REST description
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


def _redirect(ex: Exchange, moved: Moved, urls: render.Urls, method: str) -> Reply:
    """GitHub answers the old address of a moved resource (a renamed repository's name, a transferred
    issue) with a redirect to where it is now, keeping the rest of the path and the query."""
    location = urls.api + moved.path + "".join(f"/{s}" for s in ex.resolved[moved.depth:])
    if ex.request.query_string:
        location += "?" + ex.request.query_string.decode()
    ex.headers["Location"] = location
    status = 301 if method == "GET" else moved.write_status
    message = {301: "Moved Permanently", 307: "Temporary Redirect"}[status]
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
    if isinstance(payload, bytes):  # a raw media type's answer
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _request_id() -> str:
    return uuid.uuid4().hex[:20].upper()


def _finish(sandbox: SandboxState, ex: Exchange) -> Response:
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
    return Response(_encode(ex.payload), status=ex.status, headers=headers,
                    content_type=ex.media_type or "application/json; charset=utf-8")
