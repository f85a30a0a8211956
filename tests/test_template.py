"""The repository is a fund's template (issue 22): "Use this template" on GitHub gives a new fund a
working repository. The default rules (`rules/`) and issue forms (`.github/ISSUE_TEMPLATE/`) sit at its
top as the one copy of each — what the service loads by default, what the package maps into its wheel
(tests/test_install.py opens the wheel) — and `.github/fund-bot.yml` is a commented example that is a
valid fund's file as it stands, and with its examples put to use."""
from __future__ import annotations

import hashlib
import re
import subprocess
import tomllib

import pytest
import setuptools

from bot.config.files import RULE_FILES, TEMPLATE_FILES
from bot.config.layers import EXTENDS
from bot.config.rules import fund_rules, load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.policy.rules import FUND_FILE
from deploy_files import PROJECT_ROOT

RULES = PROJECT_ROOT / "rules"
FORMS = PROJECT_ROOT / ".github" / "ISSUE_TEMPLATE"
EXAMPLE = PROJECT_ROOT / FUND_FILE


def test_the_service_loads_the_rules_and_forms_at_the_top_of_the_repository():
    assert DEFAULT_RULES_DIR == RULES and DEFAULT_TEMPLATES_DIR == FORMS
    assert sorted(p.stem for p in RULES.glob("*.yml")) == sorted(RULE_FILES)
    assert {"application.yml", "progress-report.yml"} <= {p.name for p in FORMS.glob("*.yml")}
    load_rules(RULES, FORMS)


def test_each_default_file_has_one_copy_in_the_tree():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
                             ).stdout.decode().split("\0")
    by_content: dict[str, list[str]] = {}
    for name in filter(None, tracked):
        path = PROJECT_ROOT / name
        if path.suffix == ".yml" and path.is_file():
            by_content.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(name)
    shipped = [f"rules/{n}.yml" for n in RULE_FILES] + [f".github/ISSUE_TEMPLATE/{n}" for n in TEMPLATE_FILES]
    copies = {name: group for group in by_content.values() for name in group if name in shipped}
    assert all(len(group) == 1 for group in copies.values()), copies
    assert not (PROJECT_ROOT / "bot" / "defaults" / "rules").exists()
    assert not (PROJECT_ROOT / "bot" / "defaults" / "ISSUE_TEMPLATE").exists()


def test_the_wheel_lists_every_package_of_bot_and_maps_the_two_folders():
    # The packages are listed in pyproject.toml (a mapped folder is none `find` could discover): a new
    # package of bot/ left out of the list would be missing from every install.
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {"bot.defaults.rules": "rules", "bot.defaults.ISSUE_TEMPLATE": ".github/ISSUE_TEMPLATE"}
    assert config["package-dir"] == mapped
    assert sorted(config["packages"]) == sorted(setuptools.find_packages(str(PROJECT_ROOT), include=["bot*"])
                                                + list(mapped))
    for package in mapped:
        assert config["package-data"][package] == ["*.yml"]


def _server():
    return load_rules(RULES, FORMS)


def _forms() -> dict[str, str | None]:
    return {name: (FORMS / name).read_text(encoding="utf-8") if (FORMS / name).exists() else None
            for name in TEMPLATE_FILES}


def test_the_example_fund_file_is_valid_as_it_stands():
    text = EXAMPLE.read_text(encoding="utf-8")
    rules = fund_rules(_server(), text, _forms())
    assert rules.language == "en" and rules.showcase is True
    assert rules.key_origins == {"fund.language": FUND_FILE, "fund.showcase": FUND_FILE}


# A commented example line: `# ` then a section's key at the start, or an indented line of its block.
EXAMPLE_LINE = re.compile(rf"^# ((?:{'|'.join((*RULE_FILES, EXTENDS))}):.*|\s+\S.*)$")


def uncommented(text: str) -> str:
    return "\n".join(m.group(1) if (m := EXAMPLE_LINE.match(line)) else line for line in text.splitlines()) + "\n"


def test_the_examples_are_valid_once_put_to_use():
    text = uncommented(EXAMPLE.read_text(encoding="utf-8"))
    assert text.count("\n#") < EXAMPLE.read_text(encoding="utf-8").count("\n#")  # examples were found
    rules = fund_rules(_server(), text, _forms())
    assert rules.funding.currency == "EUR" and [str(t) for t in rules.funding.tranches] == ["50", "50"]
    assert rules.eligibility.min_contributors == 5 and rules.reports.cadence_days == 60
    assert rules.stages.reviewers.users == {"alice", "bob"}


def test_the_uncommenting_would_see_a_broken_example():
    # The check above can fail: an example with a key the schema does not have is an error.
    broken = EXAMPLE.read_text(encoding="utf-8").replace("#   cadence_days: 60", "#   cadence_dayz: 60")
    from bot.policy.rules import RulesError

    with pytest.raises(RulesError, match="cadence_dayz"):
        fund_rules(_server(), uncommented(broken), _forms())
