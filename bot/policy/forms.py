"""Issue forms: load a GitHub issue-form template and parse the issue bodies GitHub renders from it.

The template file (``.github/ISSUE_TEMPLATE/*.yml``) is the only list of fields. The parser gets
every label, type, option and required flag from it, and never has a second copy. Parsing is pure.
It never raises on a body. Whatever is wrong with an answer becomes a `FormProblem`, written in plain
words for the applicant.

How GitHub renders a submitted form into the issue body (see
https://docs.github.com/en/communities/using-templates-to-encourage-useful-issues-and-pull-requests/syntax-for-githubs-form-schema):

* each field becomes ``### <label>``, a blank line, then the answer; markdown items are not rendered;
* an empty answer is ``_No response_``;
* a dropdown answer is the chosen option; a multi-select dropdown gives its options joined by ``", "``;
* checkboxes become one ``- [X] option`` or ``- [ ] option`` line per option;
* a textarea with ``render: <lang>`` is wrapped in a code fence of that language.

People edit the body afterwards, so the parser also accepts CRLF line endings, text before the
first heading, sections in another order, missing sections, extra whitespace, trailing spaces or
closing ``#`` on a heading, and lower-case ``[x]``. A line is a heading only if it is ``### <label>``
for one of the template's labels and is outside a fenced code block. Other ``###`` lines, and a
``### <label>`` inside a code block, are part of the answer. A fence that is never closed counts
as plain text, so it cannot hide the rest of the form. When a label appears as a heading more than
once, the parser uses the copies that keep the most fields in the form's order. If the copies tie,
it uses the first one, and the others stay as answer text. So one case stays ambiguous: a field's
own label, or the next field's label, written as a ``###`` heading outside a code block in an
answer. For the next field's label, the parser picks the wrong copy.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from bot.config.fund_yaml import FundYamlError, load_fund_yaml
from bot.policy.record import Note

__all__ = [
    "AnswerError",
    "FieldType",
    "FormField",
    "FormProblem",
    "FormTemplate",
    "FormTemplateError",
    "ISSUE_FORMS_SCHEMA_PATH",
    "NO_RESPONSE",
    "ParsedForm",
    "RepoRef",
    "VALIDATORS",
    "parse_amount",
    "parse_form",
    "parse_any",
    "parse_handles",
    "parse_issue_number",
    "parse_repository",
    "render_form",
    "validate_template_file",
]

#: GitHub's issue-forms schema, shipped with the package for ``fundbot validate`` (see schemas/SOURCES.md).
ISSUE_FORMS_SCHEMA_PATH = Path(__file__).parent / "schemas" / "github-issue-forms.schema.json"

#: What GitHub writes for an optional field left empty.
NO_RESPONSE = "_No response_"
#: What GitHub writes for a dropdown left without a choice: an empty answer, unless it is an option.
NO_CHOICE = "None"


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------


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


class FormTemplateError(Exception):
    """A template file that cannot be used. ``reason`` says why, in words for the administrator."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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

    @classmethod
    def load(cls, path: Path) -> "FormTemplate":
        """Read a template file, or raise `FormTemplateError` that says what is wrong with it.

        Besides the shape GitHub requires, the bot needs every field to have an ``id``, because
        answers are keyed by id. It also needs the labels to be distinct, because labels are the
        headings in the body.
        """
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FormTemplateError(path, f"cannot read the file ({exc.strerror or exc})") from exc
        except UnicodeDecodeError as exc:
            raise FormTemplateError(path, "the file is not UTF-8 text") from exc
        except yaml.YAMLError as exc:
            raise FormTemplateError(path, f"not valid YAML: {exc}") from exc
        return cls._from_data(path, data)

    @classmethod
    def parse(cls, path: Path, text: str) -> "FormTemplate":
        """A template from its text (as read from a fund's repository); `path` names it in errors."""
        try:
            data = load_fund_yaml(text)
        except FundYamlError as exc:
            raise FormTemplateError(Path(path), str(exc)) from None
        return cls._from_data(Path(path), data)

    @classmethod
    def _from_data(cls, path: Path, data: object) -> "FormTemplate":
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
            key = _label_key(field.label)
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
        return cls(path=path, name=name.strip(), labels=tuple(labels), fields=tuple(fields), language=language)

    def field(self, field_id: str) -> FormField:
        """The field with this id; `KeyError` if the template has none."""
        for field in self.fields:
            if field.id == field_id:
                return field
        raise KeyError(f"{self.path.name} has no field {field_id!r}")

    def has_field(self, field_id: str) -> bool:
        """Whether the template has a field with this id."""
        return any(field.id == field_id for field in self.fields)


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
    if len({_label_key(o) for o in options}) != len(options):
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
        FormTemplate._from_data(path, data)
    except FormTemplateError as exc:
        errors.append(str(exc))
    return tuple(errors)


# --------------------------------------------------------------------------------------------
# Answers with meaning: validators keyed by field id
# --------------------------------------------------------------------------------------------


class AnswerError(ValueError):
    """An answer that does not have the shape its field needs: ``code`` says what is wrong,
    ``params`` the details (the answer quoted, short), and ``str()`` the reason in plain words,
    without the field's label (the caller adds it)."""

    def __init__(self, code: str, **params: Any) -> None:
        from bot.policy.i18n import SOURCE, translator
        from bot.policy.wording import answer_error  # wording puts these codes in words, so it imports this module

        self.code = code
        self.params = params
        super().__init__(answer_error(code, params, translator(SOURCE)))


@dataclass(frozen=True)
class RepoRef:
    """A GitHub repository named by its owner and name, in the case the applicant wrote them."""

    owner: str
    name: str

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        """The repository's address on github.com."""
        return f"https://github.com/{self.full_name}"


def _quote(text: str, limit: int = 80) -> str:
    """The applicant's text on one line in curly quotes, cut short if long, for a problem message."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f"“{flat}”"


def _short(text: str, limit: int = 300) -> str:
    """``text`` stripped; an answer longer than any real address, amount or issue number is cut
    short. What is left cannot then match, and a very long answer never gets to the regexes."""
    value = text.strip()
    return value if len(value) <= limit else value[:limit] + " …"


# A GitHub login: 1-39 letters, digits or single hyphens, with no hyphen at either end.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_GITHUB_URL = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com(?P<path>/[^?#\s]*)?(?:[?#]\S*)?", re.IGNORECASE
)
# The first part of a github.com path that is a site page, not an owner (github.com/orgs/acme ...).
_NOT_OWNERS = frozenset(
    "about apps collections enterprises explore features login marketplace new notifications "
    "orgs organizations pricing search settings sponsors topics trending users".split()
)


def parse_repository(text: str) -> RepoRef:
    """Read a repository address such as ``https://github.com/OWNER/REPO``.

    Accepted: surrounding whitespace or ``<…>``, ``http://``, no scheme (``github.com/o/r``),
    ``www.github.com``, a trailing ``/``, a ``.git`` suffix, and a ``?query`` or ``#fragment``,
    which is dropped (GitHub's own links add ``#readme``). Rejected: other hosts, ``github.com``
    pages that are not repositories, bare ``OWNER/REPO``, and addresses that go deeper than the
    repository, such as ``/tree/main``, ``/issues/1`` or ``/pull/2``. The message for those shows
    the repository's own address, so the fix is obvious. Raises `AnswerError`.
    """
    value = _short(text)
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    not_a_repo = AnswerError("not_a_repository", answer=_quote(value))
    match = _GITHUB_URL.fullmatch(value)
    if not match:
        raise not_a_repo
    parts = [p for p in (match["path"] or "").split("/")]
    while parts and parts[-1] == "":  # trailing slashes
        parts.pop()
    parts = parts[1:]  # the path starts with "/"
    if len(parts) < 2 or "" in parts[:2]:
        raise not_a_repo
    owner, name = parts[0], parts[1]
    if name.lower().endswith(".git"):
        name = name[:-4]
    if (
        not _LOGIN.fullmatch(owner)
        or owner.lower() in _NOT_OWNERS
        or not _REPO_NAME.fullmatch(name)
        or name in {".", ".."}
    ):
        raise not_a_repo
    repo = RepoRef(owner, name)
    if len(parts) > 2:
        raise AnswerError("inside_repository", answer=_quote(value), url=repo.url)
    return repo


_CURRENCY_BEFORE = re.compile(r"^(?:US\$|USD|\$)\s*", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*(?:USD|US\$|\$|US dollars?|dollars?|美元)$", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?P<sign>-?)\s*(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<cents>[0-9]{1,2}))?"
)


def parse_amount(text: str) -> Decimal:
    """Read an amount in US dollars and return it as a `Decimal`.

    Accepted: ``50000``, ``50,000``, ``$50,000``, ``US$50,000``, ``50000 USD``, ``USD 50,000.50``,
    ``50000 dollars``, ``50000美元``, ``50 000`` (a space, or a no-break space, between groups),
    and full-width digits (NFKC-normalised). Commas or spaces must group digits in threes, and
    there may be at most two decimals (cents). Rejected: zero and negative
    amounts; words (``fifty thousand``); shorthand (``50k``, ``1.5m``), because the request should
    state its exact figure; other currencies; and ambiguous groupings such as ``50.000`` or
    ``5,0000``. Raises `AnswerError`.
    """
    value = _short(unicodedata.normalize("NFKC", text))
    rest = _CURRENCY_AFTER.sub("", _CURRENCY_BEFORE.sub("", value, count=1), count=1).strip()
    # "$-5" and "-$5" are both negative amounts, not words.
    if rest.startswith("-"):
        rest = "-" + _CURRENCY_BEFORE.sub("", rest[1:].strip(), count=1)
    match = _NUMBER.fullmatch(rest)
    if not match:
        raise AnswerError("not_an_amount", answer=_quote(value))
    # Built from the digits as written, so 50000 stays 50000 and 50000.50 keeps its cents
    # (Decimal construction is exact at any length; arithmetic would round at 28 digits).
    whole = match["whole"].replace(",", "").replace(" ", "")
    digits = whole + (f".{match['cents']}" if match["cents"] else "")
    amount = Decimal(digits)
    if match["sign"] or amount <= 0:
        raise AnswerError("not_positive", answer=_quote(value))
    return amount


_HANDLE_SEPARATORS = re.compile(r"[\s,;、]+")
_PROFILE_URL = re.compile(r"(?:https?://)?(?:www\.)?github\.com/([^/?#\s]+)/?", re.IGNORECASE)
# Words that are not names: list markers ("- @alice", "* bob", "1. carol", "2) dave") and a
# bare "and" or "&" between names ("@alice and @bob"; a user called "and" is written "@and").
_NOT_A_NAME = re.compile(r"[-*+•&]|[0-9]{1,3}[.)]|and", re.IGNORECASE)


def parse_handles(text: str) -> tuple[str, ...]:
    """Read GitHub usernames, keeping the case written and dropping repeats (compared ignoring case).

    Accepted: ``@alice, @bob``, one per line, separated by spaces, commas, semicolons or a bare
    ``and``, with or without ``@``, in a markdown list, or as profile links
    (``https://github.com/alice``). A name
    must be a valid GitHub login: 1–39 letters, digits or single hyphens, with no hyphen at either
    end. Raises `AnswerError` naming every name that is not valid.
    """
    logins: list[str] = []
    bad: list[str] = []
    for token in _HANDLE_SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        if not token or _NOT_A_NAME.fullmatch(token):
            continue
        profile = _PROFILE_URL.fullmatch(token)
        login = profile[1] if profile else token.removeprefix("@")
        if not _LOGIN.fullmatch(login):
            bad.append(token)
        elif login.lower() not in {known.lower() for known in logins}:
            logins.append(login)
    if bad:
        raise AnswerError("not_usernames", answer=", ".join(_quote(token, 40) for token in bad), count=len(bad))
    return tuple(logins)


_ISSUE_NUMBER = re.compile(r"#?\s*([0-9]{1,9})")
_ISSUE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com/[^/\s]+/[^/\s]+/issues/([0-9]{1,9})(?:[/?#]\S*)?",
    re.IGNORECASE,
)


def parse_issue_number(text: str) -> int:
    """Read a reference to an application issue: ``#123``, ``123`` or an issue address
    ``https://github.com/OWNER/REPO/issues/123``. Only the number is kept: the caller, who knows
    which repository holds the applications, checks the issue itself. Pull-request addresses and
    ``OWNER/REPO#123`` are rejected. Raises `AnswerError`."""
    value = _short(text).strip("<>").strip()
    match = _ISSUE_NUMBER.fullmatch(value) or _ISSUE_URL.fullmatch(value)
    if not match or int(match[1]) == 0:
        raise AnswerError("not_an_issue", answer=_quote(value))
    return int(match[1])


#: Checks for the answers that carry meaning, keyed by field id. A check runs only when the
#: template has that field and the answer is not empty. Each returns the typed value or raises
#: `AnswerError`.
VALIDATORS: Mapping[str, Callable[[str], object]] = MappingProxyType(
    {
        "repository": parse_repository,
        "funding_amount": parse_amount,
        "maintainers": parse_handles,
        "application": parse_issue_number,
    }
)


# --------------------------------------------------------------------------------------------
# The parsed form
# --------------------------------------------------------------------------------------------


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
        from bot.policy.i18n import SOURCE, translator
        from bot.policy.wording import describe  # wording renders forms' problems, so it imports this module

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


def could_be_form(template: FormTemplate, body: str | None) -> bool:
    """False when `body` cannot be `recognised` as `template` (too few `###` headings): a cheap
    test that spares a full parse for the many issues and comments that are not forms."""
    return isinstance(body, str) and 2 * body.count("###") >= len(template.fields)


def _lines(body: str | None) -> list[str]:
    text = body if isinstance(body, str) else ""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_form(template: FormTemplate, body: str | None, *, also: Sequence[FormTemplate] = ()) -> ParsedForm:
    """Read the answers to ``template`` from an issue body, and list what the applicant must fix.

    ``also``: the same form in other languages (the same ids). Their headings and options are read
    as this form's, so a section copied from the other language's form is not lost; the problems
    name this form's labels. Never raises, whatever the body. A None or empty body gives empty
    answers and is not ``recognised``.
    """
    lines = _lines(body)
    headings, spellings = _aliases(template, also)
    sections = _sections(template, lines, headings)

    answers: dict[str, object] = {}
    problems: list[FormProblem] = []
    for field in template.fields:
        raw = sections.get(field.id)
        value = _answer(field, raw, spellings[field.id])
        answers[field.id] = value
        problems.extend(_problems(field, found=raw is not None, value=value))

    found = len(sections)
    return ParsedForm(
        answers=MappingProxyType(answers),
        problems=tuple(problems),
        recognised=found > 0 and 2 * found >= len(template.fields),
        template=template,
    )


def parse_any(templates: Sequence[FormTemplate], body: str | None) -> ParsedForm:
    """Read a body filed from any of ``templates`` — one form in several languages, with the same
    ids — as the one whose own headings it has most of (the first on a tie: the fund's own form),
    reading the others' headings and options too (see `parse_form`)."""
    if len(templates) == 1:
        return parse_form(templates[0], body)
    lines = _lines(body)
    inside = _fenced(lines)
    headings = {_label_key(text) for number, line in enumerate(lines)
                if not inside[number] and "###" in line and (text := _heading_text(line)) is not None}
    # max keeps the first of equals
    chosen = max(templates, key=lambda t: sum(_label_key(f.label) in headings for f in t.fields))
    return parse_form(chosen, body, also=[t for t in templates if t is not chosen])


def _aliases(template: FormTemplate, others: Sequence[FormTemplate]
             ) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """The other forms' headings (label key -> field index) and each field's spellings of its
    options (option key -> this form's option; the other forms' options by position)."""
    headings: dict[str, int] = {}
    spellings: dict[str, dict[str, str]] = {}
    for n, field in enumerate(template.fields):
        spelling = spellings[field.id] = {_label_key(option): option for option in field.options}
        for other in others:
            if not other.has_field(field.id):
                continue
            twin = other.field(field.id)
            headings.setdefault(_label_key(twin.label), n)
            if len(twin.options) == len(field.options):
                for mine, theirs in zip(field.options, twin.options):
                    spelling.setdefault(_label_key(theirs), mine)
    return headings, spellings


def _label_key(text: str) -> str:
    """How labels and options are compared: NFKC, invisible format characters (zero-width spaces
    and joiners, bidirectional marks) dropped, whitespace collapsed, case folded."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split()).casefold()


# A heading as GitHub writes it, with the leeway of CommonMark: up to three spaces before it, and
# trailing spaces or a closing run of "#" after it (removed by _heading_text, not by the regex,
# whose backtracking would be quadratic on long runs of spaces).
_HEADING = re.compile(r" {0,3}###[ \t]")
# Fenced code blocks (https://spec.commonmark.org/0.31.2/#fenced-code-blocks). The indentation
# limit is not enforced, because answers often put fences inside list items.
_FENCE_OPEN = re.compile(r"[ \t]*(?P<fence>`{3,}(?=[^`]*$)|~{3,}).*")
_FENCE_CLOSE = re.compile(r"[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*")


def _fenced(lines: list[str]) -> list[bool]:
    """Which lines are inside a fenced code block, fence lines included.

    A fence that is never closed is treated as ordinary text. CommonMark would run it to the end
    of the body and hide every section after it, which would lose the rest of the form."""
    n = len(lines)
    closers: list[tuple[str, int] | None] = []
    for line in lines:
        m = _FENCE_CLOSE.fullmatch(line)
        closers.append((m["fence"][0], len(m["fence"])) if m else None)
    # longest[c][i]: the longest closing fence of character c at line i or later. It lets an
    # unclosed opener be recognised at once, so the whole scan stays linear.
    longest = {"`": [0] * (n + 1), "~": [0] * (n + 1)}
    for i in range(n - 1, -1, -1):
        for char in "`~":
            longest[char][i] = longest[char][i + 1]
        if closers[i]:
            char, length = closers[i]
            longest[char][i] = max(longest[char][i], length)

    inside = [False] * n
    i = 0
    while i < n:
        m = _FENCE_OPEN.fullmatch(lines[i])
        if m:
            char, length = m["fence"][0], len(m["fence"])
            if longest[char][i + 1] >= length:
                j = i + 1
                while not (closers[j] and closers[j][0] == char and closers[j][1] >= length):
                    j += 1
                for k in range(i, j + 1):
                    inside[k] = True
                i = j + 1
                continue
        i += 1
    return inside


def _heading_text(line: str) -> str | None:
    """The text of a ``###`` heading line, or None if the line is not one."""
    m = _HEADING.match(line)
    if not m:
        return None
    text = line[m.end() :].strip(" \t")
    unclosed = text.rstrip("#")
    if unclosed != text and (not unclosed or unclosed[-1] in " \t"):
        text = unclosed.rstrip(" \t")
    return text


def _sections(template: FormTemplate, lines: list[str], aliases: Mapping[str, int] | None = None) -> dict[str, str]:
    """The raw text under each field's heading, keyed by field id. A field whose heading is not
    in the body is absent. ``aliases``: more headings (label key -> field index), e.g. the same
    form's in another language."""
    index = {_label_key(f.label): n for n, f in enumerate(template.fields)}
    for key, n in (aliases or {}).items():
        index.setdefault(key, n)
    inside = _fenced(lines)
    candidates: list[tuple[int, int]] = []  # (line, field index)
    for number, line in enumerate(lines):
        if inside[number] or "###" not in line:
            continue
        text = _heading_text(line)
        field_index = None if text is None else index.get(_label_key(text))
        if field_index is not None:
            candidates.append((number, field_index))

    chosen = _choose_headings(candidates)
    starts = sorted((line, field_index) for field_index, line in chosen.items())
    sections: dict[str, str] = {}
    for k, (line, field_index) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        sections[template.fields[field_index].id] = "\n".join(lines[line + 1 : end])
    return sections


def _choose_headings(candidates: list[tuple[int, int]]) -> dict[int, int]:
    """Pick one heading line per field from the candidate ``(line, field index)`` pairs.

    The longest run of candidates in the form's order is taken first. On a tie, the earlier
    line wins. Fields outside that run, which happens when sections were moved around, take
    their first candidate. The other candidates are copies of a label inside an answer, and
    stay as text."""
    # Longest strictly increasing subsequence of field indices, O(n log n). The search runs from
    # the end of the body backwards, so that on a tie the earliest line is kept.
    backwards = candidates[::-1]
    tail_keys: list[int] = []
    tail_at: list[int] = []
    previous = [-1] * len(backwards)
    for k, (_, field_index) in enumerate(backwards):
        key = -field_index
        j = bisect_left(tail_keys, key)
        previous[k] = tail_at[j - 1] if j else -1
        if j == len(tail_keys):
            tail_keys.append(key)
            tail_at.append(k)
        else:
            tail_keys[j] = key
            tail_at[j] = k
    chosen: dict[int, int] = {}
    k = tail_at[-1] if tail_at else -1
    while k != -1:
        line, field_index = backwards[k]
        chosen[field_index] = line
        k = previous[k]
    for line, field_index in candidates:
        chosen.setdefault(field_index, line)
    return chosen


def _strip_render_fence(text: str) -> str:
    """Remove the code fence GitHub wraps around a textarea with ``render:``."""
    lines = text.split("\n")
    if len(lines) >= 2:
        opening = _FENCE_OPEN.fullmatch(lines[0])
        closing = _FENCE_CLOSE.fullmatch(lines[-1])
        if (
            opening
            and closing
            and closing["fence"][0] == opening["fence"][0]
            and len(closing["fence"]) >= len(opening["fence"])
        ):
            return "\n".join(lines[1:-1]).strip("\n")
    return text


# A task-list line, as GitHub renders a checkbox: "- [X] option" (people may type "[x]" or "*").
_CHECKBOX = re.compile(r"[ \t]*[-*+][ \t]+\[(?P<mark>[ xX])\][ \t]+(?P<option>.*)")


def _answer(field: FormField, raw: str | None, spellings: Mapping[str, str]) -> object:
    """The typed answer for one field from the raw text of its section (None: no section);
    ``spellings`` maps each way of writing an option (compared by `_label_key`) to the option."""
    if field.type is FieldType.CHECKBOXES:
        ticked: dict[str, bool] = {option: False for option in field.options}
        for line in (raw or "").split("\n"):
            m = _CHECKBOX.fullmatch(line)
            option = spellings.get(_label_key(m["option"])) if m else None
            if option is not None:
                ticked[option] = ticked[option] or m["mark"] != " "
        return ticked

    text = (raw or "").strip()
    if field.render:
        text = _strip_render_fence(text)
    if not text.strip() or text.strip().casefold() == NO_RESPONSE.casefold():
        return None
    if field.type is not FieldType.DROPDOWN:
        return text
    if text.strip() == NO_CHOICE and NO_CHOICE not in field.options:
        return None
    if field.multiple:
        return _split_choices(text, spellings)
    return _canonical_option(text, spellings)


def _canonical_option(text: str, spellings: Mapping[str, str]) -> str:
    """The template's spelling of a chosen option, or the text itself if it is no option."""
    return spellings.get(_label_key(text), text.strip())


def _split_choices(text: str, spellings: Mapping[str, str]) -> tuple[str, ...]:
    """Split a multi-select answer on ", ", without breaking options that contain a comma."""
    keys = spellings
    longest = 1 + max((key.count(",") for key in keys), default=0)
    parts = [part.strip() for part in text.split(",")]
    choices: list[str] = []
    start = 0
    while start < len(parts):
        # Take the longest run of parts that together spell one option; else one part.
        end = next(
            (
                e
                for e in range(min(len(parts), start + longest), start, -1)
                if _label_key(", ".join(parts[start:e])) in keys
            ),
            start + 1,
        )
        choice = ", ".join(parts[start:end])
        if choice:
            choices.append(_canonical_option(choice, spellings))
        start = end
    return tuple(choices)


def _problems(field: FormField, *, found: bool, value: object) -> list[FormProblem]:
    """What is wrong with one field's answer, one problem per thing to fix."""
    def problem(kind: str, **params: Any) -> FormProblem:
        return FormProblem(field.id, kind, {"label": field.label, **params})

    if field.type is FieldType.CHECKBOXES:
        assert isinstance(value, dict)
        # The option's own final full stop is dropped so the sentence does not end in "”.".
        return [problem("tick", option=option.rstrip(".。")) for option in field.required_options if not value[option]]
    if value is None:
        if not field.required:
            return []
        return [problem("empty" if found else "missing")]
    if field.type is FieldType.DROPDOWN:
        chosen = value if isinstance(value, tuple) else (value,)
        unknown = [c for c in chosen if c not in field.options]
        choices = ", ".join(f"“{option}”" for option in field.options)
        return [problem("not_a_choice", answer=_quote(c).strip("“”"), choices=choices) for c in unknown]
    validator = VALIDATORS.get(field.id)
    if validator is not None and isinstance(value, str):
        try:
            validator(value)
        except AnswerError as exc:
            return [problem("invalid", error=exc.code, **exc.params)]
    return []


# --------------------------------------------------------------------------------------------
# Rendering, the other way round
# --------------------------------------------------------------------------------------------


def render_form(template: FormTemplate, answers: Mapping[str, object]) -> str:
    """Write an issue body the way GitHub renders a submitted form, for demos and tests.

    ``answers`` maps field ids to text. A dropdown may take a sequence of options. Checkboxes
    take ``{option: ticked}`` or a sequence of the ticked options. A field that is absent or None
    renders as ``_No response_``."""
    blocks: list[str] = []
    for field in template.fields:
        value = answers.get(field.id)
        if field.type is FieldType.CHECKBOXES:
            ticked = _ticked(value)
            text = "\n".join(
                f"- [{'X' if _label_key(o) in ticked else ' '}] {o}" for o in field.options
            )
        elif value is None or value == "" or value == ():
            text = NO_RESPONSE
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
            if field.render:
                text = f"```{field.render}\n{text}\n```"
        blocks.append(f"### {field.label}\n\n{text}")
    return "\n\n".join(blocks)


def _ticked(value: object) -> set[str]:
    if isinstance(value, Mapping):
        return {_label_key(str(o)) for o, on in value.items() if on}
    if isinstance(value, Iterable) and not isinstance(value, str):
        return {_label_key(str(o)) for o in value}
    return set()
