"""The evidence pack's policy (issue 21), as tables: its figures, the packages it reads, when a pack is wanted,
what a pack changes in the record (asks answered once, thresholds decided, screening passed), and the words —
every gap said in both languages, never an exception. Against the sandbox: tests/test_evidence_e2e.py."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from factories import T0, application_body, make_comment, make_issue

from bot.config.rules import fund_rules
from bot.policy.answers import AnswerError, parse_packages
from bot.policy.decide import decide
from bot.policy.evidence import (
    ContributorWeeks, Remark, Thread, bus_factor, commits_figures, contributors_figures, declared_packages, delta,
    packages_to_read, releases_figures, responsiveness_figures, stars_figures,
)
from bot.policy.evidence_flow import asked, current_pack, evidence_checks, evidence_due, take_pack
from bot.policy.evidence_pack import Ask, Evidence, Pack, PackageRef, Reading
from bot.policy.evidence_view import evidence_section, gap_text, reply_text
from bot.policy.i18n import translator
from bot.policy.intake import body_sha
from bot.policy.labels import desired_labels
from bot.policy.markers import NoticeKey, read_record, record_block
from bot.policy.models import PostComment, UpsertStatusComment
from bot.policy.record import CheckResult, Note, Outcome, Record, ReportEntry
from bot.policy.record_json import from_json, to_json
from bot.policy.snapshot import Snapshot
from bot.policy.status import StatusContext, render_status
from bot.policy.triggers import Trigger, TriggerKind

NOW = T0
REPO = "tiny-org/tiny-inference"


def week(days_ago: int) -> dt.date:
    return (NOW - dt.timedelta(days=days_ago)).date()


# --- figures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("commits,expected", [
    ([], 0), ([0, 0], 0), ([10], 1), ([5, 5], 1), ([5, 4, 1], 1), ([4, 3, 3], 2), ([1] * 10, 5), ([9, 1, 1, 1], 1),
], ids=["nobody", "no-commits", "alone", "two-equal", "one-is-half", "two-make-half", "ten-equal", "one-dominates"])
def test_bus_factor_is_the_fewest_people_making_half_the_commits(commits, expected):
    assert bus_factor(commits) == expected


def test_contributors_count_only_the_window_and_never_bots():
    people = [
        ContributorWeeks("ada", False, ((week(10), 6), (week(200), 50))),  # the old commits do not count
        ContributorWeeks("bo", False, ((week(30), 3),)),
        ContributorWeeks("cy", False, ((week(100), 9),)),  # active once, not in the window
        ContributorWeeks("dependabot[bot]", True, ((week(5), 40),)),
    ]
    assert contributors_figures(people, NOW) == {"active": 2, "bus_factor": 1, "total": 3}


def test_commits_are_the_last_thirteen_weeks_of_participation():
    assert commits_figures([100] * 39 + [1] * 13) == {"count": 13}
    assert commits_figures([]) == {"count": 0}


def _thread(number: int, author: str, hours_ago: int, *, association: str = "NONE", bot: bool = False,
            pr: bool = False, closed: bool = False, merged: bool = False) -> Thread:
    at = NOW - dt.timedelta(hours=hours_ago)
    return Thread(number, author, bot, association, at, pr, at + dt.timedelta(hours=1) if closed or merged else None,
                  at + dt.timedelta(hours=1) if merged else None)


def test_responsiveness_measures_only_outside_people_and_only_others_answering():
    threads = [
        _thread(1, "stranger", 100),  # answered after 10 h (its own author's comment first does not count)
        _thread(2, "other", 50, pr=True, merged=True),  # answered by a bot, then by a person after 4 h
        _thread(3, "third", 20, pr=True, closed=True),  # never answered
        _thread(4, "maintainer", 10, association="MEMBER"),  # the project's own: not measured
        _thread(5, "renovate[bot]", 5, bot=True),  # a bot's: not measured
    ]
    remarks = [
        Remark(1, "stranger", False, NOW - dt.timedelta(hours=99)),
        Remark(1, "dev", False, NOW - dt.timedelta(hours=90)),
        Remark(2, "ci[bot]", True, NOW - dt.timedelta(hours=49)),
        Remark(2, "dev", False, NOW - dt.timedelta(hours=46)),
        Remark(4, "someone", False, NOW - dt.timedelta(hours=9)),
    ]
    figures = responsiveness_figures(threads, remarks)
    assert figures == {"outside": 3, "answered": 2, "median_hours": 7.0, "prs": 2, "prs_closed": 2, "prs_merged": 1}
    assert responsiveness_figures(threads, remarks, partial=True)["partial"] is True


def test_releases_and_stars_count_their_windows():
    published = [NOW - dt.timedelta(days=d) for d in (400, 200, 10)]
    assert releases_figures(published, NOW) == {"year": 2, "last": (NOW - dt.timedelta(days=10)).date().isoformat()}
    assert releases_figures([NOW] * 100, NOW, more=True)["more"] is True
    starred = [NOW - dt.timedelta(days=d) for d in (200, 80, 3)]
    assert stars_figures(50, starred, True, NOW) == {"count": 50, "gained": 2}
    assert stars_figures(50, starred, False, NOW)["more"] is True  # every star read was recent: a lower bound
    assert stars_figures(90_000, None, True, NOW) == {"count": 90_000}


# --- packages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("pypi:tiny-inference", (PackageRef("pypi", "tiny-inference"),)),
    ("pypi:tiny==1.2.0, npm:@tiny-org/runtime@0.3.1", (PackageRef("pypi", "tiny", "1.2.0"),
                                                        PackageRef("npm", "@tiny-org/runtime", "0.3.1"))),
    ("https://pypi.org/project/Tiny_Inference/\nhttps://www.npmjs.com/package/express",
     (PackageRef("pypi", "Tiny_Inference"), PackageRef("npm", "express"))),
    ("- pypi:a\n- pypi:a", (PackageRef("pypi", "a"),)),
    ("cargo:serde", "not_packages"), ("pypi:", "not_packages"), ("npm:Has Spaces", "not_packages"),
    (", ".join(f"pypi:p{i}" for i in range(11)), "not_packages"), ("pypi:x@;rm -rf", "not_packages"),
], ids=["one", "versions-and-scope", "pages", "repeated", "other-registry", "no-name", "bad-name", "too-many",
        "hostile-version"])
def test_the_form_names_packages(text, expected):
    if isinstance(expected, tuple):
        assert parse_packages(text) == expected
    else:
        with pytest.raises(AnswerError) as caught:
            parse_packages(text)
        assert caught.value.code == expected


def test_the_repository_declares_packages_and_the_form_comes_first():
    declared = declared_packages('[project]\nname = "tiny"\nversion = "1.2.0"\n',
                                 '{"name": "@tiny/rt", "version": "0.3.1"}')
    assert declared == (PackageRef("pypi", "tiny", "1.2.0"), PackageRef("npm", "@tiny/rt", "0.3.1"))
    assert declared_packages('[tool.poetry]\nname = "p"\nversion = "2"\n', None) == (PackageRef("pypi", "p", "2"),)
    assert declared_packages('[project]\nname = "d"\ndynamic = ["version"]\n', '{"name": "x", "private": true}') == \
        (PackageRef("pypi", "d"),)
    assert declared_packages("not = [toml", "{not json") == ()
    named = (PackageRef("pypi", "Tiny"),)
    assert packages_to_read(named, declared) == (PackageRef("pypi", "Tiny", "1.2.0"), PackageRef("npm", "@tiny/rt", "0.3.1"))


# --- the pack in the record ------------------------------------------------------------------------------------


def pack(at: dt.datetime = NOW, repo: str = REPO, **figures: dict) -> Pack:
    readings = tuple(Reading(key, f) for key, f in figures.items())
    return Pack(repo, at, readings)


def test_a_pack_is_kept_compactly_and_read_back():
    first = pack(stars={"count": 10, "gained": 2}, scorecard={"score": 6.1, "date": "2026-11-01"})
    latest = Pack(REPO, NOW + dt.timedelta(days=90), (Reading("stars", {"count": 30}), Reading("scorecard", gap="unknown"),
                                                      Reading("dependents", gap="timeout", detail={"seconds": 3.0})),
                  notes=("archived",), requests=17)
    record = Record(repository=REPO, evidence=Evidence(first, latest, (Ask("report", "comment:5", NOW, "ada"),)))
    again = from_json(to_json(record))
    assert again.evidence == record.evidence
    same = from_json(to_json(dataclasses.replace(record, evidence=Evidence(first, first))))
    assert same.evidence.latest == first and "latest" not in to_json(record)["evidence"].get("first", {})
    assert len(record_block(record)) < 1200  # two packs and an ask, compressed in the hidden record
    assert from_json(to_json(Record(repository=REPO))).evidence is None  # a record from before issue 21


def checked(repository: str = REPO, **kw) -> Record:
    """A record whose checks ran on the sample application's body (a decide on it takes nothing in again)."""
    return Record(repository=repository, body_sha=body_sha(application_body()), checks=(CheckResult("repository", True, Note("repository.ok", {"repo": repository})),),
                  stage="technical", **kw)


@pytest.mark.parametrize("record,due", [
    (Record(), False),
    (checked(), True),
    (checked(evidence=Evidence(pack(), pack())), False),
    (checked(repository="tiny-org/moved", evidence=Evidence(pack(), pack())), True),
    (checked(evidence=Evidence(pack(), pack(), (Ask("command", "7", NOW, "rita"),))), True),
    (checked(outcome=Outcome("declined", "rita", NOW)), False),
    (checked(outcome=Outcome("funded", "rita", NOW, Decimal(1)), evidence=Evidence(pack(), pack(), (Ask("report", "c", NOW, "a"),))), True),
], ids=["no-checks-yet", "new-application", "read", "repository-changed", "asked", "declined", "funded-report"])
def test_when_a_pack_is_wanted(record, due, rules):
    assert evidence_due(record, rules) is due


def test_no_pack_when_the_rules_switch_evidence_off(rules):
    off = fund_rules(rules, "evidence:\n  enabled: false\n", {})
    assert not evidence_due(checked(), off)
    assert asked(checked(), "command", "1", NOW, "rita", off) == checked()


def test_a_pack_answers_every_ask_once_and_keeps_the_first_for_the_repository(rules):
    first, later = pack(stars={"count": 10}), pack(NOW + dt.timedelta(days=90), stars={"count": 25})
    record = checked(evidence=Evidence(first, first))
    record = asked(record, "report", "comment:9", NOW, "ada", rules)
    record = asked(asked(record, "command", "11", NOW, "rita", rules), "command", "11", NOW, "rita", rules)
    assert len(record.evidence.asks) == 2  # the same ask twice is one
    tr = translator("en")
    taken, actions = take_pack(record, later, rules, set(), tr)
    assert taken.evidence == Evidence(first, later, ())
    keys = [a.key for a in actions if isinstance(a, PostComment)]
    assert keys == [NoticeKey.evidence("report", "comment:9"), NoticeKey.evidence("command", "11")]
    assert "| Stars | 10 | 25 | +15 |" in actions[0].body and actions[1].body.startswith("@rita ")
    _, again = take_pack(record, later, rules, set(keys), tr)
    assert again == []  # already posted: never twice
    elsewhere, none = take_pack(record, pack(repo="someone/else"), rules, set(), tr)
    assert elsewhere == record and none == []  # a pack about another repository is ignored


def test_a_report_asks_for_the_pack(rules):
    before = checked(evidence=Evidence(pack(), pack()))
    after = dataclasses.replace(before, reports=(ReportEntry(NOW, "ada", "comment:4"),))
    from bot.policy.evidence_flow import ask_for_reports
    assert ask_for_reports(before, after, rules).evidence.asks == (Ask("report", "comment:4", NOW, "ada"),)
    assert ask_for_reports(after, after, rules) == after


# --- thresholds ----------------------------------------------------------------------------------------------


@pytest.fixture
def strict(rules):
    return fund_rules(rules, "evidence:\n  thresholds:\n    min_dependents: {value: 10, as: eligibility}\n"
                             "    max_response_days: {value: 2, as: eligibility}\n"
                             "    min_scorecard: {value: 7, as: attention}\n", {})


@pytest.mark.parametrize("figures,expected", [
    (None, {"dependents": "pending", "response": "pending"}),
    ({}, {"dependents": "unmeasured", "response": "unmeasured"}),
    ({"dependents": {"count": 12}, "responsiveness": {"median_hours": 30.0}}, {"dependents": True, "response": True}),
    ({"dependents": {"count": 3}, "responsiveness": {"median_hours": 72.0}}, {"dependents": False, "response": False}),
], ids=["not-read-yet", "not-measured", "pass", "fail"])
def test_thresholds_are_checks_of_the_screening(strict, figures, expected):
    results = {c.id: c for c in evidence_checks(None if figures is None else pack(**figures), strict.evidence)}
    assert set(results) == set(expected)  # the attention threshold is no check
    for check, verdict in expected.items():
        result = results[check]
        if verdict == "pending":
            assert result.pending and not result.ok
        elif verdict == "unmeasured":
            assert result.figure.code == "evidence.unmeasured" and result.detail.code == "evidence.unmeasured.fix"
        else:
            assert result.ok is verdict


def test_a_pending_check_gives_no_eligibility_label_and_the_pack_decides_and_advances(strict):
    issue = make_issue(body=application_body())
    record = decide(Trigger(TriggerKind.OPENED), Snapshot(issue=issue, repo_facts=_facts()), strict, NOW).record
    assert record.eligibility_pending and record.stage == "screening"
    assert not desired_labels(record, strict, NOW.date()) & {"eligibility: passed", "eligibility: failed"}
    status = render_status(record, strict, StatusContext(NOW.date()))
    assert "⏳" in status and "waiting for the evidence pack" in status
    good = pack(dependents={"count": 40}, responsiveness={"median_hours": 5.0}, scorecard={"score": 4.0})
    snap = Snapshot(issue=issue, found=_found(record))
    decided = decide(Trigger(TriggerKind.EVIDENCE, pack=good), snap, strict, NOW + dt.timedelta(minutes=1))
    assert decided.record.eligible and decided.record.stage == "technical"  # screening passed on the pack
    assert "⚠️ OpenSSF Scorecard score is 4, below the fund's limit of 7" in decided.status
    bad = pack(dependents={"count": 1}, responsiveness={"median_hours": 5.0})
    failed = decide(Trigger(TriggerKind.EVIDENCE, pack=bad), snap, strict, NOW).record
    assert not failed.eligible and not failed.eligibility_pending and failed.stage == "screening"
    waived = decide(Trigger(TriggerKind.COMMENT, comment=make_comment(50, "/waive dependents a library of libraries",
                                                                      user="rita", association="MEMBER")),
                    Snapshot(issue=issue, found=_found(failed)), strict, NOW).record
    assert waived.eligible and waived.stage == "technical"


def _facts():
    from bot.policy.models import RepoFacts, RepoStatus
    return RepoFacts(requested=REPO, status=RepoStatus.OK, full_name=REPO, default_branch="main", licence_spdx="MIT",
                     commits_in_window=12, last_commit_at=NOW - dt.timedelta(days=2), people=5)


def _found(record: Record):
    return read_record(record_block(record))


# --- decide and the command ----------------------------------------------------------------------------------


def test_evidence_is_a_reviewers_command_and_a_strangers_costs_nothing(rules):
    record = checked(evidence=Evidence(pack(), pack()))
    issue = make_issue(body=application_body())
    stranger = decide(Trigger(TriggerKind.COMMENT, comment=make_comment(60, "/evidence", user="stan", association="NONE")),
                      Snapshot(issue=issue, found=_found(record)), rules, NOW)
    assert not stranger.record.evidence.asks
    assert any(isinstance(a, PostComment) and "is for reviewers" in a.body for a in stranger.actions)
    reviewer = decide(Trigger(TriggerKind.COMMENT, comment=make_comment(61, "/evidence", user="rita",
                                                                        association="MEMBER")),
                      Snapshot(issue=issue, found=_found(record)), rules, NOW)
    assert reviewer.record.evidence.asks == (Ask("command", "61", NOW, "rita"),)
    assert evidence_due(reviewer.record, rules)


# --- words ---------------------------------------------------------------------------------------------------

GAPS = [Reading("scorecard", gap="off"), Reading("scorecard", gap="timeout", detail={"seconds": 3.0}),
        Reading("scorecard", gap="unknown"), Reading("dependents", gap="error", detail={"status": 500}),
        Reading("dependents", gap="unknown", detail={"package": "pypi:ghost"}),
        Reading("dependents", gap="no_version", detail={"package": "pypi:tiny"}), Reading("dependents", gap="no_package"),
        Reading("pypi_downloads", gap="no_package"), Reading("npm_downloads", gap="no_package"),
        Reading("contributors", gap="computing"), Reading("contributors", gap="too_large"),
        Reading("commits", gap="empty"), Reading("community", gap="fork"), Reading("releases", gap="unavailable"),
        Reading("stars", gap="budget")]
SAID = ["switched off", "did not answer in 3 s", "OpenSSF Scorecard has no data for this project", "deps.dev answered 500",
        "deps.dev does not know the package pypi:ghost", "no version of pypi:tiny is known",
        "no PyPI or npm package is named", "no PyPI package is named", "no npm package is named",
        "GitHub is still computing this", "10,000 commits or more", "the repository has no commits",
        "no community profile for a fork", "GitHub did not answer", "GitHub requests were spent"]


@pytest.mark.parametrize("reading,said", list(zip(GAPS, SAID)), ids=[f"{r.key}-{r.gap}" for r in GAPS])
def test_every_gap_is_said_in_words_in_each_language(reading, said):
    assert said in gap_text(reading, translator("en"))
    chinese = gap_text(reading, translator("zh"))
    assert chinese and chinese != reading.gap and chinese != gap_text(reading, translator("en"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_section_and_the_reply_render_every_shape_of_pack(rules, language):
    tr = translator(language)
    full = pack(community={"health": 85, "files": ["readme", "security"]}, commits={"count": 12},
                contributors={"active": 3, "bus_factor": 1, "total": 9},
                responsiveness={"outside": 4, "answered": 3, "median_hours": 60.0, "prs": 2, "prs_closed": 1,
                                "prs_merged": 1, "partial": True},
                releases={"year": 2, "last": "2026-10-01"}, stars={"count": 90, "trend": "too_many"},
                scorecard={"score": 6.25, "maintained": 10, "date": "2026-10-30"},
                dependents={"count": 4, "direct": 1, "package": "pypi:<b>x</b>", "version": "1"},
                pypi_downloads={"month": 1_000_000, "package": "pypi:x"})
    empty = Pack(REPO, NOW, tuple(GAPS), notes=("archived", "fork", "empty"), detail={"parent": "a/b"})
    for latest in (full, empty, Pack(REPO, NOW, gap="not_found"), Pack(REPO, NOW, gap="unreadable", detail={"status": 451})):
        section = evidence_section(full, latest, True, rules, tr)
        assert section.startswith("<details>") and section.endswith("</details>") and len(section) < 6000
        assert "<b>x</b>" not in section  # a package name is someone else's text: inert
        reply = reply_text(Ask("command", "1", NOW, "rita"), full, latest, rules, tr)
        assert reply.startswith("@rita") and len(reply) < 4000
    assert evidence_section(None, None, False, rules, tr) == ""
    assert "<details>" in evidence_section(None, None, True, rules, tr)  # being read


def test_the_change_since_the_application():
    first = pack(stars={"count": 10}, scorecard={"score": 6.0}, responsiveness={"median_hours": 10.0})
    latest = pack(NOW, stars={"count": 25}, scorecard={"score": 6.5}, dependents={"count": 3})
    changes = {(c.key, c.name): (c.before, c.after) for c in delta(first, latest)}
    assert changes == {("stars", "count"): (10, 25), ("scorecard", "score"): (6.0, 6.5),
                       ("responsiveness", "median_hours"): (10.0, None), ("dependents", "count"): (None, 3)}
    assert current_pack(checked(evidence=Evidence(first, latest))) == latest
    assert current_pack(checked(repository="other/repo", evidence=Evidence(first, latest))) is None


def test_the_status_comment_says_the_evidence_is_being_read_until_it_is(rules):
    issue = make_issue(body=application_body())
    decision = decide(Trigger(TriggerKind.OPENED), Snapshot(issue=issue, repo_facts=_facts()), rules, NOW)
    assert "being read" in decision.status  # the first answer does not wait for the pack
    status = next(a for a in decision.actions if isinstance(a, UpsertStatusComment)).body
    taken = decide(Trigger(TriggerKind.EVIDENCE, pack=pack(stars={"count": 7})),
                   Snapshot(issue=issue, found=_found(decision.record)), rules, NOW)
    assert "being read" not in taken.status and "★ 7" in taken.status and status != taken.status
