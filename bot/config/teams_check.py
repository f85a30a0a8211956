"""The teams a fund's rules name, checked on GitHub when a gateway is at hand (a fund's configuration read by
the service, `fundbot validate --repo`): a team GitHub does not know is a problem of the configuration,
listed with the others as `file: key: reason`, since no one could ever be found in it (no reviewer, no
voter, no lead). Offline (`fundbot validate` of a rules folder) it cannot be known, and is not checked."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable
from bot.policy.rules import Rules


def named_teams(stages: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, "org/slug") for every team stages.yml names: reviewers', voters' and leads'."""
    for i, team in enumerate((stages.get("reviewers") or {}).get("teams") or ()):
        yield f"reviewers.teams[{i}]", team
    if (stages.get("voters") or {}).get("team"):
        yield "voters.team", stages["voters"]["team"]
    for i, stage in enumerate(stages.get("stages") or ()):
        for j, team in enumerate((stage.get("reviewers") or {}).get("teams") or ()):
            yield f"stages[{i}].reviewers.teams[{j}]", team
        if (stage.get("voters") or {}).get("team"):
            yield f"stages[{i}].voters.team", stage["voters"]["team"]
        for j, team in enumerate((stage.get("leads") or {}).get("teams") or ()):
            yield f"stages[{i}].leads.teams[{j}]", team


def team_problems(gateway: GitHubGateway, rules: Rules) -> list[str]:
    """:calls: `GET /orgs/{org}/teams/{team_slug}` (conditional) for each team named, once. A team GitHub
    answers 404 for is a problem; one it could not answer for now is not (it cannot be known)."""
    problems: list[str] = []
    answers: dict[str, bool] = {}
    for key, team in named_teams(rules.documents.get("stages") or {}):
        org, _, slug = team.partition("/")
        if team.lower() not in answers:
            try:
                answers[team.lower()] = gateway.team_exists(org, slug)
            except GitHubUnavailable:
                raise
            except GitHubError:
                continue
        if not answers[team.lower()]:
            where = rules.source_of("stages", key.split("[", 1)[0] if key.startswith("stages[") else key)
            problems.append(f"{where}: stages.{key}: the team {team!r} does not exist, or the App cannot see it "
                            f"(GitHub answers 404: the App must be installed on {org!r} with Members read)")
    return problems


__all__ = ["named_teams", "team_problems"]
