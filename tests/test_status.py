"""The status comment and its hidden record: the record survives a round trip (and the versions),
user text cannot mention, link, load, inject HTML or reorder text, and the body stays bounded."""
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy.markers import STATUS_MARKER, read_record, record_block
from bot.policy.record import (
    AuditEntry, CheckResult, NeedsInfo, Note, Outcome, Record, ReportEntry, Score, StageEntry, Waiver, parse_iso,
)
from bot.policy.status import StatusContext, render_status
from bot.policy.text import BIDI_RE, OUTPUT_LIMIT, escape_block, escape_inline

TODAY = dt.date(2026, 11, 25)
T = parse_iso("2026-11-02T10:00:00Z")
RECORDS = Path(__file__).parent / "fixtures" / "records"
RECORD = Record(
    body_sha="abc",
    checks=(CheckResult("licence", True, Note("licence.detected", {"licence": "MIT"})),
            CheckResult("community", False, Note("community.figure", {"people": 2, "more": False, "bots": 0}),
                        Note("community.too_few.fix", {"min": 3}))),
    stage="technical", scores=(Score("rita", "impact", 4, "technical", T),),
    waivers=(Waiver("community", "rita", "growing", T),), last_comment_id=42,
)


def render(record: Record, rules) -> str:
    return render_status(record, rules, StatusContext(TODAY))


def visible(body: str) -> str:
    return body.split("<!-- fund-bot:record")[0]


def test_record_round_trip(rules):
    body = render(RECORD, rules)
    assert body.startswith(STATUS_MARKER)
    assert read_record(body).record == RECORD
    assert "2 contributors" in body and "Needs at least 3 people" not in body  # waived: no fix asked for


NASTY = st.text(max_size=200) | st.sampled_from(["@everyone", "#12", "--> x", "@\u202eevil", "![x](http://t.co/p.png)"])


@settings(max_examples=200, deadline=None)
@given(NASTY, st.decimals(min_value=1, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_any_user_text_survives_the_hidden_block(text, amount):
    record = Record(needs_info=NeedsInfo(by="rita", at=T, text=text),
                    outcome=Outcome("funded", "rita", T, amount=amount, reason=text),
                    audit=(AuditEntry(T, "rita", "outcome", text),))
    block = record_block(record)
    assert block.count("-->") == 1 and block.endswith("-->")  # user text cannot close the HTML comment
    for live in ("@", "#", "<", ">", "\u202e"):  # inert: nothing in it can mention, link or tag
        assert live not in block[len("<!-- fund-bot:record "):-len(" -->")]
    assert read_record(block).record == record


def test_the_hidden_record_is_compact(rules):
    # Wave 1 escaped every @ and # as six characters; a long review now costs a fraction of that.
    history = tuple(StageEntry("technical" if i % 2 else "community", T, f"@reviewer-{i % 3}", "/stage")
                    for i in range(200))
    record = dataclasses.replace(RECORD, history=history, audit=tuple(
        AuditEntry(T, f"reviewer-{i % 3}", "stage", "community -> technical (/stage)") for i in range(200)))
    assert len(record_block(record)) < 4_000
    body = render(record, rules)
    assert read_record(body).record == record
    assert "earlier moves" in visible(body)  # the newest moves are shown, the rest counted


def test_a_record_of_wave_one_is_read_without_replaying_history(rules):
    body = (RECORDS / "v1-funded.md").read_text()
    record = read_record(body).record
    assert record is not None and record.funded and record.outcome.amount == Decimal("40000")
    assert record.outcome.at == parse_iso("2026-12-08T12:00:00Z")
    assert [e.stage for e in record.history] == ["screening", "technical", "community", "funding", "decision"]
    assert len(record.reports) == 2 and record.last_comment_id == 1075
    assert "report-overdue:2027-06-06" in record.notices
    assert {a.what for a in record.audit} >= {"stage", "score", "outcome", "report"}  # its audit trail starts
    again = render(record, rules)  # and it renders, with the findings as they were worded
    assert "12 commits in 90 days" in again and read_record(again).record == record
    declined = read_record((RECORDS / "v1-declined.md").read_text()).record
    assert declined.outcome.name == "declined" and declined.outcome.reason == "Out of scope --> for this round"
    assert declined.waivers[0].reason == "the project is two people and growing"


def test_user_text_cannot_mention_link_load_or_inject(rules):
    nasty = ("@everyone see #12 | <img src=x onerror=alert(1)> --> **bold** [x](javascript:alert(1)) "
             "![pixel](https://tracker.example/p.png) https://evil.example www.evil.example \u202egnp.exe\u202c")
    record = dataclasses.replace(
        RECORD, needs_info=NeedsInfo(by="rita", at=T, text=nasty), waivers=(Waiver("community", "rita", nasty, T),))
    body = render(record, rules)
    shown = visible(body)
    assert "@everyone" not in shown and "#12" not in shown
    assert "<img" not in shown.replace("\\<img", "")  # escaped as text (\< renders as a plain "<")
    assert "](" not in shown.replace("\\](", "")  # no live markdown link or image
    assert "https://evil" not in shown and "www.evil" not in shown  # no autolink either
    assert not BIDI_RE.search(body)
    assert read_record(body).record == record
    line = next(l for l in shown.splitlines() if "waived by" in l)
    assert "\\|" in line  # the waiver's reason sits on one line, table pipes escaped


@pytest.mark.parametrize("escape", [escape_inline, escape_block], ids=["inline", "block"])
def test_escaping_neutralises_links_images_and_bidi(escape):
    out = escape("[click](https://x.example) ![i](http://y.example/i.png) a\u2066b\u2069 @bob www.z.example")
    assert not BIDI_RE.search(out)
    assert "](" not in out.replace("\\](", "") and "![" not in out.replace("\\!\\[", "")
    assert "https://" not in out and "@bob" not in out and "www.z" not in out


def test_escape_inline_keeps_tables_whole():
    assert "\n" not in escape_inline("a\nb | c")
    assert escape_inline("a | b").count("\\|") == 1


def test_rendering_is_stable(rules):
    # No clock in the body: an unchanged record renders the same, so the comment is not edited.
    assert render_status(RECORD, rules, StatusContext(TODAY)) == \
        render_status(RECORD, rules, StatusContext(TODAY + dt.timedelta(days=3)))


def test_a_huge_life_stays_within_githubs_limit(rules):
    long = "x" * 20_000
    many = tuple(Score(f"reviewer-{i}", c, 3, "technical", T) for i in range(300) for c in rules.stages.criteria)
    record = dataclasses.replace(
        RECORD, needs_info=NeedsInfo("rita", T, long), scores=many,
        reports=tuple(ReportEntry(T, "alice", f"comment:{i}") for i in range(500)),
        history=tuple(StageEntry("technical", T, f"r{i}", "/stage " + long[:50]) for i in range(2_000)),
        audit=tuple(AuditEntry(T, f"r{i}", "score", f"{i} " + "y" * 200) for i in range(5_000)))
    body = render(record, rules)
    assert len(body) < OUTPUT_LIMIT
    kept = read_record(body).record
    assert kept.scores == record.scores and kept.history == record.history  # the state is whole
    assert kept.audit[0].what == "trimmed" and kept.audit[-1] == record.audit[-1]  # the oldest audit is trimmed
