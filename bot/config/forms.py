"""Issue-form templates read: a template file, or a fund's template text, turned into a `FormTemplate`,
and a file checked against GitHub's issue-forms schema (``fundbot validate``).

Besides the shape GitHub requires, the bot needs every field to have an ``id``, because answers are
keyed by id, and the labels to be distinct, because labels are the headings in the body.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import yaml

from bot.config.fund_yaml import FundYamlError, load_fund_yaml
from bot.policy.form_template import FieldType, FormField, FormTemplate, label_key

#: GitHub's issue-forms schema, shipped with the package for ``fundbot validate`` (see schemas/SOURCES.md).
ISSUE_FORMS_SCHEMA_PATH = Path(__file__).parent / "schemas" / "github-issue-forms.schema.json"


class FormTemplateError(Exception):
    """A template file that cannot be used. ``reason`` says why, in words for the administrator."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def load_template(path: Path) -> FormTemplate:
    """Read a template file, or raise `FormTemplateError` that says what is wrong with it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormTemplateError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise FormTemplateError(path, "the file is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise FormTemplateError(path, f"not valid YAML: {exc}") from exc
    return template_from_data(path, data)


def parse_template(path: Path, text: str) -> FormTemplate:
    """A template from its text (as read from a fund's repository); `path` names it in errors."""
    try:
        data = load_fund_yaml(text)
    except FundYamlError as exc:
        raise FormTemplateError(Path(path), str(exc)) from None
    return template_from_data(Path(path), data)


def template_from_data(path: Path, data: object) -> FormTemplate:
    """The template a YAML document describes, or `FormTemplateError` saying what is wrong with it."""
    def fail(reason: str) -> FormTemplateError:
        return FormTemplateError(path, reason)

    if not isinstance(data, dict):
        raise fail("the template must be a YAML mapping with name, description and body")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("`name` is missing or empty")
    labels = data.get("labels") or []
    # GitHub accepts labels as a list or as one comma-separated string.
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",") if part.strip()]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise fail("`labels` must be a list of label names")
    body = data.get("body")
    if not isinstance(body, list) or not body:
        raise fail("`body` must be a non-empty list of form items")

    fields: list[FormField] = []
    seen_labels: dict[str, str] = {}
    for number, item in enumerate(body, start=1):
        where = f"body item {number}"
        if not isinstance(item, dict):
            raise fail(f"{where} is not a mapping")
        kind = item.get("type")
        if kind == "markdown":
            continue
        try:
            field_type = FieldType(kind)
        except ValueError:
            raise fail(f"{where} has unknown type {kind!r}") from None
        field = _field_from_item(field_type, item, where, fail)
        if any(f.id == field.id for f in fields):
            raise fail(f"{where}: the id {field.id!r} is used twice")
        key = label_key(field.label)
        if key in seen_labels:
            raise fail(
                f"{where}: the label {field.label!r} is also used by {seen_labels[key]!r}; "
                "labels become the headings of the issue body, so they must differ"
            )
        seen_labels[key] = field.id
        fields.append(field)
    if not fields:
        raise fail("the form has no fields to answer")
    parts = path.name.split(".")
    language = parts[-2] if len(parts) >= 3 else None
    return FormTemplate(path=path, name=name.strip(), labels=tuple(labels), fields=tuple(fields), language=language)


_ID = re.compile(r"[A-Za-z0-9_-]+")


def _field_from_item(
    field_type: FieldType, item: dict, where: str, fail: Callable[[str], FormTemplateError]
) -> FormField:
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        raise fail(f"{where} has no `attributes` mapping")
    label = attributes.get("label")
    if not isinstance(label, str) or not label.strip():
        raise fail(f"{where} has no `label`")
    field_id = item.get("id")
    if not isinstance(field_id, str) or not _ID.fullmatch(field_id):
        raise fail(
            f"{where} ({label!r}) needs an `id` of letters, digits, '-' and '_': "
            "the bot keys answers by id"
        )
    validations = item.get("validations") or {}
    if not isinstance(validations, dict):
        raise fail(f"{where} ({label!r}): `validations` must be a mapping")
    required = validations.get("required", False) is True

    options: tuple[str, ...] = ()
    required_options: tuple[str, ...] = ()
    raw_options = attributes.get("options")
    if field_type is FieldType.DROPDOWN:
        if not isinstance(raw_options, list) or not raw_options:
            raise fail(f"{where} ({label!r}): a dropdown needs a list of `options`")
        if not all(isinstance(o, str) and o.strip() for o in raw_options):
            raise fail(f"{where} ({label!r}): dropdown options must be non-empty strings")
        options = tuple(raw_options)
    elif field_type is FieldType.CHECKBOXES:
        if not isinstance(raw_options, list) or not raw_options:
            raise fail(f"{where} ({label!r}): checkboxes need a list of `options`")
        labels: list[str] = []
        for option in raw_options:
            if not isinstance(option, dict) or not isinstance(option.get("label"), str):
                raise fail(f"{where} ({label!r}): each checkbox option needs a `label`")
            labels.append(option["label"])
            if option.get("required", False) is True:
                required_options += (option["label"],)
        options = tuple(labels)
        required = bool(required_options)
    if len({label_key(o) for o in options}) != len(options):
        raise fail(f"{where} ({label!r}): options must be distinct")

    render = attributes.get("render") if field_type is FieldType.TEXTAREA else None
    return FormField(
        id=field_id,
        label=label.strip(),
        type=field_type,
        required=required,
        options=options,
        multiple=field_type is FieldType.DROPDOWN and attributes.get("multiple") is True,
        render=render if isinstance(render, str) and render else None,
        required_options=required_options,
    )


def validate_template_file(path: Path) -> tuple[str, ...]:
    """Everything wrong with a template file, checked against GitHub's issue-forms schema and then
    against the bot's own needs. Returns an empty tuple when the file is fine. Used by
    ``fundbot validate``."""
    import json

    import jsonschema  # imported here: only validation needs it, not the webhook path

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return (f"{path}: cannot read the template: {exc}",)
    schema = json.loads(ISSUE_FORMS_SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{path}: at {'/'.join(str(p) for p in error.absolute_path) or 'top level'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    try:
        template_from_data(path, data)
    except FormTemplateError as exc:
        errors.append(str(exc))
    return tuple(errors)
