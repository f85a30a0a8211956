"""Sample answers to the fund's issue forms, rendered the way GitHub renders a submitted form.

One copy, used by the tests (through ``tests/factories.py``), the end-to-end suite and
``fundbot demo``. The bodies come from the shipped templates (``bot/defaults/ISSUE_TEMPLATE``), so the
templates stay the only list of fields; they are read on first use, never at import time.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from bot.policy.forms import FormTemplate, render_form
from bot.settings import DEFAULT_TEMPLATES_DIR

GOALS = ("We will ship a stable plugin interface, a test farm for small ARM boards, and translated "
         "documentation, so that classrooms can run models offline.")

# A progress report as a maintainer writes it after `/report` (long enough for `min_words`).
REPORT_TEXT = ("The plugin API is out in 0.9 with its documentation. The first tranche paid for maintainer "
               "time and two ARM boards for the test farm. Users asked for Windows builds; they come next.")


@cache
def application_template() -> FormTemplate:
    return FormTemplate.load(DEFAULT_TEMPLATES_DIR / "application.yml")


@cache
def report_template() -> FormTemplate:
    return FormTemplate.load(DEFAULT_TEMPLATES_DIR / "progress-report.yml")


def application_answers(**overrides: Any) -> dict[str, Any]:
    """A complete, eligible application for tiny-org/tiny-inference; `overrides` replace answers by field id."""
    agreements = {o: True for o in application_template().field("agreements").options}
    answers: dict[str, Any] = {
        "project_name": "Tiny Inference",
        "repository": "https://github.com/tiny-org/tiny-inference",
        "description": GOALS,
        "category": "Developer tools and frameworks",
        "impact": ["AI accessibility", "Developer tools"],
        "technical_docs": "A C++ core with Python bindings; see docs/architecture.md.",
        "community": "About 40 contributors, 6 active each month.",
        "funding_amount": "$40,000",
        "funding_plan": "Sixty percent maintainer time for two part-time maintainers, twenty-five percent CI "
                        "hardware, fifteen percent documentation sprint.",
        "milestones": "Month three: plugin API. Month six: ARM test farm in CI. Month twelve: the 1.0 release "
                      "with a stable API.",
        "license": "MIT",
        "maintainers": "@alice-dev",
        "agreements": agreements,
    }
    answers.update(overrides)
    return answers


def application_body(**overrides: Any) -> str:
    """The issue body of `application_answers(**overrides)`."""
    return render_form(application_template(), application_answers(**overrides))


def report_body(application: int, **overrides: Any) -> str:
    """The body of a progress-report issue naming application `#application`."""
    answers = {
        "application": f"#{application}",
        "progress": "The plugin API shipped in 0.9 and the ARM test farm now runs on every pull request.",
        "use_of_funds": "Maintainer time and two boards for the farm, as planned.",
        "community_feedback": "Three new contributors joined through the workshop.",
        "outcomes": "Downloads doubled.",
    }
    answers.update(overrides)
    return render_form(report_template(), answers)
