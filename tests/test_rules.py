"""Rules: typed, validated, every problem reported at once with file, key and reason."""
import shutil
from pathlib import Path

import pytest
import yaml

from bot.config.rules import fund_rules, load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.policy.rules import RulesError


def test_shipped_rules_have_the_spec_defaults(rules):
    assert [s.name for s in rules.stages.stages] == ["screening", "technical", "community", "funding", "decision"]
    assert set(rules.stages.outcomes) == {"funded", "declined", "withdrawn"}
    assert rules.stages.auto_advance is True
    assert rules.stages.criteria == ("technical", "impact", "community", "funding")
    assert (rules.eligibility.window_days, rules.eligibility.min_commits, rules.eligibility.min_contributors) == (90, 1, 3)
    assert (rules.reports.cadence_days, rules.reports.reminder_lead_days, rules.reports.overdue_grace_days) == (90, 14, 7)
    assert rules.stages.labels.application.name == "fund: application"
    labels = [label.name for label in rules.stages.all_labels()]
    assert len(labels) == len({name.lower() for name in labels})


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_every_problem_is_reported_at_once(rules_dir):
    edit(rules_dir / "stages.yml", lambda d: d.update(colour_scheme="dark"))  # unknown key
    edit(rules_dir / "stages.yml", lambda d: d["stages"][0]["label"].update(color="red"))
    edit(rules_dir / "eligibility.yml", lambda d: d["activity"].update(window_days=0))
    edit(rules_dir / "reports.yml", lambda d: d.update(cadence_days="often"))
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir, DEFAULT_TEMPLATES_DIR)
    text = "\n".join(err.value.errors)
    assert len(err.value.errors) == 4, text
    assert "stages.yml: (top): Additional properties are not allowed ('colour_scheme'" in text
    assert "stages.yml: stages[0].label.color: 'red' does not match" in text
    assert "eligibility.yml: activity.window_days: 0 is less than the minimum of 1" in text
    assert "reports.yml: cadence_days: 'often' is not of type 'integer'" in text


@pytest.mark.parametrize(
    "file, change, expected",
    [
        ("stages.yml", lambda d: d["stages"][0].update(next=["review"]), "stages[0].next: unknown stage 'review'"),
        ("stages.yml", lambda d: d["stages"][1].update(name="screening"), "stage 'screening' is defined twice"),
        ("stages.yml", lambda d: [s.pop("decides", None) for s in d["stages"]], "no stage has `decides: true`"),
        ("stages.yml", lambda d: d["labels"]["needs_info"].update(name="stage: technical"),
         "label 'stage: technical' is used for two things"),
        ("stages.yml", lambda d: d["labels"]["application"].update(name="grant request"),
         "labels: must include 'grant request'"),
        ("eligibility.yml", lambda d: d["clear_goals"].update(fields=["roadmap"]),
         "clear_goals.fields[0]: 'roadmap' is not a field id"),
        ("funding.yml", lambda d: d.update(max_per_project=10**9), "max_per_project: larger than round.pool"),
        ("fund.yml", lambda d: d.update(language="fr"), "fund.yml: language: 'fr' is not a language Fund Bot writes"),
    ],
    ids=["unknown-next-stage", "duplicate-stage", "nothing-decides", "label-twice", "template-label",
         "goal-field-not-in-form", "cap-over-pool", "no-catalogue-for-the-language"],
)
def test_cross_file_checks(rules_dir, file, change, expected):
    edit(rules_dir / file, change)
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir, DEFAULT_TEMPLATES_DIR)
    assert any(expected in line for line in err.value.errors), err.value.errors


def test_missing_file_and_broken_yaml(rules_dir):
    (rules_dir / "funding.yml").unlink()
    (rules_dir / "reports.yml").write_text("cadence_days: [90\n")
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir, DEFAULT_TEMPLATES_DIR)
    text = "\n".join(err.value.errors)
    assert "funding.yml: file is missing" in text and "reports.yml: line" in text and "not valid YAML" in text


def test_dates_written_plainly_in_yaml_are_accepted(rules_dir, rules):
    # `starts: 2026-01-01` is a YAML date; the loader must not trip over it.
    assert rules.funding.rounds[0].opens.isoformat() == "2026-01-01"


@pytest.fixture
def templates_dir(tmp_path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, target)
    return target


@pytest.mark.parametrize(
    "file, change, expected",
    [
        ("application.zh.yml", lambda d: d["body"].pop(3), "application.zh.yml: body: must have the fields of"),
        ("progress-report.zh.yml", lambda d: d["body"][2].update(type="input"), "must have the fields of"),
        ("application.zh.yml", lambda d: d["body"][1]["attributes"].update(options=["English", "Français"]),
         "application.zh.yml: language: 'Français' is not a language Fund Bot writes"),
    ],
    ids=["translation-lacks-a-field", "translation-changes-a-type", "language-option-unknown"],
)
def test_a_translated_form_must_be_the_same_form(templates_dir, file, change, expected):
    edit(templates_dir / file, change)
    with pytest.raises(RulesError) as err:
        load_rules(DEFAULT_RULES_DIR, templates_dir)
    assert any(expected in e for e in err.value.errors), err.value.errors


def test_translations_are_optional(templates_dir, rules):
    (templates_dir / "application.zh.yml").unlink()
    loaded = load_rules(DEFAULT_RULES_DIR, templates_dir)
    assert [f.path.name for f in loaded.application_forms] == ["application.yml"]
    assert [f.path.name for f in rules.application_forms] == ["application.yml", "application.zh.yml"]
    assert rules.language == "en"


def test_a_fund_sets_its_language_and_its_own_form_drops_the_servers_translations(rules):
    own_form = (DEFAULT_TEMPLATES_DIR / "application.yml").read_text(encoding="utf-8")
    fund = fund_rules(rules, "fund:\n  language: zh\n", {"application.yml": own_form})
    assert fund.language == "zh"
    assert [f.language for f in fund.application_forms] == [None]  # its own form, no server translation of it
    assert [f.language for f in fund.report_forms] == [None, "zh"]  # the report forms are still the server's
    with pytest.raises(RulesError) as err:
        fund_rules(rules, "fund:\n  language: klingon\n", {})
    assert err.value.errors == [".github/fund-bot.yml: fund.language: 'klingon' is not a language Fund Bot writes "
                                "(en, zh)"]


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


@pytest.mark.parametrize(("text", "expected"), [
    # a date that does not exist: PyYAML's constructor raises ValueError, not YAMLError
    ("funding:\n  currency: USD\n  rounds:\n    - {name: spring, opens: 2027-02-30, closes: 2027-03-31}\n",
     ".github/fund-bot.yml: line 4: cannot be read (day is out of range for month)"),
    ("funding:\n  max_per_project: " + "9" * 5000 + "\n", ".github/fund-bot.yml: line 2: cannot be read"),
    ("stages: " + "[" * 3000 + "]" * 3000 + "\n", ".github/fund-bot.yml: line 1: nested more than 32 levels deep"),
    (BILLION_LAUGHS, ".github/fund-bot.yml: line 2: an alias (*a)"),  # a few hundred bytes, gigabytes expanded
    ("funding:\n  currency: USD\n  max_per_project: .nan\n",
     ".github/fund-bot.yml: funding.max_per_project: nan is not a number"),
    ("funding:\n  tranches: [50, .inf]\n", ".github/fund-bot.yml: funding.tranches[1]: inf is not a number"),
    ("# " + "x" * 70_000 + "\n", ".github/fund-bot.yml: size: the file is 70,003 bytes; at most 65,536 are read"),
])
def test_a_hostile_fund_file_is_refused_with_a_reason_and_costs_little(rules, text, expected):
    """Anyone who installs the App writes this file: whatever it holds, reading it ends quickly in
    a `RulesError` (the configuration issue lists it, the last valid configuration stays), never another
    exception that would fail every delivery and the sweep."""
    with pytest.raises(RulesError) as err:
        fund_rules(rules, text, {})
    assert len(err.value.errors) == 1 and err.value.errors[0].startswith(expected), err.value.errors


def test_a_funds_form_is_read_within_the_same_limits(rules):
    with pytest.raises(RulesError) as err:
        fund_rules(rules, None, {"application.yml": BILLION_LAUGHS})
    assert err.value.errors == [".github/ISSUE_TEMPLATE/application.yml: line 2: an alias (*a) — write the value "
                                "out instead"]


# --- a fund's file merged over the server's rules, key by key (issue 20) --------------------------


def merged(rules, text: str, *bases: tuple[str, str]):
    from bot.config.rules import fund_rules

    return fund_rules(rules, text, {}, bases=bases)


@pytest.mark.parametrize("text, check", [
    ("eligibility:\n  community:\n    min_contributors: 20\n",
     lambda r, s: r.eligibility.min_contributors == 20 and r.eligibility.window_days == s.eligibility.window_days),
    ("eligibility:\n  community:\n    min_contributors: null\n",
     lambda r, s: r.eligibility.min_contributors == s.eligibility.min_contributors),
    ("funding:\n  tranches: [40, 60]\n",
     lambda r, s: r.funding.tranches == (40, 60) and r.funding.currency == s.funding.currency),
    ("funding:\n  rounds:\n    - {name: spring, opens: 2027-03-01, closes: 2027-04-30, pool: 1000}\n",
     lambda r, s: [x.name for x in r.funding.rounds] == ["spring"] and r.funding.dated),
    ("", lambda r, s: r == s),
], ids=["one key", "null: the server's value", "a list replaced whole", "rounds instead of the server's round",
        "an empty file"])
def test_a_funds_file_is_merged_key_by_key(rules, text, check):
    assert check(merged(rules, text), rules)


@pytest.mark.parametrize("text, problem", [
    ("eligibility:\n  community:\n    min_contributors: many\n",
     ".github/fund-bot.yml: eligibility.community.min_contributors: 'many' is not of type 'integer'"),
    ("funding:\n  rounds:\n    - {name: x, opens: 2027-03-01, closes: 2027-02-01, pool: 1}\n",
     ".github/fund-bot.yml: funding.rounds[0]: closes before it opens"),
    ("eligibility:\n  community:\n    typo: 1\n", ".github/fund-bot.yml: eligibility.community: Additional properties"),
], ids=["a wrong type", "a cross-check", "an unknown key"])
def test_a_problem_names_the_file_and_key_that_set_it(rules, text, problem):
    with pytest.raises(RulesError) as raised:
        merged(rules, text)
    assert any(e.startswith(problem) for e in raised.value.errors), raised.value.errors


def test_files_extended_come_below_the_funds_own_and_name_their_problems(rules):
    base = ("org/.github:.github/fund-bot.yml", "eligibility:\n  community:\n    min_contributors: 20\n"
                                                "funding:\n  max_per_project: 7000\n")
    fund = merged(rules, "_extends: .github\nfunding:\n  max_per_project: 9000\n", base)
    assert fund.eligibility.min_contributors == 20 and fund.funding.cap(fund.funding.rounds[0].name) == 9000
    assert fund.key_origins["eligibility.community.min_contributors"] == base[0]
    assert fund.source_of("funding") == ".github/fund-bot.yml" and fund.source_of("stages") == "rules/stages.yml"
    with pytest.raises(RulesError) as raised:
        merged(rules, "_extends: .github\n", (base[0], "eligibility:\n  community:\n    min_contributors: -1\n"))
    assert any(e.startswith(f"{base[0]}: eligibility.community.min_contributors:") for e in raised.value.errors)


# --- the evidence pack (issue 21) -------------------------------------------------------------------------


def test_the_evidence_pack_is_on_with_no_thresholds_by_default(rules):
    evidence = rules.evidence
    assert evidence.enabled and evidence.thresholds == () and evidence.checks == ()
    assert all(evidence.on(source) for source in ("community", "activity", "scorecard", "dependents", "npm_downloads"))
    assert (evidence.cache_hours, evidence.timeout_seconds, evidence.responsiveness_sample) == (24, 3.0, 30)


def test_a_rules_folder_from_before_the_evidence_pack_still_loads(rules_dir, rules):
    (rules_dir / "evidence.yml").unlink()  # a server folder copied before the file existed
    assert load_rules(rules_dir, DEFAULT_TEMPLATES_DIR).evidence == rules.evidence  # the shipped one


def test_a_funds_file_sets_sources_and_thresholds(rules):
    own = fund_rules(rules, "evidence:\n  sources: {scorecard: false}\n  thresholds:\n"
                            "    min_dependents: {value: 10, as: eligibility}\n    min_scorecard: {value: 5}\n", {})
    assert not own.evidence.on("scorecard") and own.evidence.on("stars")
    assert [(t.key, str(t.value), t.eligibility) for t in own.evidence.thresholds] == [
        ("min_dependents", "10", True), ("min_scorecard", "5", False)]  # `as` defaults to a warning
    assert [t.key for t in own.evidence.checks] == ["min_dependents"]


@pytest.mark.parametrize("text,said", [
    ("evidence:\n  thresholds:\n    min_forks: {value: 3}\n", "min_forks"),
    ("evidence:\n  thresholds:\n    min_stars: {value: -1}\n", "min_stars.value"),
    ("evidence:\n  thresholds:\n    min_stars: {value: 3, as: blocking}\n", "min_stars.as"),
    ("evidence:\n  sources: {github: false}\n", "sources"),
    ("evidence:\n  timeout_seconds: 600\n", "timeout_seconds"),
], ids=["unknown-threshold", "negative", "unknown-mode", "unknown-source", "timeout-too-long"])
def test_bad_evidence_rules_are_refused_naming_the_key(rules, text, said):
    with pytest.raises(RulesError) as err:
        fund_rules(rules, text, {})
    assert any(".github/fund-bot.yml" in line and said in line for line in err.value.errors), err.value.errors


def test_every_threshold_of_the_schema_has_a_meaning_in_policy():
    import json

    from bot.config.rules import SCHEMA_DIR
    from bot.policy.evidence import THRESHOLDS
    from bot.policy.rules import EVIDENCE_SOURCES

    schema = json.loads((SCHEMA_DIR / "evidence.schema.json").read_text())
    assert set(schema["properties"]["thresholds"]["properties"]) == set(THRESHOLDS)
    assert tuple(schema["properties"]["sources"]["properties"]) == EVIDENCE_SOURCES
