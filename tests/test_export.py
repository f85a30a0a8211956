"""`fundbot export --format csv|json|md`: the dashboard's rows, one per application, for the fund's
own reporting."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from pipeline_world import HOSTILE_NAME, filed
from sandbox_fixtures import APP_ID

from bot.cli import main
from bot.views.export import COLUMNS, EVIDENCE_COLUMNS, columns, render, run_export
from bot.views.rows import pipeline_rows
from bot.demo.world import FUND_REPO


@pytest.fixture(scope="module")
def exported(seeded_pair, tmp_path_factory):
    """Each format, written by `run_export` (what the CLI calls) to a file."""
    world, _ = seeded_pair
    folder = tmp_path_factory.mktemp("export")
    out = {}
    for fmt in ("csv", "json", "md"):
        path = folder / f"pipeline.{fmt}"
        assert run_export(world.context, FUND_REPO, fmt, str(path)) == 0
        out[fmt] = path.read_text(encoding="utf-8")
    return out


def test_json_has_one_row_per_application_in_a_stable_column_order(seeded_pair, exported, rules):
    world, seeded = seeded_pair
    data = json.loads(exported["json"])
    names = list(COLUMNS) + list(EVIDENCE_COLUMNS) + ["score_technical", "score_impact", "score_community",
                                                     "score_funding"]
    assert data["columns"] == names == list(columns(rules))
    assert data["repository"] == FUND_REPO and data["as_of"].endswith("Z")
    assert seeded.now <= dt.datetime.fromisoformat(data["as_of"].replace("Z", "+00:00")) <= world.sandbox.now()
    apps = {a["number"]: a for a in data["applications"]}
    assert sorted(apps) == sorted(seeded.numbers.values())  # the sweep log is no application
    assert all(list(a) == names for a in data["applications"])

    overdue = apps[seeded["funded_overdue"]]
    assert {k: overdue[k] for k in ("stage", "outcome", "amount_granted", "amount_requested", "currency",
                                    "days_to_decision", "reports_received", "reports_expected", "report_status",
                                    "report_overdue", "days_in_stage")} == {
        "stage": "decision", "outcome": "funded", "amount_granted": "20000", "amount_requested": "40000",
        "currency": "USD", "days_to_decision": 10, "reports_received": 0, "reports_expected": 4,
        "report_status": "overdue", "report_overdue": True, "days_in_stage": None}
    assert overdue["filed_on"] == seeded.filed.date().isoformat()
    assert apps[seeded["funded"]]["amount_granted"] == "35000.50"
    assert apps[seeded["withdrawn"]]["days_to_decision"] is None and apps[seeded["withdrawn"]]["state"] == "closed"
    assert apps[seeded["community"]]["score_technical"] == 4.5 and apps[seeded["community"]]["votes_up"] == 2
    assert apps[seeded["stalled"]]["assignees"] == ["ravi"] and apps[seeded["stalled"]]["days_in_stage"] == 110
    assert apps[seeded["incomplete"]]["eligibility"] == "incomplete"
    assert apps[seeded["technical"]]["project"] == HOSTILE_NAME


def test_csv_holds_the_same_rows(exported):
    from_json = json.loads(exported["json"])["applications"]
    reader = csv.DictReader(io.StringIO(exported["csv"]))
    rows = list(reader)
    assert reader.fieldnames == json.loads(exported["json"])["columns"]
    assert len(rows) == len(from_json)
    for got, want in zip(rows, from_json, strict=True):
        assert got["number"] == str(want["number"]) and got["project"] == want["project"]
        assert got["amount_granted"] == (want["amount_granted"] or "")
        assert got["report_overdue"] == ("true" if want["report_overdue"] else "false")
        assert got["assignees"] == " ".join(want["assignees"])
        assert got["score_technical"] == ("" if want["score_technical"] is None else str(want["score_technical"]))


def test_markdown_is_a_table_that_mentions_nobody(exported, seeded_pair):
    _, seeded = seeded_pair
    lines = exported["md"].splitlines()
    assert lines[0].startswith(f"# Applications to {FUND_REPO} as of ")
    table = [line for line in lines if line.startswith("|")]
    width = len(columns_of(table[0]))
    assert table[1] == "|" + "---|" * width
    assert len(table) == 2 + len(seeded.numbers)
    assert all(len(columns_of(row)) == width for row in table)  # user text never breaks the table
    assert "<script>" not in exported["md"] and "\\<script\\>" in exported["md"]


def columns_of(line: str) -> list[str]:
    cells, current, escaped = [], "", False
    for char in line.strip()[1:-1]:
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return cells + [current]


def test_cells_that_look_like_formulas_are_defused(seeded_pair, rules):
    world, _ = seeded_pair
    [row] = [r for r in pipeline_rows(world.github.for_repository(FUND_REPO), FUND_REPO, rules,
                                      world.sandbox.now().date()) if r.outcome == "declined"]
    row = dataclasses.replace(row, project='=HYPERLINK("http://evil","x")', amount_requested=Decimal("1.50"))
    [parsed] = list(csv.DictReader(io.StringIO(render([row], rules, "csv"))))
    assert parsed["project"] == "'=HYPERLINK(\"http://evil\",\"x\")" and parsed["amount_requested"] == "1.50"
    md = render([dataclasses.replace(row, project="Ping @everyone | #1")], rules, "md")
    assert "@everyone" not in md and "\\|" in md


def test_an_unknown_format_is_refused(rules):
    with pytest.raises(ValueError, match="csv, json, md"):
        render([], rules, "xlsx")


def test_the_cli_writes_the_export_to_standard_output(world, app_key, capsys):
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(filed(world.sandbox))
    environ = {"GITHUB_API_URL": world.settings.api_url, "GITHUB_APP_ID": str(APP_ID),
               "GITHUB_PRIVATE_KEY": app_key, "FUNDBOT_REPO": FUND_REPO}
    assert main(["export", "--format", "csv"], environ) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["number"], r["project"], r["stage"], r["eligibility"]) for r in rows] == [
        ("1", "Tiny Inference", "technical", "passed")]


def test_the_cli_says_when_github_cannot_be_read(world, app_key, capsys):
    environ = {"GITHUB_API_URL": world.settings.api_url, "GITHUB_APP_ID": str(APP_ID),
               "GITHUB_PRIVATE_KEY": app_key, "FUNDBOT_REPO": "open-source-fund/missing"}
    assert main(["export", "--format", "json"], environ) == 1
    assert "could not read the applications of open-source-fund/missing" in capsys.readouterr().err


def test_a_chinese_fund_gets_chinese_headings_and_the_same_values(seeded_pair, rules):
    world, _ = seeded_pair
    rows = pipeline_rows(world.github.for_repository(FUND_REPO), FUND_REPO, rules, world.sandbox.now().date())
    chinese = dataclasses.replace(rules, language="zh")
    english_csv, chinese_csv = render(rows, rules, "csv"), render(rows, chinese, "csv")
    headings = next(csv.reader(io.StringIO(chinese_csv)))
    assert headings[:3] == ["编号", "项目", "申请人"] and headings[-1] == "评分_funding"
    assert len(headings) == len(columns(rules)) and len(set(headings)) == len(headings)
    assert chinese_csv.splitlines()[1:] == english_csv.splitlines()[1:]  # the values do not change
    assert render(rows, chinese, "json") == render(rows, rules, "json")  # JSON keys are the column names
    assert render(rows, chinese, "md", repo=FUND_REPO).startswith(f"# {FUND_REPO} 的申请\n\n| 编号 | 项目 |")
