"""The four outside services the evidence pack reads, one request each (issue 21), as their documentation
gives the answers:

- OpenSSF Scorecard, `GET {scorecard}/projects/github.com/{owner}/{repo}`: a `ScorecardResult`
  (`date`, `repo`, `scorecard`, `score`, `checks[]` of `name`, `score`, `reason` …), 404 when it has not
  scored the project (ossf/scorecard-webapp, openapi.yaml);
- deps.dev, `GET {depsdev}/v3alpha/systems/{system}/packages/{name}/versions/{version}:dependents`:
  `dependentCount`, `directDependentCount`, `indirectDependentCount` — of a version, hence the version;
- pypistats.org, `GET {pypistats}/api/packages/{name}/recent`: `{"data": {"last_day", "last_week",
  "last_month"}, "package", "type": "recent_downloads"}`, 404 for an unknown package;
- npm, `GET {npm}/downloads/point/last-month/{name}`: `{"downloads", "start", "end", "package"}`, 404 for an
  unknown package (npm/registry, docs/download-counts.md).

Each returns its figures, or None when the service does not know the project or package; `Unanswered` when
it did not answer in time or failed.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.outside.client import Client, Unanswered

SCORECARD_CHECKS = {"Maintained": "maintained", "Code-Review": "code_review"}


def scorecard(client: Client, full_name: str, timeout: float) -> dict[str, Any] | None:
    """The project's Scorecard score and its Maintained and Code-Review checks."""
    owner, _, name = full_name.partition("/")
    url = f"{client.services.scorecard}/projects/github.com/{quote(owner, safe='')}/{quote(name, safe='')}"
    status, data = client.get_json("scorecard", url, timeout)
    if status == 404 or not isinstance(data, dict):
        return None
    if not isinstance(data.get("score"), (int, float)):
        raise Unanswered("error", status)
    figures: dict[str, Any] = {"score": float(data["score"]), "date": str(data.get("date") or "")[:10]}
    for check in data.get("checks") or []:
        key = SCORECARD_CHECKS.get(str(check.get("name")))
        if key is not None and isinstance(check.get("score"), int) and check["score"] >= 0:
            figures[key] = check["score"]  # -1: Scorecard could not tell
    return figures


def dependents(client: Client, system: str, name: str, version: str, timeout: float) -> dict[str, Any] | None:
    """How many packages depend on `version` of the package, directly and in all."""
    url = (f"{client.services.depsdev}/v3alpha/systems/{system.upper()}/packages/{quote(name, safe='')}"
           f"/versions/{quote(version, safe='')}:dependents")
    status, data = client.get_json("deps.dev", url, timeout)
    if status == 404 or not isinstance(data, dict):
        return None
    return {"count": int(data.get("dependentCount") or 0), "direct": int(data.get("directDependentCount") or 0)}


def pypi_downloads(client: Client, name: str, timeout: float) -> dict[str, Any] | None:
    """Downloads of the PyPI package in the last 30 days (pypistats' `last_month`)."""
    status, data = client.get_json("pypistats", f"{client.services.pypistats}/api/packages/{quote(name.lower(), safe='')}"
                                                f"/recent", timeout)
    if status == 404 or not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return None
    return {"month": int(data["data"].get("last_month") or 0)}


def npm_downloads(client: Client, name: str, timeout: float) -> dict[str, Any] | None:
    """Downloads of the npm package in the last 30 days."""
    status, data = client.get_json("npm", f"{client.services.npm}/downloads/point/last-month/{quote(name, safe='@/')}",
                                   timeout)
    if status == 404 or not isinstance(data, dict) or "downloads" not in data:
        return None
    return {"month": int(data.get("downloads") or 0)}
