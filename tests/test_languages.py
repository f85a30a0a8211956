"""An application's language (SPEC §15): chosen by its form, read from either form by its headings,
and used for everything the bot says on it — with hostile inputs: an answer that is no language, a
Chinese form with an English section pasted in, a language changed by an edit, invisible characters,
and a 100 KB Chinese comment."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from factories import T0, application_body, make_comment, make_issue, report_body

from bot.policy.decide import decide
from bot.policy.report_issue import Named, decide_report_issue, report_language
from bot.policy.snapshot import Snapshot
from bot.policy.triggers import Trigger, TriggerKind
from bot.demo.samples import application_answers, application_template
from bot.policy.form_render import render_form
from bot.policy.i18n import translator
from bot.policy.markers import FoundRecord
from bot.policy.models import PostComment, RepoFacts, RepoStatus, UpsertStatusComment
from bot.policy.text import OUTPUT_LIMIT

NOW = T0 + dt.timedelta(hours=1)
GOOD = RepoFacts(requested="tiny-org/tiny-inference", status=RepoStatus.OK, full_name="tiny-org/tiny-inference",
                 licence_spdx="MIT", default_branch="main", commits_in_window=12,
                 last_commit_at=T0 - dt.timedelta(days=3), people=5)
ZH_BODY = application_body(lang="zh")


def status_of(decision) -> str:
    [upsert] = [a for a in decision.actions if isinstance(a, UpsertStatusComment)]
    return upsert.body


def opened(rules, body: str, record=None, trigger=TriggerKind.OPENED, comments=()):
    issue = make_issue(body=body, user="alice-dev")
    snap = Snapshot(issue=issue, found=FoundRecord(record, None), repo_facts=GOOD, comments=tuple(comments))
    return decide(Trigger(trigger, actor="alice-dev"), snap, rules, NOW)


def replies(decision) -> list[str]:
    return [a.body for a in decision.actions if isinstance(a, PostComment)]


# --- which language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body, language", [
    (application_body(), "en"),  # the English form, no answer: the fund's language
    (application_body(language="English"), "en"),
    (application_body(language="中文"), "zh"),  # the English form, Chinese chosen
    (ZH_BODY, "zh"),
    (application_body(lang="zh", language=None), "zh"),  # the Chinese form, no answer: the form's language
    (application_body(lang="zh", language="English"), "en"),  # the Chinese form, English chosen
    (application_body(language="Klingon"), "en"),  # neither option: the fund's, and a problem to fix
    (application_body(language="中\u200b文\u2060"), "zh"),  # invisible characters do not hide the choice
], ids=["en-form", "english", "en-form-chinese", "zh-form", "zh-form-no-answer", "zh-form-english", "klingon",
        "zero-width"])
def test_the_language_of_an_application(rules, body, language):
    assert rules.language_of(rules.read_application(body)) == language


def test_an_answer_that_is_no_language_is_a_problem_to_fix_in_the_fund_language(rules):
    form = rules.read_application(application_body(language="Klingon"))
    assert [(p.field_id, p.kind) for p in form.problems] == [("language", "not_a_choice")]
    body = status_of(opened(rules, application_body(language="Klingon")))
    assert "“Klingon” is not one of the choices (“English”, “中文”)" in body and "## Fund Bot status" in body


def test_the_fund_language_applies_when_the_form_does_not_say(rules):
    chinese_fund = dataclasses.replace(rules, language="zh")
    assert chinese_fund.language_of(chinese_fund.read_application(application_body())) == "zh"
    assert "## Fund Bot 状态" in status_of(opened(chinese_fund, application_body()))


# --- reading either form ----------------------------------------------------------------------------


def test_a_chinese_application_is_read_with_the_chinese_form(rules):
    form = rules.read_application(ZH_BODY)
    assert form.recognised and form.complete and form.template.language == "zh"
    assert form.answers["category"] == "开发工具和框架" and form.funding_amount == 40000


def test_a_section_pasted_from_the_english_form_is_not_lost(rules):
    english = application_template("en")
    pasted = ZH_BODY.replace("### 开源许可证", f"### {english.field('license').label}")
    pasted = pasted.replace("- [X] 项目使用 OSI 批准的开源许可证。", f"- [X] {english.field('agreements').options[0]}")
    form = rules.read_application(pasted)
    assert form.template.language == "zh" and form.answers["license"] == "MIT"
    assert form.complete, [p.message for p in form.problems]


def test_a_missing_chinese_section_is_named_by_its_chinese_heading(rules):
    body = ZH_BODY.replace("### 发展计划和里程碑", "### 计划")
    text = status_of(opened(rules, body))
    assert "发展计划和里程碑：缺少这一部分。请编辑 issue，在标题“### 发展计划和里程碑”下补回这一部分。" in text


def test_invisible_characters_in_headings_do_not_hide_a_section(rules):
    body = ZH_BODY.replace("### 代码仓库", "### 代码\u200b仓库\u202e")
    assert rules.read_application(body).answers["repository"] == "https://github.com/tiny-org/tiny-inference"


# --- everything said on it, in its language ------------------------------------------------------------


def test_a_chinese_application_is_answered_in_chinese(rules):
    decision = opened(rules, application_body(lang="zh", funding_amount="四万美元"))
    body = status_of(decision)
    assert "## Fund Bot 状态" in body and "### 申请表" in body
    assert "资金需求（美元）：“四万美元” 不是用数字书写的美元金额" in body
    assert "| 开源许可 | ✅ | MIT |" in body and "5 名贡献者" in body
    assert "Fund Bot 会随时更新这条评论" in body
    assert "Fund Bot status" not in body and "Eligibility" not in body


def test_a_language_changed_by_an_edit_changes_what_the_bot_says(rules):
    first = opened(rules, ZH_BODY)
    assert "Fund Bot 状态" in status_of(first)
    edited = opened(rules, application_body(lang="zh", language="English"), record=first.record,
                    trigger=TriggerKind.EDITED)
    body = status_of(edited)
    assert "## Fund Bot status" in body and "状态" not in body
    assert edited.record.checks == first.record.checks  # the findings are kept as notes: only the words change


def test_help_and_refusals_answer_in_the_application_language(rules):
    help_ = make_comment(101, "/help", user="stan", association="NONE", at=T0 + dt.timedelta(minutes=5))
    refused = make_comment(102, "/approve 40000", user="stan", association="NONE", at=T0 + dt.timedelta(minutes=6))
    decision = opened(rules, ZH_BODY, comments=(help_, refused), trigger=TriggerKind.COMMENT)
    help_reply, refusal = replies(decision)
    assert "您在这里可以使用的命令" in help_reply and "`/help`：列出您可以使用的命令" in help_reply
    assert "`/approve` 只供评审人使用，而您在这里不是。" in refusal


def test_a_huge_chinese_comment_gets_a_bounded_answer(rules):
    text = "/needs-info " + "请补充资金使用计划的细节。" * 8_000  # about 100 KB of Chinese on one line
    comment = make_comment(103, text + "\n" + "\n".join(["/unknown"] * 50), user="rita", association="MEMBER",
                           at=T0 + dt.timedelta(minutes=5))
    decision = opened(rules, ZH_BODY, comments=(comment,), trigger=TriggerKind.COMMENT)
    [reply] = replies(decision)
    assert len(reply) < OUTPUT_LIMIT and len(status_of(decision)) < OUTPUT_LIMIT
    assert "评审人请您补充信息" in reply and "这条评论中还有 41 条命令没有执行" in reply


def test_bidirectional_controls_in_chinese_text_are_removed(rules):
    comment = make_comment(104, "/decline 不符合\u202e要求\u2066", user="rita", association="MEMBER",
                           at=T0 + dt.timedelta(minutes=5))
    record = opened(rules, ZH_BODY).record
    record = record.moved_to("decision", at=T0, by="rita", via="/stage")
    decision = opened(rules, ZH_BODY, record=record, comments=(comment,), trigger=TriggerKind.COMMENT)
    body = status_of(decision)
    assert "拒绝" in body and "\u202e" not in body and "\u2066" not in body


# --- progress-report issues -------------------------------------------------------------------------


def test_a_report_issue_is_answered_in_its_application_language(rules):
    report = make_issue(number=9, body=report_body(1, lang="zh", progress=""), user="alice-dev",
                        labels=("fund: report",))
    form = rules.read_report(report.body)
    application = make_issue(number=1, body=ZH_BODY)
    assert report_language(rules, form, application) == "zh"
    assert report_language(rules, form, make_issue(number=1, body=application_body())) == "en"
    assert report_language(rules, form, None) == "zh"  # no application named: the report form's language
    decision = decide_report_issue(report, form, Named.APPLICATION, frozenset(), translator("zh"))
    [reply] = [a.body for a in decision.actions]
    assert "这份进展报告还不完整" in reply and "里程碑进展：此项为必填项，但回答为空。" in reply


def test_a_report_issue_key_does_not_depend_on_the_language(rules):
    report = make_issue(number=9, body=report_body(1, lang="zh", progress=""), user="alice-dev",
                        labels=("fund: report",))
    form = rules.read_report(report.body)
    keys = {decide_report_issue(report, form, Named.APPLICATION, frozenset(), translator(language)).actions[0].key
            for language in ("en", "zh")}
    assert len(keys) == 1  # a reply posted in one language is not posted again in the other


def test_the_sample_bodies_use_every_field_of_their_form():
    answers = application_answers(lang="zh")
    assert set(answers) == {f.id for f in application_template("zh").fields}
    assert render_form(application_template("zh"), answers) == ZH_BODY


# --- what belongs to the whole fund: in the fund's language ------------------------------------------


def test_the_funds_own_issues_speak_its_language():
    from decimal import Decimal

    from bot.policy.configissue import render_fixed, render_problems
    from bot.policy.fundstate import FundState, render
    from bot.policy.sweeplog import make_run, render_log

    zh = translator("zh")
    problems = render_problems([".github/fund-bot.yml: fund.language: 'fr' is not a language"], True, zh)
    assert "## Fund Bot 无法使用本基金的配置" in problems and "`.github/fund-bot.yml` 或 issue 表单中有 1 个问题：" in problems
    assert "继续按本仓库最近一次有效的配置运行。文件变化时" in problems  # two sentences, joined the Chinese way
    assert "## 已修复" in render_fixed(zh) or "基金的配置已恢复有效" in render_fixed(zh)
    state = render(FundState(grants={"2026": {3: Decimal("40000")}}), "USD", zh)
    assert "| 2026 | 1 | US$40,000 |" in state and "<!-- fund-bot:fund-data" in state
    log = render_log((make_run(dt.datetime(2027, 1, 4, 15, tzinfo=dt.timezone.utc), 2, 1, [], []),), zh)
    assert "**最近记录的运行：** 2027年1月4日 15:00 · 检查了 2 个申请、1 个报告 issue，0 处改动，没有失败" in log


@pytest.mark.parametrize("kind", ["sweep-log-line", "refused-write"])
def test_words_kept_in_english_are_read_back_into_their_message(kind):
    # Older versions kept sweep-log lines (log v1) and refused writes (record v3) as English: read back
    # once, on reading them, into the message ids they are kept as now.
    from bot.policy.i18n import read_back
    from bot.policy.record_json import _V3_WRITES
    from bot.policy.sweeplog import _V1_LINES

    messages = _V1_LINES if kind == "sweep-log-line" else _V3_WRITES
    # Values as they come: labels with ": ", keys with ":", several logins, a round's name with spaces.
    params = {"number": 12, "labels": "fund: eligible, stage: technical", "label": "stage: community",
              "key": "reply:901", "content": "+1", "comment": 901, "logins": "ann, ben", "reason": "not_planned",
              "amount": "40000.50", "round": "2027 spring (pilot)", "login": "ann", "date": "2027-01-04",
              "repo": "fund/applications"}
    for message in messages:
        assert read_back(message % params, messages) == (message, {k: str(v) for k, v in params.items()
                                                                    if f"%({k})s" in message})


def test_the_sweep_log_and_refused_writes_speak_the_language(rules):
    from bot.policy.lines import action_line as describe
    from bot.policy.lines import write_what as what
    from bot.policy.models import AddLabels, Assign, CloseIssue, PostComment, UpsertStatusComment
    from bot.policy.record import Note, Record, WriteFailure
    from bot.policy.status import StatusContext, render_status
    from bot.policy.sweeplog import make_run, render_log
    from bot.policy.wording import english

    lines = [describe(a, 3) for a in (UpsertStatusComment("x"), AddLabels(("fund: eligible",)),
                                       PostComment(key="reply:9", body="x"), CloseIssue("completed"))]
    assert english(lines[1]) == "#3: add labels fund: eligible"  # the English, as the process prints and logs it
    older = Note("text", {"text": "#3: something new"})  # a line an older version kept as words
    run_ = make_run(dt.datetime(2027, 1, 4, 15, tzinfo=dt.timezone.utc), 1, 0, lines + [older], [])
    log = render_log((run_,), translator("zh"))
    ref = "#\u2060"  # a reference the bot does not link (bot.policy.text)
    assert (f"- {ref}3：更新状态评论\n- {ref}3：添加标签 fund: eligible\n- {ref}3：发表评论（reply:9）\n"
            f"- {ref}3：关闭（completed）\n- {ref}3: something new\n") in log  # a line of an older version: as kept
    assert f"- {ref}3: add labels fund: eligible" in render_log((run_,), translator("en"))

    failures = [WriteFailure(NOW, what(a), 403, "Forbidden") for a in (AddLabels(("x",)), Assign(("ann", "ben")))]
    record = Record(failures=tuple(failures))
    zh = render_status(record, rules, StatusContext(NOW.date(), language="zh"))
    day = translator("zh").date(NOW.date())
    assert f"- {day}：标签：GitHub 返回 403（Forbidden）\n- {day}：指派 ann, ben：GitHub 返回 403（Forbidden）" in zh
    assert "- Nov 2, 2026: labels: GitHub answered 403 (Forbidden)" in render_status(
        record, rules, StatusContext(NOW.date(), language="en"))


def test_a_report_issue_answered_before_its_key_named_problems_is_not_answered_again(rules):
    # Before record v4 the key hashed the problems' English words; a reply posted under that key stands.
    from bot.policy.markers import NoticeKey
    from bot.policy.text import escape_inline

    report = make_issue(number=9, body=report_body(1, progress=""), user="alice-dev", labels=("fund: report",))
    form = rules.read_report(report.body)
    [reply] = decide_report_issue(report, form, Named.APPLICATION, frozenset(), translator("en")).actions
    old = NoticeKey.report_incomplete_before_v4(9, [escape_inline(p.message, 500) for p in form.problems[:20]])
    assert old != reply.key and reply.key.startswith("report-refused:9:incomplete:")
    assert decide_report_issue(report, form, Named.APPLICATION, frozenset({old}), translator("en")).actions == ()
    assert decide_report_issue(report, form, Named.APPLICATION, frozenset({reply.key}), translator("zh")).actions == ()


def test_an_older_sweep_log_and_record_kept_english_and_are_read_back_as_message_ids(rules):
    from bot.policy.markers import SWEEP_TAG, hidden
    from bot.policy.record import Note
    from bot.policy.record_json import from_json, to_json
    from bot.policy.status import StatusContext, render_status
    from bot.policy.sweeplog import decode_runs, render_log

    v1 = hidden(SWEEP_TAG, {"v": 1, "runs": [{
        "at": "2027-01-04T15:00:00Z", "applications": 2, "reports": 0, "changes": 2, "requests": "",
        "lines": ["#3: add labels fund: eligible, stage: technical", "#4: something an old version said"],
        "failures": ["#5: 502 Bad Gateway"]}]})
    [run_] = decode_runs(v1)
    assert run_.lines == (Note("line.add_labels", {"number": "3", "labels": "fund: eligible, stage: technical"}),
                          Note("text", {"text": "#4: something an old version said"}))
    assert run_.failures == (Note("text", {"text": "#5: 502 Bad Gateway"}),)
    zh = render_log((run_,), translator("zh"))
    assert "3：添加标签 fund: eligible, stage: technical" in zh and "#\u20605: 502 Bad Gateway" in zh

    data = {"v": 3, "stage": "technical", "failures": [
        {"at": "2026-11-02T10:00:00Z", "what": "assign ann, ben", "status": 422, "message": "Validation Failed"},
        {"at": "2026-11-02T10:00:00Z", "what": "something else", "status": 403, "message": "Forbidden"}]}
    record = from_json(data)
    assert [f.what for f in record.failures] == [Note("write.assign", {"logins": "ann, ben"}),
                                                  Note("text", {"text": "something else"})]
    assert to_json(record)["v"] == 4 and from_json(to_json(record)) == record
    shown = render_status(record, rules, StatusContext(NOW.date(), language="zh"))
    assert "指派 ann, ben：GitHub 返回 422（Validation Failed）" in shown
