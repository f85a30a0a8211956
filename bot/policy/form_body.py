"""Issue bodies read as forms: the sections, fences and headings of a body GitHub rendered from an
issue form, turned into a `ParsedForm`.

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
from bisect import bisect_left
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from bot.policy.answers import VALIDATORS, AnswerError, quoted
from bot.policy.form_template import NO_RESPONSE, FieldType, FormField, FormTemplate, label_key
from bot.policy.parsed_form import FormProblem, ParsedForm

#: What GitHub writes for a dropdown left without a choice: an empty answer, unless it is an option.
NO_CHOICE = "None"


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
    headings = {label_key(text) for number, line in enumerate(lines)
                if not inside[number] and "###" in line and (text := _heading_text(line)) is not None}
    # max keeps the first of equals
    chosen = max(templates, key=lambda t: sum(label_key(f.label) in headings for f in t.fields))
    return parse_form(chosen, body, also=[t for t in templates if t is not chosen])


def _aliases(template: FormTemplate, others: Sequence[FormTemplate]
             ) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """The other forms' headings (label key -> field index) and each field's spellings of its
    options (option key -> this form's option; the other forms' options by position)."""
    headings: dict[str, int] = {}
    spellings: dict[str, dict[str, str]] = {}
    for n, field in enumerate(template.fields):
        spelling = spellings[field.id] = {label_key(option): option for option in field.options}
        for other in others:
            if not other.has_field(field.id):
                continue
            twin = other.field(field.id)
            headings.setdefault(label_key(twin.label), n)
            if len(twin.options) == len(field.options):
                for mine, theirs in zip(field.options, twin.options):
                    spelling.setdefault(label_key(theirs), mine)
    return headings, spellings


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
    index = {label_key(f.label): n for n, f in enumerate(template.fields)}
    for key, n in (aliases or {}).items():
        index.setdefault(key, n)
    inside = _fenced(lines)
    candidates: list[tuple[int, int]] = []  # (line, field index)
    for number, line in enumerate(lines):
        if inside[number] or "###" not in line:
            continue
        text = _heading_text(line)
        field_index = None if text is None else index.get(label_key(text))
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
            option = spellings.get(label_key(m["option"])) if m else None
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
    return spellings.get(label_key(text), text.strip())


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
                if label_key(", ".join(parts[start:e])) in keys
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
        return [problem("not_a_choice", answer=quoted(c).strip("“”"), choices=choices) for c in unknown]
    validator = VALIDATORS.get(field.id)
    if validator is not None and isinstance(value, str):
        try:
            validator(value)
        except AnswerError as exc:
            return [problem("invalid", error=exc.code, **exc.params)]
    return []

