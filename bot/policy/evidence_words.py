"""The words of the evidence pack's eligibility checks (issue 21): the figures and fixes the record keeps as
notes (`bot.policy.evidence_flow.evidence_checks`), put in words by `bot.policy.wording`. Pure; apart from
`bot.policy.evidence_view` so that the wording of every note can be imported without the rules.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bot.policy.evidence import THRESHOLDS
from bot.policy.form_template import FormTemplate
from bot.policy.i18n import N_, Translator

# Translators: the names of the figures a threshold of the rules limits (eligibility checks, warnings).
THRESHOLD_NAMES = {
    "min_stars": N_("stars"), "min_active_contributors": N_("active contributors"), "min_bus_factor": N_("bus factor"),
    "min_releases": N_("releases in the last year"), "min_health": N_("community health percentage"),
    "max_response_days": N_("median days to a first response"), "min_scorecard": N_("OpenSSF Scorecard score"),
    "min_dependents": N_("dependents"), "min_downloads": N_("downloads in 30 days"),
}


def _threshold_value(p: Mapping[str, Any], key: str, tr: Translator) -> str:
    try:
        return tr.number(Decimal(str(p.get(key))))
    except ArithmeticError:
        return str(p.get(key, ""))


def _name(p: Mapping[str, Any], tr: Translator) -> str:
    key = str(p.get("key", ""))
    return tr.gettext(THRESHOLD_NAMES[key]) if key in THRESHOLD_NAMES else key


def _limit_fix(p: Mapping[str, Any], template: FormTemplate | None, tr: Translator) -> str:
    limit = _threshold_value(p, "limit", tr)
    if str(p.get("key")) in THRESHOLDS and THRESHOLDS[str(p.get("key"))][2]:
        return tr.gettext("The fund asks for %(name)s of at most %(limit)s.", name=_name(p, tr), limit=limit)
    return tr.gettext("The fund asks for %(name)s of at least %(limit)s.", name=_name(p, tr), limit=limit)


EVIDENCE_TEXTS: dict[str, Callable[[Mapping[str, Any], FormTemplate | None, Translator], str]] = {
    "evidence.pending": lambda p, template, tr: tr.gettext("waiting for the evidence pack (%(name)s)",
                                                           name=_name(p, tr)),
    "evidence.figure": lambda p, template, tr: tr.gettext("%(name)s: %(value)s", name=_name(p, tr),
                                                          value=_threshold_value(p, "value", tr)),
    "evidence.unmeasured": lambda p, template, tr: tr.gettext("%(name)s: not read", name=_name(p, tr)),
    "evidence.unmeasured.fix": lambda p, template, tr: tr.gettext(
        "The evidence pack could not read this figure (its line in Evidence says why). A reviewer may waive the "
        "check (`/waive %(check)s <reason>`), or `/recheck` reads it again.", check=str(p.get("check", ""))),
    "evidence.limit.fix": _limit_fix,
}


__all__ = ["EVIDENCE_TEXTS", "THRESHOLD_NAMES"]
