"""The status comment: the hidden record survives a round trip, and user text cannot mention,
inject HTML or break the table."""
import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy.record import STATUS_MARKER, CheckResult, NeedsInfo, Outcome, Record, Score, Waiver, decode, encode
from bot.policy.status import render_status
from bot.policy.text import escape_inline

import datetime as dt

TODAY = dt.date(2026, 11, 25)
RECORD = Record(
    body_sha="abc", checks=(CheckResult("licence", True, "MIT"), CheckResult("community", False, "2 contributors",
                                                                             "Needs at least 3 people.")),
    stage="technical", scores=(Score("rita", "impact", 4, "technical", "2026-11-02T10:00:00Z"),),
    waivers=(Waiver("community", "rita", "growing", "2026-11-02T10:00:00Z"),), last_comment_id=42,
)


def test_record_round_trip(rules):
    body = render_status(RECORD, rules, TODAY)
    assert body.startswith(STATUS_MARKER)
    assert decode(body) == RECORD


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_user_text_survives_the_hidden_block(text):
    record = Record(needs_info=NeedsInfo(by="rita", at="2026-11-02T10:00:00Z", text=text),
                    outcome=Outcome("declined", "rita", "2026-11-03T00:00:00Z", reason=text))
    block = encode(record)
    assert block.count("-->") == 1 and block.endswith("-->")  # user text cannot close the HTML comment
    assert decode(block) == record


def test_user_text_cannot_mention_or_inject(rules):
    nasty = "@everyone see #12 | <img src=x onerror=alert(1)> --> **bold** [x](javascript:alert(1))"
    record = dataclasses.replace(
        RECORD, needs_info=NeedsInfo(by="rita", at="2026-11-02T10:00:00Z", text=nasty),
        waivers=(Waiver("community", "rita", nasty, "2026-11-02T10:00:00Z"),))
    body = render_status(record, rules, TODAY)
    visible = body.split("<!-- fund-bot:data")[0]
    assert "@everyone" not in visible and "#12" not in visible
    assert "<img" not in visible and "&lt;img" in visible or "\\<img" in visible
    assert decode(body) == record
    # The waiver's reason sits on one line in a list, with the table pipes escaped.
    line = next(l for l in visible.splitlines() if "waived by" in l)
    assert "\\|" in line


def test_escape_inline_keeps_tables_whole():
    assert "\n" not in escape_inline("a\nb | c")
    assert escape_inline("a | b").count("\\|") == 1


def test_rendering_is_stable(rules):
    # No clock in the body: an unchanged record renders the same, so the comment is not edited.
    assert render_status(RECORD, rules, TODAY) == render_status(RECORD, rules, TODAY + dt.timedelta(days=3))
