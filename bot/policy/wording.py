"""Findings in words: a `Note` (message id and parameters, as the record keeps it) rendered as text.

The record keeps what was found, not how it was said, so the status comment can always be
rendered again — in the application's language, and after a wording changes. Each code's words are
a catalogue message (`bot.policy.i18n`); a new code is a new entry in `TEXTS`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.policy.evidence_words import EVIDENCE_TEXTS
from bot.policy.form_template import FormTemplate
from bot.policy.i18n import N_, SOURCE, Translator, translator
from bot.policy.lines import FAILURES, LINES, nested
from bot.policy.record import Note

Render = Callable[[Mapping[str, Any], FormTemplate | None, Translator], str]


def _count(p: Mapping[str, Any], key: str) -> int:
    try:
        return int(p.get(key, 0))
    except (TypeError, ValueError):
        return 0


def _community_figure(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    people = _count(p, "people")
    text = tr.ngettext("at least %(n)s contributor", "at least %(n)s contributors", people) if p.get("more") \
        else tr.ngettext("%(n)s contributor", "%(n)s contributors", people)
    bots = _count(p, "bots")
    if not bots:
        return text
    return tr.ngettext("%(figure)s (%(n)s bot not counted)", "%(figure)s (%(n)s bots not counted)", bots, figure=text)


def _label(template: FormTemplate | None, field_id: str) -> str:
    if template is not None and template.has_field(field_id):
        return template.field(field_id).label
    return field_id


def _goals_figure(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    words = p.get("words") or {}
    return tr.figures(tr.ngettext("%(field)s: %(n)s word", "%(field)s: %(n)s words", int(n),
                                  field=_label(template, f)) for f, n in words.items())


def _goals_fix(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    fields = tr.join(_label(template, f) for f in p.get("fields") or [])
    return tr.ngettext("Say more in %(fields)s (at least %(n)s word each): reviewers need clear goals, a funding "
                       "plan and milestones.",
                       "Say more in %(fields)s (at least %(n)s words each): reviewers need clear goals, a funding "
                       "plan and milestones.", _count(p, "min"), fields=fields)


def _activity(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    window = tr.ngettext("%(n)s day", "%(n)s days", _count(p, "window"))
    text = tr.ngettext("%(n)s commit in %(window)s", "%(n)s commits in %(window)s", _count(p, "commits"),
                       window=window)
    if "age" in p:
        text = tr.ngettext("%(figure)s, the last %(n)s day ago", "%(figure)s, the last %(n)s days ago",
                           _count(p, "age"), figure=text)
    return text


def _too_few_commits(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    window = tr.ngettext("%(n)s day", "%(n)s days", _count(p, "window"))
    return tr.ngettext("Needs at least %(n)s commit on the default branch %(branch)s in the last %(window)s.",
                       "Needs at least %(n)s commits on the default branch %(branch)s in the last %(window)s.",
                       _count(p, "min"), branch=p.get("branch", ""), window=window)


def _too_old(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    return tr.ngettext("The newest commit on the default branch %(branch)s must be at most %(n)s day old.",
                       "The newest commit on the default branch %(branch)s must be at most %(n)s days old.",
                       _count(p, "limit"), branch=p.get("branch", ""))


def _too_few_people(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    return tr.ngettext("Needs at least %(n)s person who has contributed (bots such as dependabot are not counted).",
                       "Needs at least %(n)s people who have contributed (bots such as dependabot are not counted).",
                       _count(p, "min"))


def _not_usernames(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    return tr.ngettext("%(answer)s is not a GitHub username; write usernames like @alice, separated by commas or new "
                       "lines.",
                       "%(answer)s are not GitHub usernames; write usernames like @alice, separated by commas or new "
                       "lines.", _count(p, "count") or 1, answer=p.get("answer", ""))


#: What each `AnswerError` (bot.policy.forms) says about an answer, by its code.
ANSWER_ERRORS: dict[str, str | Render] = {
    "not_a_repository": N_("%(answer)s is not a GitHub repository address like https://github.com/OWNER/REPO."),
    "inside_repository": N_("%(answer)s points inside a repository; give the repository's own address, %(url)s."),
    "not_an_amount": N_("%(answer)s is not an amount in US dollars written in digits, like 50000 or $50,000."),
    "not_positive": N_("%(answer)s is not more than zero; give the amount you ask for."),
    "not_usernames": _not_usernames,
    "not_an_issue": N_("%(answer)s is not an application issue number like #123."),
    "not_packages": N_("%(answer)s: name each package as pypi:NAME or npm:NAME (with @VERSION if you like), at most "
                       "%(max)s."),
}


def answer_error(code: str, params: Mapping[str, Any], tr: Translator) -> str:
    """What an `AnswerError` says, in `tr`'s language."""
    text = ANSWER_ERRORS[code]
    return text(params, None, tr) if callable(text) else tr.gettext(text, **params)


def _invalid(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    code = str(p.get("error", ""))
    reason = answer_error(code, p, tr) if code in ANSWER_ERRORS else str(p.get("reason", ""))
    return tr.gettext("%(label)s: %(reason)s", label=_problem_label(p, template), reason=reason)


def _problem_label(p: Mapping[str, Any], template: FormTemplate | None) -> str:
    # The label of the form the applicant filed (its heading in their issue), kept in the note.
    return str(p.get("label") or _label(template, str(p.get("field", ""))))


def _form_problem(message: str) -> Render:
    def render(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
        return tr.gettext(message, **{**p, "label": _problem_label(p, template)})
    return render


FORM_PROBLEMS: dict[str, Render] = {
    "missing": _form_problem(N_("%(label)s: this section is missing. Please edit the issue and add it back under "
                                "the heading “### %(label)s”.")),
    "empty": _form_problem(N_("%(label)s: this is required, but the answer is empty.")),
    "tick": _form_problem(N_("%(label)s: please tick “%(option)s”.")),
    "not_a_choice": _form_problem(N_("%(label)s: “%(answer)s” is not one of the choices (%(choices)s).")),
    "invalid": _invalid,
}

TEXTS: dict[str, str | Render] = {
    "text": lambda p, template, tr: str(p.get("text", "")),  # records written before version 2, as worded then
    "repository.ok": lambda p, template, tr: str(p.get("repo", "")),
    "repository.not_found": N_("%(repo)s not found"),
    "repository.not_found.fix": N_("GitHub has no public repository at that address: it may be misspelt, deleted "
                                   "or private. Applications need a public repository; fix the Repository field by "
                                   "editing the issue."),
    "repository.unreadable": N_("%(repo)s could not be read"),
    "repository.unreadable.fix": N_("GitHub answered: %(error)s. The bot will check again; say `/recheck` to retry "
                                    "now."),
    "repository.private": N_("%(repo)s is private"),
    "repository.private.fix": N_("Applications need a public repository."),
    "repository.moved": N_("The repository has moved from %(old)s to %(new)s; the checks ran on the new address. "
                           "Please update the Repository field."),
    # The same findings told to someone running `fundbot check` before applying: there is no issue to edit yet.
    "repository.not_found.fix.cli": N_("GitHub has no public repository at that address: it may be misspelt, "
                                       "deleted or private. Applications need a public repository; check the "
                                       "OWNER/REPO you gave."),
    "repository.unreadable.fix.cli": N_("GitHub answered: %(error)s. Run the check again later."),
    "repository.moved.cli": N_("The repository has moved from %(old)s to %(new)s; the checks ran on the new address. "
                               "Give the new one when you apply."),
    "licence.detected": lambda p, template, tr: str(p.get("licence", "")),
    "licence.none": N_("no licence detected"),
    "licence.none.fix": N_("Add a LICENSE file with the text of an OSI-approved licence (see "
                           "https://opensource.org/licenses or https://choosealicense.com) to the default branch."),
    "licence.unidentified": N_("licence not identified (NOASSERTION)"),
    "licence.unidentified.fix": N_("GitHub found a licence file but could not tell which licence it is. Use the "
                                   "unmodified text of an OSI-approved licence so GitHub can detect it."),
    "licence.not_osi": N_("%(licence)s is not OSI-approved"),
    "licence.not_osi.fix": N_("The fund supports projects under an OSI-approved licence "
                              "(https://opensource.org/licenses)."),
    "licence.mismatch": N_("The form declares %(declared)s, but GitHub detects %(detected)s in the repository."),
    "activity.archived": N_("archived"),
    "activity.archived.fix": N_("The repository is archived: unarchive it to apply."),
    "activity.empty": N_("empty repository"),
    "activity.empty.fix": N_("The repository has no commits yet."),
    "activity.figure": _activity,
    "activity.figure.age": _activity,
    "activity.too_few.fix": _too_few_commits,
    "activity.too_old.fix": _too_old,
    "community.none": N_("no contributors"),
    "community.figure": _community_figure,
    "community.too_few.fix": _too_few_people,
    "goals.figure": _goals_figure,
    "goals.fix": _goals_fix,
    **{f"form.{kind}": render for kind, render in FORM_PROBLEMS.items()},
}


def describe(note: Note | None, tr: Translator, template: FormTemplate | None = None) -> str:
    """`note` in words in `tr`'s language ("" for None); an unknown id shows itself rather than failing.
    `template` names form fields (the form in the application's language)."""
    if note is None:
        return ""
    text = TEXTS.get(note.code)
    if text is None:
        return note.code
    if callable(text):
        return text(note.params, template, tr)
    return tr.gettext(text, **note.params)


# --- writes GitHub refused ------------------------------------------------------------------------

# A write GitHub refused is kept in the record as a `Note` of these ids (`WriteFailure.what`, which
# `bot.jobs.pipeline` fills), and shown in the status comment in the application's language.
# Translators: a write to GitHub that GitHub refused, listed in the status comment ("could not be written").
WRITES: dict[str, str] = {
    "write.labels": N_("labels"),
    "write.close": N_("closing the issue"),
    "write.comment": N_("comment %(key)s"),
    "write.reaction": N_("reaction on comment %(comment)s"),
    "write.assign": N_("assign %(logins)s"),
    "write.delete": N_("deleting comment %(comment)s"),
}
TEXTS.update(WRITES)


# --- what a sweep did, and what failed (`bot.policy.lines`) ----------------------------------------


def _refused(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    return tr.gettext(FAILURES["failure.refused"], **{**p, "what": describe(nested(p.get("what")), tr)})


TEXTS.update(LINES)
TEXTS.update(FAILURES)
TEXTS["failure.refused"] = _refused


# --- the evidence pack's checks (`bot.policy.evidence_flow`) -------------------------------------------

TEXTS.update(EVIDENCE_TEXTS)


def english(note: Note) -> str:
    """A kept note in the words the process logs and prints (the catalogues' source language)."""
    return describe(note, translator(SOURCE))
