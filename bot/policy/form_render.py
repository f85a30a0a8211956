"""Rendering, the other way round: an issue body written the way GitHub renders a submitted form (for
demos and tests). Pure.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from bot.policy.form_template import NO_RESPONSE, FieldType, FormTemplate, label_key


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
                f"- [{'X' if label_key(o) in ticked else ' '}] {o}" for o in field.options
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
        return {label_key(str(o)) for o, on in value.items() if on}
    if isinstance(value, Iterable) and not isinstance(value, str):
        return {label_key(str(o)) for o in value}
    return set()
