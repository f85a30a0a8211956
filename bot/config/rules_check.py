"""Checks of the rules a schema cannot express: references between keys and files (stages, labels,
form fields, translations, languages, rounds and tranches), each problem as `file: key: reason`."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bot.config.files import APPLICATION_TEMPLATE, REPORT_TEMPLATE, translations_of
from bot.policy.form_template import FormTemplate
from bot.policy.i18n import LANGUAGES, language_name

# Form fields the bot gives meaning to (checked against the template, not listed a second time).
REQUIRED_APPLICATION_FIELDS = ("repository", "funding_amount")


def cross_check(origins: Mapping[str, str], docs: dict[str, dict[str, Any]], forms: dict[str, FormTemplate],
                at: Callable[[str, str], str]) -> list[str]:
    """Checks a schema cannot express: references between keys and files. `origins` names the forms'
    files; `at(section, key)` says `file: key` for a key of the rules, in the file that set it."""
    errors: list[str] = []

    stage_docs = docs["stages"]["stages"]
    names = [s["name"] for s in stage_docs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{at('stages', 'stages')}: stage {name!r} is defined twice")
    for i, stage in enumerate(stage_docs):
        for target in stage.get("next", []):
            if target not in names:
                errors.append(f"{at('stages', f'stages[{i}].next')}: unknown stage {target!r}")
            elif target == stage["name"]:
                errors.append(f"{at('stages', f'stages[{i}].next')}: a stage cannot move to itself")
    if not any(s.get("decides") for s in stage_docs):
        errors.append(f"{at('stages', 'stages')}: no stage has `decides: true`, so nothing could be approved")

    all_labels = [s["label"]["name"] for s in stage_docs]
    all_labels += [o["label"]["name"] for o in docs["stages"]["outcomes"].values()]
    all_labels += [label["name"] for label in docs["stages"]["labels"].values()]
    lowered = [n.lower() for n in all_labels]
    for name in sorted({n for n in all_labels if lowered.count(n.lower()) > 1}):
        errors.append(f"{at('stages', 'labels')}: label {name!r} is used for two things")

    scoring = docs["stages"]["scoring"]
    if scoring.get("min", 1) >= scoring.get("max", 5):
        errors.append(f"{at('stages', 'scoring')}: min must be below max")

    application, report = forms[APPLICATION_TEMPLATE], forms[REPORT_TEMPLATE]
    field_ids = {f.id for f in application.fields}
    for i, field_id in enumerate(docs["eligibility"]["clear_goals"]["fields"]):
        if field_id not in field_ids:
            errors.append(
                f"{at('eligibility', f'clear_goals.fields[{i}]')}: {field_id!r} is not a field id of "
                f"{origins[APPLICATION_TEMPLATE]}"
            )
    for field_id in REQUIRED_APPLICATION_FIELDS:
        if field_id not in field_ids:
            errors.append(f"{origins[APPLICATION_TEMPLATE]}: body: needs a field with id {field_id!r}")
    if "application" not in {f.id for f in report.fields}:
        errors.append(f"{origins[REPORT_TEMPLATE]}: body: needs a field with id 'application'")

    labels = docs["stages"]["labels"]
    for base, key in ((APPLICATION_TEMPLATE, "application"), (REPORT_TEMPLATE, "report")):
        for filename in (base, *translations_of(base)):
            if filename not in forms:
                continue
            form = forms[filename]
            wanted = labels[key]["name"]
            if wanted.lower() not in {label.lower() for label in form.labels}:
                errors.append(
                    f"{origins[filename]}: labels: must include {wanted!r} "
                    f"(stages.labels.{key}) so GitHub labels new issues for the bot"
                )
            if filename != base:
                errors.extend(_translation_problems(form, forms[base], origins[filename], origins[base]))
            if form.has_field("language"):
                names = {language_name(language) for language in LANGUAGES}
                for option in form.field("language").options:
                    if option not in names:
                        errors.append(f"{origins[filename]}: language: {option!r} is not a language Fund Bot writes "
                                      f"(the options are {', '.join(sorted(names))})")

    language = docs["fund"]["language"]
    if language not in LANGUAGES:
        errors.append(f"{at('fund', 'language')}: {language!r} is not a language Fund Bot writes "
                      f"({', '.join(LANGUAGES)})")

    funding = docs["funding"]
    pool = funding.get("round", {}).get("pool")
    if pool is not None and funding["max_per_project"] > pool:
        errors.append(f"{at('funding', 'max_per_project')}: larger than round.pool")
    errors += _check_rounds(funding, lambda key: at("funding", key))
    tranches = funding.get("tranches")
    if tranches and abs(sum(Decimal(str(t)) for t in tranches) - 100) > Decimal("0.001"):
        errors.append(f"{at('funding', 'tranches')}: the parts must add up to 100 (per cent), not "
                      f"{sum(Decimal(str(t)) for t in tranches)}")
    for i, stage in enumerate(stage_docs):
        if ("min_voters" in stage or "min_approval" in stage) and not stage.get("community_vote"):
            errors.append(f"{at('stages', f'stages[{i}]')}: min_voters and min_approval need community_vote: true")
    return errors


def _check_rounds(funding: Mapping[str, Any], at: Any) -> list[str]:
    """`rounds:`: instead of `round:`, names unique, each opening before it closes, none overlapping."""
    rounds = funding.get("rounds")
    if not rounds:
        return []
    errors = []
    if "round" in funding:
        errors.append(f"{at('rounds')}: give either `round` (one round) or `rounds`, not both")
    names = [r["name"] for r in rounds]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{at('rounds')}: round {name!r} is defined twice")
    spans = []
    for i, r in enumerate(rounds):
        opens, closes = dt.date.fromisoformat(r["opens"]), dt.date.fromisoformat(r["closes"])
        if closes < opens:
            errors.append(f"{at(f'rounds[{i}]')}: closes before it opens")
        if r.get("max_per_project", 0) > r["pool"]:
            errors.append(f"{at(f'rounds[{i}].max_per_project')}: larger than the round's pool")
        spans.append((opens, closes, r["name"]))
    spans.sort()
    for (_, first_closes, first), (second_opens, _, second) in zip(spans, spans[1:]):
        if second_opens <= first_closes:
            errors.append(f"{at('rounds')}: rounds {first!r} and {second!r} overlap")
    return errors


def _translation_problems(form: FormTemplate, base: FormTemplate, where: str, base_where: str) -> list[str]:
    """A translation has its form's fields: the same ids and types in the same order, the same number
    of options (they are read by position), the same required flags."""
    shape = [(f.id, f.type, len(f.options), f.required) for f in form.fields]
    wanted = [(f.id, f.type, len(f.options), f.required) for f in base.fields]
    if shape == wanted:
        return []
    return [f"{where}: body: must have the fields of {base_where} (ids {', '.join(f.id for f in base.fields)}, with "
            "the same types, number of options and required flags, in that order)"]
