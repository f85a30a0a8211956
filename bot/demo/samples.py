"""Sample answers to the fund's issue forms, rendered the way GitHub renders a submitted form.

One copy, used by the tests (through ``tests/factories.py``), the end-to-end suite and
``fundbot demo``. The bodies come from the shipped templates (``.github/ISSUE_TEMPLATE``), so the
templates stay the only list of fields; they are read on first use, never at import time.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from bot.config.forms import load_template
from bot.config.settings import DEFAULT_TEMPLATES_DIR
from bot.policy.form_render import render_form
from bot.policy.form_template import FormTemplate

GOALS = ("We will ship a stable plugin interface, a test farm for small ARM boards, and translated "
         "documentation, so that classrooms can run models offline.")

# A progress report as a maintainer writes it after `/report` (long enough for `min_words`).
REPORT_TEXT = ("The plugin API is out in 0.9 with its documentation. The first tranche paid for maintainer "
               "time and two ARM boards for the test farm. Users asked for Windows builds; they come next.")

# The same application and reports as a Chinese applicant writes them, on the Chinese forms.
REPORT_TEXT_ZH = "插件 API 已随 0.9 版本和文档一起发布。第一笔资金用于维护者的时间和测试集群的两块 ARM 开发板。用户希望有 Windows 版本，这是下一步的工作。"
_ANSWERS = {
    "en": {
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
        "packages": "pypi:tiny-inference",
    },
    "zh": {
        "language": "中文",
        "project_name": "Tiny Inference",
        "repository": "https://github.com/tiny-org/tiny-inference",
        "description": "我们将发布稳定的插件接口、面向小型 ARM 开发板的测试集群和翻译后的文档，让课堂可以离线运行模型。",
        "category": "开发工具和框架",
        "impact": ["AI 可访问性", "开发者工具"],
        "technical_docs": "C++ 核心，提供 Python 绑定；详见 docs/architecture.md。",
        "community": "约 40 名贡献者，每月有 6 名活跃贡献者。",
        "funding_amount": "40,000 美元",
        "funding_plan": "百分之六十用于两位兼职维护者的时间，百分之二十五用于 CI 硬件，百分之十五用于文档冲刺。",
        "milestones": "第三个月：插件 API。第六个月：ARM 测试集群接入 CI。第十二个月：发布 API 稳定的 1.0 版本。",
        "license": "MIT",
        "maintainers": "@alice-dev",
        "packages": "pypi:tiny-inference",
    },
}
_REPORTS = {
    "en": {
        "progress": "The plugin API shipped in 0.9 and the ARM test farm now runs on every pull request.",
        "use_of_funds": "Maintainer time and two boards for the farm, as planned.",
        "community_feedback": "Three new contributors joined through the workshop.",
        "outcomes": "Downloads doubled.",
    },
    "zh": {
        "progress": "插件 API 已在 0.9 版本发布，ARM 测试集群现在在每个拉取请求上运行。",
        "use_of_funds": "按计划用于维护者的时间和测试集群的两块开发板。",
        "community_feedback": "通过工作坊新加入了三名贡献者。",
        "outcomes": "下载量翻了一番。",
    },
}


@cache
def application_template(lang: str = "en") -> FormTemplate:
    """The shipped application form in `lang` (`en`: the fund's own, `application.yml`)."""
    return load_template(DEFAULT_TEMPLATES_DIR / ("application.yml" if lang == "en" else f"application.{lang}.yml"))


@cache
def report_template(lang: str = "en") -> FormTemplate:
    """The shipped progress-report form in `lang`."""
    return load_template(DEFAULT_TEMPLATES_DIR / ("progress-report.yml" if lang == "en"
                                                      else f"progress-report.{lang}.yml"))


def application_answers(*, lang: str = "en", **overrides: Any) -> dict[str, Any]:
    """A complete, eligible application for tiny-org/tiny-inference, as written on the form in `lang`;
    `overrides` replace answers by field id."""
    agreements = {o: True for o in application_template(lang).field("agreements").options}
    answers: dict[str, Any] = {**_ANSWERS[lang], "agreements": agreements}
    answers.update(overrides)
    return answers


def application_body(*, lang: str = "en", **overrides: Any) -> str:
    """The issue body of `application_answers(**overrides)`, filed with the form in `lang`."""
    return render_form(application_template(lang), application_answers(lang=lang, **overrides))


def report_body(application: int, *, lang: str = "en", **overrides: Any) -> str:
    """The body of a progress-report issue naming application `#application`, on the form in `lang`."""
    answers = {"application": f"#{application}", **_REPORTS[lang]}
    answers.update(overrides)
    return render_form(report_template(lang), answers)
