"""Labels: those an application should carry, and the labels a fund's repository should have. Pure.

An application's labels mirror its record (`desired_labels`, `label_actions`). A fund's repository
has every label of its rules, named, coloured and described as they say (`label_sync`, which
`fundbot labels sync` and a new fund apply): each label the App makes carries its key in its
description (`[fund-bot:stage:technical]`, `bot.policy.markers.label_description`), so when the rules
rename a label the App finds its own by key and renames it in place (GitHub keeps it on every issue,
and no issue is left with two stage labels). A label with the rules' name but no key (made by hand,
or before keys) is adopted. Nothing is ever deleted: a label of the App's that the rules no longer
name is reported (`leftover_labels`) and left for a person to remove.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.policy.markers import label_description, label_key
from bot.policy.models import Action, AddLabels, Issue, RemoveLabel, RepoLabel, SyncLabel
from bot.policy.record import Record
from bot.policy.reports import ReportState, report_status
from bot.policy.rules import Rules


def desired_labels(record: Record, rules: Rules, today: dt.date) -> set[str]:
    """The labels the application's record calls for."""
    stages = rules.stages
    labels = {stages.labels.application.name}
    if record.outcome:
        labels.add(stages.outcomes[record.outcome.name].label.name)
    elif record.stage and stages.stage(record.stage):
        labels.add(stages.stage(record.stage).label.name)  # type: ignore[union-attr]
    if record.checks and not record.eligibility_pending:  # no verdict while a check waits for the evidence
        labels.add((stages.labels.eligible if record.eligible else stages.labels.ineligible).name)
    if record.needs_info and not record.outcome:
        labels.add(stages.labels.needs_info.name)
    round_label = rules.round_label(record.round) if record.round else None
    if round_label is not None:
        labels.add(round_label.name)
    state = report_status(record, rules.reports, today).state
    if state is ReportState.DUE:
        labels.add(stages.labels.report_due.name)
    elif state is ReportState.OVERDUE:
        labels.add(stages.labels.report_overdue.name)
    return labels


def label_actions(record: Record, issue: Issue, rules: Rules, now: dt.datetime) -> list[Action]:
    """What to add and take off so the issue carries exactly the labels the record calls for (among
    those the bot manages; a progress-report label is never taken off an application)."""
    wanted = desired_labels(record, rules, now.date())
    managed = {label.name.lower() for label in rules.all_labels()} - {rules.stages.labels.report.name.lower()}
    present = {label.lower(): label for label in issue.labels}
    add = tuple(sorted(name for name in wanted if name.lower() not in present))
    actions: list[Action] = [AddLabels(add)] if add else []
    wanted_lower = {name.lower() for name in wanted}
    actions += [RemoveLabel(present[name]) for name in sorted(present) if name in managed and name not in wanted_lower]
    return actions


@dataclass(frozen=True)
class LabelSync:
    """What `label_sync` asks for, in the rules' order: writes, and labels it cannot put right (said, not done)."""

    steps: tuple[SyncLabel | str, ...]

    @property
    def actions(self) -> tuple[SyncLabel, ...]:
        return tuple(step for step in self.steps if isinstance(step, SyncLabel))


def label_sync(existing: Iterable[RepoLabel], rules: Rules) -> LabelSync:
    """Create missing labels, rename the App's renamed ones, update changed ones."""
    existing = list(existing)
    by_name = {label.name.lower(): label for label in existing}
    by_key: dict[str, RepoLabel] = {}
    for label in existing:
        key = label_key(label.description)
        if key is not None:
            by_key.setdefault(key, label)
    steps: list[SyncLabel | str] = []
    for key, spec in rules.keyed_labels():
        description = label_description(spec.description, key)
        mine = by_key.get(key)
        current = mine or by_name.get(spec.name.lower())
        if current is None:
            steps.append(SyncLabel("create", spec.name, spec.color, description))
            continue
        if (current.name, current.color.lower(), current.description) == (spec.name, spec.color, description):
            continue
        taken = by_name.get(spec.name.lower())
        if current.name.lower() != spec.name.lower() and taken is not None:
            # Another label holds the new name already: renaming would fail (GitHub: 422 already_exists).
            steps.append(f"cannot rename {current.name!r} to {spec.name!r}: a label of that name exists; "
                            "merge them by hand, then sync again")
            continue
        kind = "rename" if current.name.lower() != spec.name.lower() else "adopt" if mine is None else "update"
        steps.append(SyncLabel(kind, spec.name, spec.color, description, current.name, current.color))
        by_name.pop(current.name.lower(), None)
        by_name[spec.name.lower()] = current
    return LabelSync(tuple(steps))


def sync_line(action: SyncLabel) -> str:
    """What a label change says in `fundbot labels sync`'s output (English, as the command prints)."""
    if action.kind == "create":
        return f"create {action.name!r} ({action.color})"
    if action.kind == "rename":
        return f"rename {action.current!r} to {action.name!r} (kept on every issue)"
    if action.kind == "adopt":
        return f"adopt {action.current!r} ({action.current_color} -> {action.color})"
    return f"update {action.name!r} ({action.current_color} -> {action.color})"


def is_problem(line: str) -> bool:
    """A line of the label sync that says a label could not be put right."""
    return line.startswith(("cannot ", "could not "))


def leftover_labels(existing: Iterable[RepoLabel], rules: Rules) -> list[str]:
    """The App's labels (by key) that the rules no longer have: never deleted, only reported."""
    known = {key for key, _ in rules.keyed_labels()}
    return [f"{label.name!r} ({key})" for label in existing
            if (key := label_key(label.description)) is not None and key not in known]
