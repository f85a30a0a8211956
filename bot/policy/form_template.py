"""The issue-form template as policy sees it: its answerable fields in order, with their types, options
and required flags.

The template file (``.github/ISSUE_TEMPLATE/*.yml``) is the only list of fields: the body parser
(`bot.policy.form_body`) and the renderer (`bot.policy.form_render`) take every label, type and option
from it. Reading a template file is configuration's (`bot.config.forms`); nothing here reads the disk.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

#: What GitHub writes for an optional field left empty.
NO_RESPONSE = "_No response_"


class FieldType(Enum):
    """The kinds of form item that carry an answer (``markdown`` items carry none and are skipped)."""

    INPUT = "input"
    TEXTAREA = "textarea"
    DROPDOWN = "dropdown"
    CHECKBOXES = "checkboxes"


@dataclass(frozen=True)
class FormField:
    """One answerable item of a form, as the template declares it.

    ``required`` is the item's ``validations.required``. A checkboxes item has no such key, so
    for checkboxes it is true when at least one option is required. ``options`` holds the
    dropdown's options or the checkbox labels. ``required_options`` holds the checkbox options
    that must be ticked.
    """

    id: str
    label: str
    type: FieldType
    required: bool
    options: tuple[str, ...] = ()
    multiple: bool = False
    render: str | None = None
    required_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormTemplate:
    """An issue-form template: its name, the labels it applies, and its answerable fields in order.

    ``language`` is the language its file name gives (``application.zh.yml``: ``zh``); None for a
    name without one (``application.yml``, the fund's own form)."""

    path: Path
    name: str
    labels: tuple[str, ...]
    fields: tuple[FormField, ...]
    language: str | None = None

    def field(self, field_id: str) -> FormField:
        """The field with this id; `KeyError` if the template has none."""
        for field in self.fields:
            if field.id == field_id:
                return field
        raise KeyError(f"{self.path.name} has no field {field_id!r}")

    def has_field(self, field_id: str) -> bool:
        """Whether the template has a field with this id."""
        return any(field.id == field_id for field in self.fields)


def label_key(text: str) -> str:
    """How labels and options are compared: NFKC, invisible format characters (zero-width spaces
    and joiners, bidirectional marks) dropped, whitespace collapsed, case folded."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split()).casefold()

