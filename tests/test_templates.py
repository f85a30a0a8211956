"""Tests for the issue templates in .github/ISSUE_TEMPLATE. Each form must validate against
GitHub's issue-forms schema, which ships in bot/config/schemas. Each must be usable by bot.config.forms,
with unique ids and labels. The ids the rest of the bot relies on must be present, and
config.yml must have the chooser's shape."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.config.forms import ISSUE_FORMS_SCHEMA_PATH, load_template, validate_template_file
from bot.config.settings import DEFAULT_TEMPLATES_DIR
from bot.policy.form_template import FieldType
from bot.policy.i18n import LANGUAGES, language_name

TEMPLATE_DIR = DEFAULT_TEMPLATES_DIR
FORMS = sorted(p for p in TEMPLATE_DIR.glob("*.yml") if p.name != "config.yml")


def load_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_forms_exist() -> None:
    assert {p.name for p in FORMS} >= {"application.yml", "progress-report.yml", "application.zh.yml",
                                       "progress-report.zh.yml"}


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_form_matches_githubs_schema(path: Path) -> None:
    schema = json.loads(ISSUE_FORMS_SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load_yaml(path))]
    assert errors == []


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_form_ids_and_labels_are_unique(path: Path) -> None:
    items = [item for item in load_yaml(path)["body"] if item["type"] != "markdown"]
    ids = [item.get("id") for item in items]
    labels = [item["attributes"]["label"].strip().casefold() for item in items]
    assert None not in ids, "every field needs an id: the bot keys answers by id"
    assert len(set(ids)) == len(ids)
    assert len(set(labels)) == len(labels), "labels are the body's headings, so they must differ"


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_form_is_usable_by_the_bot(path: Path) -> None:
    assert validate_template_file(path) == ()
    template = load_template(path)
    assert template.labels, "a form must label its issues so the bot can tell them apart"


def test_validate_template_file_reports_schema_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("name: x\nbody:\n  - type: input\n    attributes: {label: A, colour: red}\n", encoding="utf-8")
    problems = validate_template_file(path)
    assert any("'description' is a required property" in p for p in problems)
    assert any("colour" in p for p in problems)
    assert any("needs an `id`" in p for p in problems)


# The contract with the rest of the bot: these ids, types and required flags (SPEC §2).
APPLICATION_FIELDS = {
    "language": (FieldType.DROPDOWN, False),
    "project_name": (FieldType.INPUT, True),
    "repository": (FieldType.INPUT, True),
    "description": (FieldType.TEXTAREA, True),
    "category": (FieldType.DROPDOWN, True),
    "impact": (FieldType.CHECKBOXES, False),
    "technical_docs": (FieldType.TEXTAREA, True),
    "community": (FieldType.TEXTAREA, True),
    "funding_amount": (FieldType.INPUT, True),
    "funding_plan": (FieldType.TEXTAREA, True),
    "milestones": (FieldType.TEXTAREA, True),
    "license": (FieldType.INPUT, True),
    "maintainers": (FieldType.TEXTAREA, False),
    "packages": (FieldType.TEXTAREA, False),  # the evidence pack's PyPI and npm packages (issue 21)
    "agreements": (FieldType.CHECKBOXES, True),
}
REPORT_FIELDS = {
    "application": (FieldType.INPUT, True),
    "progress": (FieldType.TEXTAREA, True),
    "use_of_funds": (FieldType.TEXTAREA, True),
    "community_feedback": (FieldType.TEXTAREA, False),
    "outcomes": (FieldType.TEXTAREA, False),
}


@pytest.mark.parametrize(
    "name,label,fields",
    [
        ("application.yml", "fund: application", APPLICATION_FIELDS),
        ("progress-report.yml", "fund: report", REPORT_FIELDS),
        ("application.zh.yml", "fund: application", APPLICATION_FIELDS),
        ("progress-report.zh.yml", "fund: report", REPORT_FIELDS),
    ],
    ids=["application", "progress-report", "application-zh", "progress-report-zh"],
)
def test_form_contract(name: str, label: str, fields: dict[str, tuple[FieldType, bool]]) -> None:
    template = load_template(TEMPLATE_DIR / name)
    assert template.labels == (label,)
    assert {f.id: (f.type, f.required) for f in template.fields} == fields


def test_application_choices() -> None:
    template = load_template(TEMPLATE_DIR / "application.yml")
    assert template.field("category").options == (
        "Developer tools and frameworks",
        "Infrastructure and platforms",
        "Education and training",
        "Research and innovation",
    )
    assert template.field("impact").options == (
        "AI accessibility",
        "Developer tools",
        "Infrastructure",
        "Education",
    )
    agreements = template.field("agreements")
    assert len(agreements.options) == 3 and agreements.required_options == agreements.options


def test_chinese_application_choices_use_the_funds_own_words() -> None:
    # The fund's Chinese text (SPEC's seed/open-source-fund.zh.md): 支持的项目类型 and 项目影响.
    template = load_template(TEMPLATE_DIR / "application.zh.yml")
    assert template.field("category").options == ("开发工具和框架", "基础设施和平台", "教育和培训", "研究和创新")
    assert template.field("impact").options == ("AI 可访问性", "开发者工具", "基础设施", "教育和培训")
    assert template.language == "zh" and load_template(TEMPLATE_DIR / "application.yml").language is None


@pytest.mark.parametrize("name", ["application.yml", "application.zh.yml"])
def test_the_language_options_are_the_languages_the_bot_writes(name: str) -> None:
    options = load_template(TEMPLATE_DIR / name).field("language").options
    assert options == tuple(language_name(code) for code in LANGUAGES) == ("English", "中文")


def test_config_shape() -> None:
    config = load_yaml(TEMPLATE_DIR / "config.yml")
    assert isinstance(config, dict) and set(config) <= {"blank_issues_enabled", "contact_links"}
    assert config["blank_issues_enabled"] is False
    links = config["contact_links"]
    assert isinstance(links, list) and links
    for link in links:
        assert set(link) == {"name", "url", "about"}
        assert all(isinstance(v, str) and v.strip() for v in link.values())
        assert link["url"].startswith("https://github.com/")
