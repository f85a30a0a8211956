"""The showcase's content (issue 22): what is published of each application, decided from its sealed record
only — as tables over `bot.views.showcase.showcase` with records sealed here as the bot seals them — and the
bad input of the issue: a record edited by hand, a grant without a repository, HTML or a script in a
project's name or report, a bidi control, a 100 KB report. Each is shown inert or left out, and said."""
from __future__ import annotations

import dataclasses
import json
import datetime as dt
from decimal import Decimal

import pytest
from factories import application_body

from bot.policy.ledger import grant, release_tranche
from bot.policy.markers import STATUS_MARKER, record_block
from bot.policy.models import Comment, Issue, User
from bot.policy.record import CheckResult, Note, Record, ReportEntry
from bot.policy.seal import seal
from bot.views.rows import application_row
from bot.views.showcase import NAME_LIMIT, REPORT_LIMIT, inert, showcase

REPO = "open-source-fund/applications"
APP = "fund-bot[bot]"
KEY = b"k" * 32
T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def issue(number: int, project: str = "Tiny Inference", **labels: str) -> Issue:
    return Issue(repo=REPO, number=number, title=f"[Application]: {project}",
                 body=application_body(project_name=project), state="open", user=User("ada"),
                 author_association="NONE", labels=("fund: application", *labels.values()), assignees=(),
                 created_at=T0, updated_at=T0, comments=1, is_pull_request=False,
                 html_url=f"https://github.com/{REPO}/issues/{number}")


def status(number: int, record: Record, key: bytes = KEY, cid: int = 1) -> Comment:
    block = record_block(record, seal=lambda payload: seal(key, REPO, number, payload))
    return Comment(id=cid, body=f"{STATUS_MARKER}\nthe status\n{block}", user=User(APP, "Bot"),
                   author_association="NONE", created_at=T0)


def comment(cid: int, body: str, user: str = "ada") -> Comment:
    return Comment(id=cid, body=body, user=User(user), author_association="NONE", created_at=T0,
                   html_url=f"https://github.com/{REPO}/issues/1#issuecomment-{cid}")


def funded(rules, amount: str = "30000", *, repository: str = "tiny-org/tiny-inference", licence: str = "MIT",
           reports: tuple[ReportEntry, ...] = (), parts=(Decimal(50), Decimal(50))) -> Record:
    record = Record(stage="decision", round="2026", repository=repository,
                    checks=(CheckResult("licence", True, Note("licence.detected", {"licence": licence})),))
    record = grant(record, Decimal(amount), parts, rules, T0 + 10 * DAY, "rita")
    for entry in reports:
        record = dataclasses.replace(record, reports=record.reports + (entry,))
        if entry.review == "accepted":
            record = release_tranche(record, rules, entry.reviewed_at, entry.reviewed_by, entry.ref)
    return record


def accepted(ref: str, day: int = 100) -> ReportEntry:
    return ReportEntry(at=T0 + day * DAY, by="ada", ref=ref, review="accepted", reviewed_by="ravi",
                       reviewed_at=T0 + (day + 2) * DAY)


def built(rules, *apps: tuple[Issue, list[Comment]], report_issues=None, key: bytes = KEY):
    rows = [(application_row(i, c, rules, (T0 + 200 * DAY).date(), APP, key), i, c) for i, c in apps]
    return showcase(REPO, rows, report_issues or {}, rules)


REPORT = "/report We shipped the plugin API, the ARM test farm and two releases; the grant paid two people."


def test_a_funded_application_is_shown_with_its_decision_tranches_and_accepted_reports(rules):
    record = funded(rules, reports=(accepted("comment:7"), ReportEntry(at=T0 + 190 * DAY, by="ada", ref="comment:8")))
    shown = built(rules, (issue(1), [status(1, record), comment(7, REPORT), comment(8, "/report not reviewed yet " * 5)]))
    assert shown.said == ()
    [g] = shown.grants
    assert (g.number, g.project, g.repository, g.licence, g.round, g.amount, g.decided_by) == (
        1, "Tiny Inference", "tiny-org/tiny-inference", "MIT", "2026", Decimal(30000), "rita")
    assert g.repository_url == "https://github.com/tiny-org/tiny-inference"
    assert [(t.k, t.n, t.amount, t.released is not None) for t in g.tranches] == [
        (1, 2, Decimal("15000.00"), True), (2, 2, Decimal("15000.00"), True)]
    [report] = g.reports  # the report no reviewer has accepted yet is not shown
    assert report.url.endswith("#issuecomment-7") and report.accepted_at == T0 + 102 * DAY
    assert report.sections[0].text.startswith("We shipped the plugin API")
    [r] = shown.rounds
    assert (r.name, r.granted, r.released, r.pool) == ("2026", Decimal(30000), Decimal("30000.00"), Decimal(500000))


def test_a_tranche_still_to_come_is_shown_pending_with_its_amount(rules):
    [g] = built(rules, (issue(1), [status(1, funded(rules, "10000.01"))])).grants
    assert [(t.k, t.amount, t.released is not None) for t in g.tranches] == [
        (1, Decimal("5000.00"), True), (2, Decimal("5000.01"), False)]
    assert g.released == Decimal("5000.00")


@pytest.mark.parametrize("outcome, labels", [
    ("declined", {"outcome": "status: declined"}),
    ("withdrawn", {"outcome": "status: withdrawn"}),
    ("open", {"stage": "stage: technical"}),
], ids=["declined", "withdrawn", "open"])
def test_declined_withdrawn_and_open_applications_never_appear(rules, outcome, labels):
    record = Record(stage="technical", round="2026")
    if outcome != "open":
        record = record.finished(outcome, by="rita", at=T0 + DAY, reason="no")
    shown = built(rules, (issue(2, **labels), [status(2, record)]))
    assert shown.grants == () and shown.said == () and shown.read == 1


def test_a_record_edited_by_hand_is_left_out_and_said(rules):
    from bot.policy.markers import read_record, record_payload

    record = funded(rules)
    honest = status(3, record)
    found = read_record(honest.body)
    inflated = dataclasses.replace(record, outcome=dataclasses.replace(record.outcome, amount=Decimal(999999)))
    edited = dataclasses.replace(honest, body=honest.body.replace(found.block.payload, record_payload(inflated)))
    assert read_record(edited.body).record.outcome.amount == Decimal(999999)
    shown = built(rules, (issue(3), [edited]), (issue(4), [status(4, funded(rules, "1000"))]))
    assert [g.number for g in shown.grants] == [4]
    assert shown.said == ("#3: left out: its record does not hold its seal (edited by hand, or copied from another "
                          "issue); `fundbot verify` lists it, and the bot rebuilds it at its next run",)


def test_a_record_copied_from_another_issue_is_left_out(rules):
    shown = built(rules, (issue(5), [status(6, funded(rules))]))  # sealed for #6, found on #5
    assert shown.grants == () and shown.said[0].startswith("#5: left out: its record does not hold its seal")


def test_a_funded_label_without_a_record_of_a_grant_is_left_out_and_said(rules):
    shown = built(rules, (issue(7, outcome="status: funded"), []))
    assert shown.grants == () and shown.said == ("#7: left out: labelled funded, but no record of a grant holds it",)


def test_a_grant_without_a_repository_is_shown_without_one_and_said(rules):
    [g] = (shown := built(rules, (issue(8), [status(8, funded(rules, repository=""))]))).grants
    assert g.repository == "" and g.repository_url == ""
    assert shown.said == ("#8: no repository in its record: shown without one",)


HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> Co\u202e\u2066gnp.exe\x00'


def test_html_bidi_and_control_characters_in_a_name_are_made_inert_and_said(rules):
    [g] = (shown := built(rules, (issue(9, HOSTILE), [status(9, funded(rules))]))).grants
    assert g.project == '<script>alert("x")</script> <img src=x onerror=alert(1)> Cognp.exe'  # escaped where written
    assert shown.said == ("#9: bidirectional control characters removed from the project's name",
                          "#9: control characters removed from the project's name",
                          "#9: the project's name holds HTML: shown as text, never run")


def test_a_100_kb_report_is_shortened_and_said(rules):
    long = "/report " + ("We tested the farm on every board. " * 3000)[:100_000]
    record = funded(rules, reports=(accepted("comment:7"),))
    [g] = (shown := built(rules, (issue(10), [status(10, record), comment(7, long)]))).grants
    [report] = g.reports
    assert report.shortened and len(report.sections[0].text) == REPORT_LIMIT and report.sections[0].text.endswith("…")
    assert shown.said == (f"#10: the report of {(T0 + 100 * DAY).date()} is 100,000 characters long: shown "
                          f"shortened to {REPORT_LIMIT:,}, the whole on GitHub",)


def test_a_report_issue_is_shown_by_its_questions_and_a_gone_report_as_a_link(rules):
    from bot.demo.samples import report_body

    body = report_body(11, progress="<b>All four milestones</b> are done, and the ARM test farm runs nightly.")
    report = dataclasses.replace(issue(20), title="[Report]: x", body=body, labels=("fund: report",),
                                 html_url=f"https://github.com/{REPO}/issues/20")
    record = funded(rules, reports=(accepted("issue:20"), accepted("comment:99", 190)))
    [g] = (shown := built(rules, (issue(11), [status(11, record)]), report_issues={20: report})).grants
    first, gone = g.reports
    assert [s.heading for s in first.sections][:2] == ["Progress against milestones", "Use of funds"]
    assert first.url == f"https://github.com/{REPO}/issues/20"
    assert gone.sections == () and gone.url == f"https://github.com/{REPO}/issues/11#issuecomment-99"
    assert shown.said == (f"#11: the report of {(T0 + 100 * DAY).date()} holds HTML: shown as text, never run",
                          f"#11: the report of {(T0 + 190 * DAY).date()} is gone from GitHub (its comment was "
                          "deleted): shown as a link")


def test_one_grant_that_cannot_be_read_is_left_out_and_the_others_are_built(rules, monkeypatch):
    import bot.views.showcase as module

    def broken(record, rules):
        if record.granted == Decimal(666):
            raise ValueError("a surprise")
        return original(record, rules)

    original = module.tranche_schedule
    monkeypatch.setattr(module, "tranche_schedule", broken)
    shown = built(rules, (issue(12), [status(12, funded(rules, "666"))]), (issue(13), [status(13, funded(rules))]))
    assert [g.number for g in shown.grants] == [13]
    assert shown.said == ("#12: left out: it could not be read (ValueError: a surprise)",)


@pytest.mark.parametrize("text, one_line, expected, changes", [
    ("Plain name", True, "Plain name", ()),
    ("a\u202eb\u2069c", True, "abc", ("bidi",)),
    ("a\x00b\x1bc\x85d", True, "abcd", ("controls",)),
    ("  many \n lines \t here ", True, "many lines here", ()),
    ("para one\r\n\r\npara two", False, "para one\n\npara two", ()),
    ("<b>bold</b>", True, "<b>bold</b>", ("markup",)),
    ("AT&amp;T", True, "AT&amp;T", ("markup",)),
    ("a < b and c > d", True, "a < b and c > d", ()),
    ("x" * (NAME_LIMIT + 5), True, "x" * (NAME_LIMIT - 1) + "…", ("shortened",)),
    ("\ud800lone surrogate", True, "lone surrogate", ("controls",)),
], ids=["plain", "bidi", "controls", "whitespace", "paragraphs", "markup", "entity", "comparison", "long",
        "surrogate"])
def test_inert_text(text, one_line, expected, changes):
    shown = inert(text, NAME_LIMIT, one_line=one_line)
    assert (shown.text, shown.changes) == (expected, changes)


def test_a_control_character_anywhere_never_stops_the_atom_feed(rules):
    import xml.etree.ElementTree as ET

    from bot.policy.i18n import translator
    from bot.views.showcase_site import atom_feed, json_feed

    record = dataclasses.replace(funded(rules), round="2026\x0b\x00")  # what no rules file should hold
    shown = built(rules, (issue(14, "Name\x1b"), [status(14, record)]))
    assert [g.round for g in shown.grants] == ["2026\x0b\x00"]
    atom = ET.fromstring(atom_feed(shown, translator("en"), "", T0).encode())
    [entry] = atom.findall("{http://www.w3.org/2005/Atom}entry")
    assert "\x0b" not in ET.tostring(entry, encoding="unicode")
    assert json.loads(json_feed(shown, translator("zh"), "", T0))["items"][0]["title"].startswith("Name")
