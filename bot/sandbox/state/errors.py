"""The answers GitHub gives instead of a resource: errors (with GitHub's status, message and body),
refusals the sandbox also records as violations, and redirects to where a resource lives now."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCS = "https://docs.github.com/rest"


class GitHubError(Exception):
    """An answer GitHub gives instead of the resource: status, ``message`` and extra body keys."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                 documentation_url: str = DOCS, **extra: Any) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {"message": message, **extra, "documentation_url": documentation_url,
                                     "status": str(status)}


class Rejected(GitHubError):
    """A request GitHub would refuse or the sandbox cannot honour: also recorded as a violation,
    with ``reason`` saying why."""

    def __init__(self, status: int, message: str, *, reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(status, message, **kwargs)
        self.reason = reason or message


class Moved(Exception):
    """The resource lives elsewhere now: GitHub redirects to ``path`` (below the API root) followed by
    what the request named below its first ``depth`` path segments. A GET is answered ``301 Moved
    Permanently``, any other method ``write_status``.
    https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"""

    def __init__(self, path: str, depth: int, write_status: int) -> None:
        super().__init__(path)
        self.path = path
        self.depth = depth
        self.write_status = write_status


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")
