"""`fundbot labels sync`: every label of the rules exists in the repository, named, coloured and
described as the rules say (idempotent: a second run changes nothing).

Each label the App makes carries its key in its description (`[fund-bot:stage:technical]`, see
`bot.policy.markers.label_description`), so when the rules rename a label the App finds its own by
key and renames it in place (`PATCH /repos/{owner}/{repo}/labels/{name}` with `new_name`): GitHub
keeps it on every issue, and no issue is left with two stage labels. A label with the rules' name
but no key (made by hand, or before keys) is adopted. Nothing is ever deleted: a label of the App's
that the rules no longer name is reported and left for a person to remove.
"""
from __future__ import annotations

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.markers import label_description, label_key
from bot.policy.models import RepoLabel
from bot.policy.rules import Rules


def sync_labels(gateway: GitHubGateway, repo: str, rules: Rules, *, dry_run: bool = False) -> list[str]:
    """Create missing labels, rename the App's renamed ones, update changed ones; one line per change
    (and one per label of the App's the rules no longer have, left alone)."""
    existing = gateway.repo_labels(repo)
    by_name = {label.name.lower(): label for label in existing}
    by_key: dict[str, RepoLabel] = {}
    for label in existing:
        key = label_key(label.description)
        if key is not None:
            by_key.setdefault(key, label)
    changes: list[str] = []
    wanted = rules.keyed_labels()
    for key, spec in wanted:
        description = label_description(spec.description, key)
        mine = by_key.get(key)
        current = mine or by_name.get(spec.name.lower())
        if current is None:
            changes.append(f"create {spec.name!r} ({spec.color})")
            if not dry_run:
                gateway.create_label(repo, spec.name, spec.color, description)
            continue
        if (current.name, current.color.lower(), current.description) == (spec.name, spec.color, description):
            continue
        taken = by_name.get(spec.name.lower())
        if current.name.lower() != spec.name.lower() and taken is not None:
            # Another label holds the new name already: renaming would fail (GitHub: 422 already_exists).
            changes.append(f"cannot rename {current.name!r} to {spec.name!r}: a label of that name exists; "
                           "merge them by hand, then sync again")
            continue
        if current.name.lower() != spec.name.lower():
            change = f"rename {current.name!r} to {spec.name!r} (kept on every issue)"
        elif mine is None:
            change = f"adopt {current.name!r} ({current.color} -> {spec.color})"
        else:
            change = f"update {spec.name!r} ({current.color} -> {spec.color})"
        changes.append(change)
        if not dry_run:
            try:
                gateway.update_label(repo, current.name, spec.name, spec.color, description)
            except GitHubError as err:
                if err.status != 422:
                    raise
                changes[-1] = f"could not {change}: GitHub answered {err.status} {err.message}"
        by_name.pop(current.name.lower(), None)
        by_name[spec.name.lower()] = current
    return changes


def is_problem(line: str) -> bool:
    """A line of `sync_labels` that says a label could not be put right."""
    return line.startswith(("cannot ", "could not "))


def leftover_labels(gateway: GitHubGateway, repo: str, rules: Rules) -> list[str]:
    """The App's labels (by key) that the rules no longer have: never deleted, only reported.
    :calls: `GET /repos/{owner}/{repo}/labels` (conditional: a 304 right after a sync)"""
    known = {key for key, _ in rules.keyed_labels()}
    return [f"{label.name!r} ({key})" for label in gateway.repo_labels(repo)
            if (key := label_key(label.description)) is not None and key not in known]
