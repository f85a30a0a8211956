"""`fundbot labels sync`: every label of the rules exists in the repository, named and coloured as
the rules say (idempotent: a second run changes nothing)."""
from __future__ import annotations

from bot.github.gateway import GitHubGateway
from bot.policy.rules import Rules


def sync_labels(gateway: GitHubGateway, repo: str, rules: Rules, *, dry_run: bool = False) -> list[str]:
    """Create missing labels and update changed ones; return one line per change."""
    existing = {label.name.lower(): label for label in gateway.repo_labels(repo)}
    changes: list[str] = []
    for spec in rules.stages.all_labels():
        current = existing.get(spec.name.lower())
        if current is None:
            changes.append(f"create {spec.name!r} ({spec.color})")
            if not dry_run:
                gateway.create_label(repo, spec.name, spec.color, spec.description)
        elif (current.name, current.color.lower(), current.description) != (spec.name, spec.color, spec.description):
            changes.append(f"update {spec.name!r} ({current.color} -> {spec.color})")
            if not dry_run:
                gateway.update_label(repo, current.name, spec.name, spec.color, spec.description)
    return changes
