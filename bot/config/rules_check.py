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
    errors += _check_votes(docs, at)
    return errors


# The keys of `voters:` each kind reads; any other is an error (it would be silently ignored).
_VOTER_KEYS = {"anyone": (), "members": ("org",), "team": ("team",),
               "established": ("min_account_days", "min_contributions")}
_VOTER_NEEDS = {"members": "org", "team": "team", "established": "min_account_days"}


def _check_votes(docs: dict[str, dict[str, Any]], at: Callable[[str, str], str]) -> list[str]:
    """Votes, voters, leads and approvals (SPEC §14): what a schema cannot say, with the figures."""
    errors: list[str] = []
    stages = docs["stages"]
    voter_docs = [("voters", stages["voters"])] if "voters" in stages else []
    for i, stage in enumerate(stages["stages"]):
        where = f"stages[{i}]"
        vote = stage.get("vote")
        if ("vote" in stage or "voters" in stage) and not stage.get("community_vote"):
            errors.append(f"{at('stages', where)}: vote and voters need community_vote: true")
        if "voters" in stage:
            voter_docs.append((f"{where}.voters", stage["voters"]))
        if vote is not None:
            low, high, close = vote.get("min_days", 0), vote.get("max_days"), vote.get("close", "auto")
            if close == "auto" and high is None:
                errors.append(f"{at('stages', f'{where}.vote')}: close: auto needs max_days (the day the vote closes "
                              "by itself)")
            if high is not None and low > high:
                errors.append(f"{at('stages', f'{where}.vote.min_days')}: {low} days is more than max_days ({high}): "
                              "the vote would close before it may")
            if stage.get("max_days") is not None and stage["max_days"] < low:
                errors.append(f"{at('stages', f'{where}.max_days')}: {stage['max_days']} days is shorter than "
                              f"vote.min_days ({low}): reviewers would be reminded to move on an application that "
                              "may not leave the stage yet")
        leads = stage.get("leads")
        if leads is not None and not (leads.get("users") or leads.get("teams")):
            errors.append(f"{at('stages', f'{where}.leads')}: name users or teams to escalate to")
    for key, voters in voter_docs:
        who = voters["who"]
        for extra in sorted(set(voters) - {"who", *_VOTER_KEYS[who]}):
            errors.append(f"{at('stages', f'{key}.{extra}')}: not read with who: {who}")
        if who in _VOTER_NEEDS and _VOTER_NEEDS[who] not in voters:
            errors.append(f"{at('stages', key)}: who: {who} needs {_VOTER_NEEDS[who]}")
    approvals = docs["funding"].get("approvals", {})
    grant, tranche = approvals.get("grant", 1), approvals.get("tranche", 1)
    if "above" in approvals and grant < 2:
        errors.append(f"{at('funding', 'approvals.above')}: needs grant of 2 or more (a grant up to `above` needs one "
                      "approval anyway)")
    deciding = [s for s in stages["stages"] if s.get("decides")]
    for stage in deciding[:1]:
        reviewers = stage.get("reviewers", stages["reviewers"])
        if reviewers.get("teams") or reviewers.get("author_associations"):
            continue  # how many people they are cannot be known here
        people = len(reviewers.get("users", []))
        for key, needed in (("grant", grant), ("tranche", tranche)):
            if needed > people:
                errors.append(f"{at('funding', f'approvals.{key}')}: {needed} approvals needed, but the {stage['name']} "
                              f"stage has only {people} reviewers (their users, no teams or author_associations): "
                              "nothing could ever be approved")
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
