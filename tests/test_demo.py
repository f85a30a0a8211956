"""`fundbot demo`: the whole story a newcomer sees, told from the shipped rules or from changed ones."""
from __future__ import annotations

import io
import logging
import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.settings import DEFAULT_RULES_DIR
from bot.demo.story import run_demo, visible_lines

SUMMARY = re.compile(r"^(\d+) steps · (\d+) GitHub API requests \(\d+ reads, \d+ writes, \d+ answered 304\) · "
                     r"[\d.]+ s · (.+)$")


def demo(rules_dir: Path | None = None, language: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_demo(rules_dir, out, language)
    return code, out.getvalue()


def changed_rules(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped rules with one line changed (the change must apply)."""
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    text = (rules / file).read_text()
    assert old in text, f"the shipped {file} no longer has {old!r}"
    (rules / file).write_text(text.replace(old, new))
    return rules


def before(output: str, first: str, then: str) -> bool:
    return first in output and then in output and output.index(first) < output.index(then)


@pytest.fixture(scope="module")
def shipped() -> tuple[int, str]:
    return demo()


def test_the_shipped_rules_take_an_application_from_filing_to_two_reports(shipped):
    code, output = shipped
    assert code == 0
    # The applicant's mistakes are explained, then fixed by an edit.
    assert "is not an amount in US dollars written in digits" in output
    assert "Development plan and milestones: this is required, but the answer is empty." in output
    assert before(output, "Eligibility:** ❌ not eligible yet", "Eligibility:** ✅ eligible")
    # A stranger is refused with a reason; reviewers move it on; it is funded.
    assert "@stan `/advance` is for reviewers, and you are not one here." in output
    assert before(output, "@stan `/advance` is for reviewers", "✅ **Funded: $40,000**")
    assert "👍 2 · 👎 1" in output  # the community's votes (the applicant's own do not count)
    # After the grant: a reminder, a report by comment, a missed date, a report by issue.
    assert before(output, "✅ **Funded: $40,000**", "a progress report is due on")
    report = re.search(r"- [A-Z][a-z]{2} \d{1,2}, \d{4} by @alice-dev \(a comment\)", output)  # listed in the status comment
    assert report and output.index("a progress report is due on") < report.start()
    assert before(output, "a progress report is due on", "is overdue.")
    assert "cc @rita @ravi" in output  # the reviewers are told of the overdue report
    assert before(output, "is overdue.", "recorded as a progress report on #1")
    assert "🔒 the issue is now closed" in output  # the report issue, once recorded


def test_the_demo_in_chinese_files_the_chinese_forms_and_tells_the_story_in_chinese(capsys):
    assert main(["demo", "--language", "zh"]) == 0
    output = capsys.readouterr().out
    assert "alice-dev 提交申请（有两处错误：金额用文字书写，缺少里程碑）" in output
    assert "资金需求（美元）：“四万美元” 不是用数字书写的美元金额" in output  # the bot, on the Chinese form
    assert before(output, "@stan `/advance` 只供评审人使用", "✅ **获得资金支持：US$40,000**")
    assert before(output, "下一份进展报告将于", "提交的进展报告已逾期")  # the reminder, then the overdue notice
    assert "谢谢，@alice-dev：已记录为 #1 的进展报告。" in output  # the Chinese progress-report issue
    assert re.search(r"^ ?\d+ ▸ \d{4}年\d{1,2}月\d{1,2}日 · ", output, re.MULTILINE)
    assert output.rstrip().endswith("#1 funded US$40,000，已记录 2 份进展报告")
    english = [line for line in output.splitlines() if re.search(r"\b(comments on|files an|the issue is|fund-bot posts)\b", line)]
    assert english == []


def test_labels_are_shown_as_they_change(shipped):
    _, output = shipped
    labels = [line.strip() for line in output.splitlines() if line.strip().startswith("🏷")]
    assert labels[0].startswith("🏷  labels: eligibility: failed, fund: application, stage: screening")
    assert any("(+status: funded −stage: decision)" in line for line in labels)
    assert any("+report: due" in line for line in labels)
    assert any("+report: overdue −report: due" in line for line in labels)


def test_what_people_cannot_see_is_not_printed(shipped):
    _, output = shipped
    assert "<!--" not in output and "fund-bot:data" not in output and "<sub>" not in output


def test_the_summary_counts_steps_and_requests(shipped):
    _, output = shipped
    summary = SUMMARY.match(output.rstrip().splitlines()[-1])
    assert summary, output.rstrip().splitlines()[-1]
    steps, requests, end = int(summary[1]), int(summary[2]), summary[3]
    assert steps == len(re.findall(r"^ ?\d+ ▸ ", output, re.MULTILINE))
    assert requests > 0
    assert end == "#1 funded $40,000, 2 progress reports recorded"


def test_without_auto_advance_a_reviewer_moves_screening_on(tmp_path):
    code, output = demo(changed_rules(tmp_path, "stages.yml", "auto_advance: true", "auto_advance: false"))
    assert code == 0
    assert "rita comments on #1 (screening does not advance by itself under these rules)" in output
    assert "@fund-bot (eligibility)" not in output  # the shipped rules' automatic move
    assert re.search(r"\| technical \| [A-Z][a-z]{2} \d{1,2}, \d{4} \|", output) and "@rita (/advance)" in output
    assert output.rstrip().endswith("#1 funded $40,000, 2 progress reports recorded")


def test_a_lower_cap_refuses_the_grant_and_ends_the_story(tmp_path):
    code, output = demo(changed_rules(tmp_path, "funding.yml", "max_per_project: 50000", "max_per_project: 30000"))
    assert code == 0
    assert "`/approve $40,000` is over the per-project cap of $30,000" in output
    assert "The review cannot leave decision under these rules; the demo stops here." in output
    assert "Funded" not in output and "progress report is due" not in output
    assert output.rstrip().endswith("#1 in decision")


def test_broken_rules_are_listed_and_exit_2(tmp_path, capsys):
    rules = changed_rules(tmp_path, "reports.yml", "cadence_days: 90", "cadence_days: ninety")
    assert main(["demo", "--rules", str(rules)]) == 2
    output = capsys.readouterr().out
    assert "the rules in" in output and "are invalid" in output
    assert "cadence_days: 'ninety' is not of type 'integer'" in output
    assert "▸" not in output  # nothing was run


def test_the_service_stays_quiet_and_its_log_level_is_restored(caplog):
    logger = logging.getLogger("fundbot")
    level = logger.level
    code, _ = demo()
    assert code == 0
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("fundbot") and r.levelno < logging.WARNING]
    assert chatter == []
    assert logger.level == level


@pytest.mark.parametrize("body, expected", [
    ("<!-- fund-bot:status -->\n\n## Title\n\n<sub>small</sub>\n\n<!-- fund-bot:data {\"a\": 1} -->\n",
     ["## Title", "small"]),
    ("@stan hi \u2060@rita\n\n<!-- fund-bot:notice reply:1 -->", ["@stan hi @rita"]),
    ("<!-- a\nmulti-line\nblock -->\n- kept\n\n\n- lines", ["- kept", "- lines"]),
], ids=["status-comment", "mention-guard", "multi-line-hidden"])
def test_visible_lines(body, expected):
    assert visible_lines(body) == expected
