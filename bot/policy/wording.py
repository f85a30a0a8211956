"""Findings in words: a `Note` (message id and parameters, as the record keeps it) rendered as text.

The record keeps what was found, not how it was said, so the status comment can always be
rendered again — in the application's language, and after a wording changes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.policy.forms import FormTemplate
from bot.policy.record import Note


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _community_figure(p: Mapping[str, Any], template: FormTemplate | None) -> str:
    people = int(p.get("people", 0))
    text = f"{people}{'+' if p.get('more') else ''} {_plural(people, 'contributor', 'contributors')}"
    bots = int(p.get("bots", 0))
    return text + (f" ({bots} {_plural(bots, 'bot', 'bots')} not counted)" if bots else "")


def _label(template: FormTemplate | None, field_id: str) -> str:
    if template is not None and template.has_field(field_id):
        return template.field(field_id).label
    return field_id


def _goals_figure(p: Mapping[str, Any], template: FormTemplate | None) -> str:
    words = p.get("words") or {}
    return "; ".join(f"{_label(template, f)}: {n} {_plural(int(n), 'word', 'words')}" for f, n in words.items())


def _goals_fix(p: Mapping[str, Any], template: FormTemplate | None) -> str:
    fields = ", ".join(_label(template, f) for f in p.get("fields") or [])
    return (f"Say more in {fields} (at least {p.get('min', 0)} words each): reviewers need clear goals, a funding "
            "plan and milestones.")


def _activity(p: Mapping[str, Any], template: FormTemplate | None) -> str:
    commits = int(p.get("commits", 0))
    text = f"{commits} {_plural(commits, 'commit', 'commits')} in {p.get('window')} days"
    if "age" in p:
        age = int(p["age"])
        text += f", last {age} {_plural(age, 'day', 'days')} ago"
    return text


def _form_problem(kind: str) -> Callable[[Mapping[str, Any], FormTemplate | None], str]:
    def render(p: Mapping[str, Any], template: FormTemplate | None) -> str:
        label = p.get("label") or _label(template, str(p.get("field", "")))
        return f"{label}: {FORM_PROBLEMS[kind](p)}"
    return render


FORM_PROBLEMS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda p: ("this section is missing. Please edit the issue and add it back under the heading "
                          f"“### {p.get('label', '')}”."),
    "empty": lambda p: "this is required, but the answer is empty.",
    "tick": lambda p: f"please tick “{p.get('option', '')}”.",
    "not_a_choice": lambda p: f"“{p.get('answer', '')}” is not one of the choices ({p.get('choices', '')}).",
    "invalid": lambda p: str(p.get("reason", "")),
}

TEXTS: dict[str, str | Callable[[Mapping[str, Any], FormTemplate | None], str]] = {
    "text": "{text}",  # records written before version 2
    "repository.ok": "{repo}",
    "repository.not_found": "{repo} not found",
    "repository.not_found.fix": ("GitHub has no public repository at that address: it may be misspelt, deleted or "
                                 "private. Applications need a public repository; fix the Repository field by "
                                 "editing the issue."),
    "repository.unreadable": "{repo} could not be read",
    "repository.unreadable.fix": ("GitHub answered: {error}. The bot will check again; say `/recheck` to retry "
                                  "now."),
    "repository.private": "{repo} is private",
    "repository.private.fix": "Applications need a public repository.",
    "repository.moved": ("The repository has moved from {old} to {new}; the checks ran on the new address. Please "
                         "update the Repository field."),
    "licence.detected": "{licence}",
    "licence.none": "no licence detected",
    "licence.none.fix": ("Add a LICENSE file with the text of an OSI-approved licence (see "
                         "https://opensource.org/licenses or https://choosealicense.com) to the default branch."),
    "licence.unidentified": "licence not identified (NOASSERTION)",
    "licence.unidentified.fix": ("GitHub found a licence file but could not tell which licence it is. Use the "
                                 "unmodified text of an OSI-approved licence so GitHub can detect it."),
    "licence.not_osi": "{licence} is not OSI-approved",
    "licence.not_osi.fix": "The fund supports projects under an OSI-approved licence (https://opensource.org/licenses).",
    "licence.mismatch": "The form declares {declared}, but GitHub detects {detected} in the repository.",
    "activity.archived": "archived",
    "activity.archived.fix": "The repository is archived: unarchive it to apply.",
    "activity.empty": "empty repository",
    "activity.empty.fix": "The repository has no commits yet.",
    "activity.figure": _activity,
    "activity.figure.age": _activity,
    "activity.too_few.fix": "Needs at least {min} commit(s) on the default branch {branch} in the last {window} days.",
    "activity.too_old.fix": "The newest commit on the default branch {branch} must be at most {limit} days old.",
    "community.none": "no contributors",
    "community.figure": _community_figure,
    "community.too_few.fix": ("Needs at least {min} people who have contributed (bots such as dependabot are not "
                              "counted)."),
    "goals.figure": _goals_figure,
    "goals.fix": _goals_fix,
    **{f"form.{kind}": _form_problem(kind) for kind in FORM_PROBLEMS},
}


def describe(note: Note | None, template: FormTemplate | None = None) -> str:
    """`note` in words ("" for None); an unknown id shows itself rather than failing."""
    if note is None:
        return ""
    text = TEXTS.get(note.code)
    if text is None:
        return note.code
    if callable(text):
        return text(note.params, template)
    try:
        return text.format(**note.params)
    except (KeyError, IndexError, ValueError):
        return text
