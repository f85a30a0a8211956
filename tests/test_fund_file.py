"""A fund's `.github/fund-bot.yml` checked and previewed offline (issue 25): `fundbot validate --fund-file`,
`fundbot demo --fund-file`, and the file's JSON schema for editors — generated from the rules' schemas,
and judging files as the bot itself does."""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.cli import main
from bot.config.fund_schema import SCHEMA_URL, fund_file_schema
from bot.config.layers import leaves
from bot.config.files import RULE_FILES
from bot.config.rules import fund_rules
from bot.config.settings import DEFAULT_TEMPLATES_DIR
from bot.policy.rules import RulesError

EXAMPLE = Path(__file__).resolve().parent.parent / ".github" / "fund-bot.yml"  # the template's, the one example
VALIDATOR = jsonschema.Draft202012Validator(fund_file_schema(), format_checker=jsonschema.FormatChecker())


def bot_accepts(rules, text: str) -> bool:
    """What the bot makes of the file as a fund's own, over the shipped rules."""
    try:
        fund_rules(rules, text, {})
    except RulesError:
        return False
    return True


class EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server reads it (YAML 1.2: `2027-01-01` is text, not a date)."""


EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def schema_accepts(text: str) -> bool:
    return VALIDATOR.is_valid(yaml.load(text, Loader=EditorLoader) if text.strip() else None)


def test_the_schema_is_a_json_schema_and_names_where_it_is_published():
    jsonschema.Draft202012Validator.check_schema(fund_file_schema())
    assert fund_file_schema()["$id"] == SCHEMA_URL


def test_the_shipped_example_is_valid_for_the_bot_and_the_schema_and_points_editors_at_it(rules):
    text = EXAMPLE.read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_URL}"
    assert bot_accepts(rules, text) and schema_accepts(text)


# (file, whether the bot — and so the schema — accepts it): the schema judges structure as the bot does.
CASES = [
    ("", True),
    ("eligibility:\n  community: {min_contributors: 10}\n", True),
    ("reports: {reminder_lead_days: null}\n", True),
    ("eligibility: null\n", True),
    ("funding: {currency: EUR, tranches: [50, 50]}\n", True),
    ("_extends: .github\nfund: {language: zh}\n", True),
    ("stages:\n  reviewers: {users: [alice], teams: [org/reviewers]}\n", True),
    ("stages:\n  outcomes: {funded: {label: {color: 00ff00}}}\n", True),  # a label's name stays the server's
    ("eligbility: {}\n", False),
    ("eligibility:\n  community: {min_contributor: 10}\n", False),
    ("reports: {cadence_days: ninety}\n", False),
    ("reports: {cadence_days: 0}\n", False),
    ("funding: {currency: euro}\n", False),
    ("funding: {tranches: []}\n", False),
    ("fund: {language: fr}\n", False),
    ("funding:\n  rounds: [{name: spring, opens: 2027-03-01, closes: 2027-02-30, pool: 100}]\n", False),
    ("funding:\n  rounds: [{name: spring, opens: 2027-03-01, closes: 2027-04-30, pool: 100}]\n", True),
    ("- eligibility\n", False),
    ("eligibility: 5\n", False),
    ("stages:\n  stages: [{name: only}]\n", False),  # a list is replaced whole: its items need every key
    ("stages:\n  labels: {bot: {color: not-hex}}\n", False),
]


@pytest.mark.parametrize("text, accepted", CASES, ids=[re.sub(r"\W+", " ", t).strip()[:40] or "empty"
                                                       for t, _ in CASES])
def test_the_schema_judges_a_file_as_the_bot_does(rules, text, accepted):
    assert bot_accepts(rules, text) is accepted
    assert schema_accepts(text) is accepted


def test_every_key_of_the_server_rules_may_be_set_again_or_put_back_with_null(rules):
    # Generated from the shipped rules: a fund's file may repeat any key, or null it, and both agree.
    for section, document in rules.documents.items():
        for key, value in leaves(document, (section,)):
            *parents, last = key.split(".")
            for given in (value, None):
                node: dict = {last: given}
                for parent in reversed(parents):
                    node = {parent: node}
                text = yaml.safe_dump(node)
                assert bot_accepts(rules, text) and schema_accepts(text), text


# --- fundbot validate --fund-file -------------------------------------------------------------------


def test_validate_a_fund_file_offline_lists_the_keys_it_sets(tmp_path, capsys):
    path = tmp_path / "fund-bot.yml"
    path.write_text("eligibility:\n  community: {min_contributors: 10}\nfunding:\n  currency: EUR\n"
                    "reports:\n  reminder_lead_days: null\n")
    assert main(["validate", "--fund-file", str(path)], {"GITHUB_API_URL": "http://127.0.0.1:9"}) == 0  # no GitHub
    out = capsys.readouterr().out
    assert f"{path}: valid over the server's rules" in out
    assert f'funding.currency = "EUR"  ({path})' in out and f"eligibility.community.min_contributors = 10  ({path})" in out
    assert "reminder_lead_days" not in out  # put back to the server's value: not the fund's key


def test_validate_a_fund_file_lists_every_problem_naming_the_file_as_given(tmp_path, capsys):
    path = tmp_path / "draft.yml"
    path.write_text("eligibility:\n  community: {min_contributor: 10}\nreports: {cadence_days: ninety}\nsurprise: 1\n")
    assert main(["validate", "--fund-file", str(path)], {}) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines == [f"{path}: surprise: not a section of the rules (they are {', '.join(RULE_FILES)})",
                     f"{path}: eligibility.community: Additional properties are not allowed ('min_contributor' was "
                     "unexpected)",
                     f"{path}: reports.cadence_days: 'ninety' is not of type 'integer'"]
    assert captured.err == f"3 problem(s) in {path}\n"


def test_validate_a_fund_file_with_its_forms(tmp_path, capsys):
    path = tmp_path / "fund-bot.yml"
    path.write_text("")
    forms = tmp_path / "forms"
    forms.mkdir()
    shutil.copy(DEFAULT_TEMPLATES_DIR / "application.yml", forms / "application.yml")
    assert main(["validate", "--fund-file", str(path), "--templates", str(forms)], {}) == 0
    assert f"{path} and the forms in {forms}: valid" in capsys.readouterr().out
    (forms / "application.yml").write_text("name: Apply\nbody: []\n")
    assert main(["validate", "--fund-file", str(path), "--templates", str(forms)], {}) == 1
    out = capsys.readouterr().out
    assert out and all(line.startswith(f"{forms}/application.yml") for line in out.splitlines()), out


def test_validate_a_fund_file_says_extends_is_not_followed_offline(tmp_path, capsys):
    path = tmp_path / "fund-bot.yml"
    path.write_text("_extends: my-org/.github\neligibility: {community: {min_contributors: 4}}\n")
    assert main(["validate", "--fund-file", str(path)], {}) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"note: {path}: _extends: 'my-org/.github' names a file on GitHub, which is not read offline: "
                      f"this checks {path} over the server's rules alone (`fundbot validate --repo OWNER/NAME` "
                      "follows it)")
    assert out[1].endswith("(without the file _extends names)")


@pytest.mark.parametrize("trouble", ["missing", "a folder", "too large", "alias bomb", "not utf-8"])
def test_validate_a_fund_file_answers_bad_input_in_one_line_each(tmp_path, capsys, trouble):
    path = tmp_path / "fund-bot.yml"
    if trouble == "a folder":
        path.mkdir()
    elif trouble == "too large":
        path.write_text("# " + "x" * 70_000 + "\n")
    elif trouble == "alias bomb":
        path.write_text("a: &a [x, x]\nb: &b [*a, *a]\neligibility: *b\n")
    elif trouble == "not utf-8":
        path.write_bytes("fund: {language: zh}  # 中文\n".encode("gb18030"))
    code = main(["validate", "--fund-file", str(path)], {})
    captured = capsys.readouterr()
    assert code == (2 if trouble in ("missing", "a folder") else 1)
    said = captured.out + captured.err
    assert len(said.splitlines()) <= 2 and str(path) in said and "Traceback" not in said


def test_fundbot_schema_prints_the_published_schema(capsys):
    assert main(["schema"], {}) == 0
    assert json.loads(capsys.readouterr().out) == fund_file_schema()


# --- fundbot demo --fund-file --------------------------------------------------------------------------


def demo(*args: str) -> tuple[int, str]:
    from bot.demo.story import run_demo
    from pathlib import Path

    out = io.StringIO()
    fund_file = Path(args[0]) if args else None
    return run_demo(None, out, fund_file=fund_file), out.getvalue()


def test_the_demo_follows_a_fund_file_as_the_bot_reads_it(tmp_path):
    path = tmp_path / "fund-bot.yml"
    path.write_text("funding: {currency: EUR}\nstages: {auto_advance: false}\n")
    code, told = demo(str(path))
    assert code == 0 and f"the fund's own .github/fund-bot.yml: {path}" in told
    assert "€40,000" in told and "$40,000" not in told  # the fund's currency, in the story and from the bot
    assert "screening does not advance by itself under these rules" in told


def test_the_demo_refuses_an_invalid_fund_file_and_previews_without_what_extends_names(tmp_path):
    path = tmp_path / "fund-bot.yml"
    path.write_text("reports: {cadence_days: ninety}\n")
    code, told = demo(str(path))
    assert code == 2 and f"{path}: reports.cadence_days: 'ninety' is not of type 'integer'" in told
    path.write_text("_extends: .github\nfunding: {currency: EUR}\n")
    code, told = demo(str(path))
    assert code == 0 and "names a file on GitHub, which the demo cannot read" in told and "€40,000" in told
    assert "#1 funded" in told or "funded" in told.splitlines()[-1]
