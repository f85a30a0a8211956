"""Handlers for repositories and what is in them: the repository (with the caller's permissions),
commits, contributors, contents (files and directories) and blobs."""
from __future__ import annotations

from .. import render
from ..model import ROLES
from ..state.errors import GitHubError, not_found
from .call import Call, Listing, Reply

INLINE_LIMIT = 1024 * 1024  # the largest file whose content the contents endpoint's JSON carries
RAW = "application/vnd.github.raw"
RAW_MEDIA_TYPES = frozenset({RAW, "application/vnd.github.v3.raw", f"{RAW}+json", "application/vnd.github.v3.raw+json"})


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
    """:calls: GET /repos/{owner}/{repo}/contents/{path} (a file, or a directory's entries). A file's
    JSON carries its content (base64) up to 1 MB, a larger one's ``content: ""`` and ``encoding:
    "none"``; the raw media type answers a file's bytes, whatever its size (up to GitHub's 100 MiB).
    https://docs.github.com/rest/repos/contents#get-repository-content"""
    repo = call.repo
    if repo.empty:
        raise GitHubError(404, "This repository is empty.")
    ref = call.query.get("ref") or repo.default_branch
    if ref != repo.default_branch and not any(c.sha == ref for c in repo.commits):
        raise GitHubError(404, f"No commit found for the ref {ref}")
    path = call.params["path"].strip("/")
    if path in repo.files:
        if _wants_raw(call.accept):
            return Reply(200, repo.files[path].encode(), media_type=RAW)
        return Reply(200, _content(call, path, repo.files[path], ref))
    prefix = f"{path}/" if path else ""
    children = sorted({p[len(prefix):].split("/", 1)[0] for p in repo.files if p.startswith(prefix)})
    if not children:
        raise not_found()
    return Reply(200, [_content(call, prefix + name, repo.files.get(prefix + name), ref) for name in children])


def _content(call: Call, path: str, text: str | None, ref: str) -> dict:
    inline = text is None or len(text.encode()) <= INLINE_LIMIT
    return render.content_file(call.repo, path, text, ref, call.urls, inline=inline)


def _wants_raw(accept: str) -> bool:
    """Whether the ``Accept`` header asks for the raw media type (with or without a version or ``+json``)."""
    return any(kind.split(";")[0].strip().lower() in RAW_MEDIA_TYPES for kind in accept.split(","))


def get_blob(call: Call) -> Reply:
    """:calls: GET /repos/{owner}/{repo}/git/blobs/{file_sha} (any version a commit ever had)"""
    text = call.sandbox.blob(call.params["file_sha"])
    if text is None:
        raise not_found()
    return Reply(200, render.blob(call.repo, call.params["file_sha"], text, call.urls))
