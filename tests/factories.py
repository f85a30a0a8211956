"""Builders for the objects tests need: an application body written the way GitHub renders the
form (from the shipped template, so the template stays the only list of fields), issues and
comments in GitHub's shape."""
from __future__ import annotations

import datetime as dt
from typing import Any

from bot.forms import FormTemplate, render_form
from bot.models import Comment, Issue, User
from bot.settings import DEFAULT_TEMPLATES_DIR

APPLICATION_TEMPLATE = FormTemplate.load(DEFAULT_TEMPLATES_DIR / "application.yml")
REPORT_TEMPLATE = FormTemplate.load(DEFAULT_TEMPLATES_DIR / "progress-report.yml")
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)

GOALS = ("We will ship a stable plugin interface, a test farm for small ARM boards, and translated "
         "documentation, so that classrooms can run models offline.")


def application_answers(**overrides: Any) -> dict[str, Any]:
    agreements = {o: True for o in APPLICATION_TEMPLATE.field("agreements").options}
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
    return render_form(APPLICATION_TEMPLATE, application_answers(**overrides))


def report_body(application: int, **overrides: Any) -> str:
    answers = {
        "application": f"#{application}",
        "progress": "The plugin API shipped in 0.9 and the ARM test farm now runs on every pull request.",
        "use_of_funds": "Maintainer time and two boards for the farm, as planned.",
        "community_feedback": "Three new contributors joined through the workshop.",
        "outcomes": "Downloads doubled.",
    }
    answers.update(overrides)
    return render_form(REPORT_TEMPLATE, answers)


def make_issue(number: int = 1, body: str | None = None, *, user: str = "applicant", labels: tuple[str, ...] =
               ("fund: application",), state: str = "open", created: dt.datetime = T0, assignees: tuple[str, ...] = (),
               comments: int = 0, repo: str = "fund/applications") -> Issue:
    return Issue(
        repo=repo, number=number, title="[Application]: Tiny Inference", body=application_body() if body is None else body,
        state=state, user=User(user), author_association="NONE", labels=labels, assignees=assignees,
        created_at=created, updated_at=created, comments=comments, is_pull_request=False,
        html_url=f"https://github.com/{repo}/issues/{number}",
    )


def make_comment(comment_id: int, body: str, *, user: str = "reviewer", association: str = "MEMBER",
                 at: dt.datetime = T0, bot: bool = False) -> Comment:
    return Comment(id=comment_id, body=body, user=User(user, "Bot" if bot else "User"),
                   author_association=association, created_at=at)
