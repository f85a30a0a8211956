"""A form as read from an issue body: its answers, typed where a field has meaning, and the problems
the applicant must fix (`bot.policy.form_body` reads it). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from bot.policy.answers import VALIDATORS, AnswerError, RepoRef
from bot.policy.form_template import FormTemplate
from bot.policy.i18n import SOURCE, translator
from bot.policy.record import Note
from bot.policy.wording import describe


@dataclass(frozen=True)
class FormProblem:
    """One thing the applicant should fix: the field, what is wrong (``kind``: missing, empty,
    tick, not_a_choice, invalid) and the details; ``message`` says it in plain words."""

    field_id: str | None
    kind: str
    params: Mapping[str, Any]

    @property
    def note(self) -> Note:
        """The problem as the record keeps it (rendered in the application's language)."""
        return Note(f"form.{self.kind}", {"field": self.field_id or "", **self.params})

    @property
    def message(self) -> str:
        """The problem in the English the code is written in (tests, logs); the application sees
        its `note` in its own language."""
        return describe(self.note, translator(SOURCE))


@dataclass(frozen=True)
class ParsedForm:
    """The answers read from one issue body.

    ``answers`` has every field id of the template. For inputs and textareas the answer is the
    stripped text, or None if empty. For dropdowns it is the chosen option or None, or a tuple
    if the dropdown allows several. For checkboxes it is ``{option: ticked}`` for every option.
    ``recognised`` is true when at least half of the template's headings were found, which means
    the body is this form.
    """

    answers: Mapping[str, object]
    problems: tuple[FormProblem, ...]
    recognised: bool
    template: FormTemplate | None = field(default=None, compare=False)  # the form it was read as

    @property
    def complete(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems

    def _typed(self, field_id: str) -> object | None:
        value = self.answers.get(field_id)
        if not isinstance(value, str):
            return None
        try:
            return VALIDATORS[field_id](value)
        except AnswerError:
            return None

    @property
    def repository(self) -> RepoRef | None:
        """The repository applied for, or None if missing or not a repository address."""
        return self._typed("repository")  # type: ignore[return-value]

    @property
    def funding_amount(self) -> Decimal | None:
        """The amount asked for in USD, or None if missing or not a positive number."""
        return self._typed("funding_amount")  # type: ignore[return-value]

    @property
    def maintainers(self) -> tuple[str, ...]:
        """The listed maintainers' logins, without ``@`` and in the case written. Compare them
        ignoring case. Empty if none are listed or the list has an invalid name."""
        return self._typed("maintainers") or ()  # type: ignore[return-value]

    @property
    def application_number(self) -> int | None:
        """A progress report's application issue number, or None."""
        return self._typed("application")  # type: ignore[return-value]

    def problems_for(self, field_id: str) -> tuple[FormProblem, ...]:
        """The problems with one field."""
        return tuple(p for p in self.problems if p.field_id == field_id)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the answers (with tuples as lists), the typed values of the fields
        that have meaning (with Decimal as a string), the problems, and ``recognised``."""
        repository, amount = self.repository, self.funding_amount
        typed = {
            "repository": repository.full_name if repository else None,
            "funding_amount": None if amount is None else str(amount),
            "maintainers": list(self.maintainers),
            "application": self.application_number,
        }
        return {
            "recognised": self.recognised,
            "complete": self.complete,
            "answers": {k: list(v) if isinstance(v, tuple) else v for k, v in self.answers.items()},
            "typed": {k: v for k, v in typed.items() if k in self.answers},
            "problems": [{"field_id": p.field_id, "message": p.message} for p in self.problems],
        }

