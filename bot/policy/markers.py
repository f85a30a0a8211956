"""Every hidden format the App writes on GitHub, and how it recognises its own writing. Pure.

The App finds its comments and issues again by hidden HTML comments (`<!-- fund-bot:… -->`),
and trusts them only when the App itself wrote them: the author's login must be the App's own
(`<slug>[bot]`, learned once from `GET /app`), never merely a bot's (SPEC §11). A copy of a
genuine record in someone else's comment is text, nothing more.

Hidden data is JSON, compressed and base64url-encoded (`z:` + text): compact (a record with a
long history stays small), and inert — no `@`, `#`, `--` or `>` can appear in it, so it can neither
mention anyone nor end the HTML comment early. Wave 1 wrote plain JSON with escapes; it is still read.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.policy.models import Comment, Issue, User
from bot.policy.record import Record, RecordError
from bot.policy.record_json import from_json, to_json

PREFIX = "fund-bot"
STATUS_MARKER = f"<!-- {PREFIX}:status -->"
SWEEP_LOG_MARKER = f"<!-- {PREFIX}:sweep-log -->"
CONFIG_ISSUE_MARKER = f"<!-- {PREFIX}:config-problems -->"
FUND_STATE_MARKER = f"<!-- {PREFIX}:fund-state -->"
DIGEST_MARKER = f"<!-- {PREFIX}:digest -->"  # the weekly digest of what waits on whom
RECORD_TAG = "record"  # the application's record, in its status comment
LEGACY_RECORD_TAG = "data"  # wave 1's name for it
SWEEP_TAG = "sweep-data"
DIGEST_TAG = "digest-data"
FUND_TAG = "fund-data"
CONFIG_TAG = "config-data"

_NOTICE_RE = re.compile(rf"<!-- {PREFIX}:notice (\S+) -->")
# A label's description ends with its key (`bot.policy.rules.StageRules.keyed_labels`): the labels the
# App made are found again by it after the rules renamed them. GitHub keeps 100 characters of it.
_LABEL_KEY_RE = re.compile(rf" ?\[{PREFIX}:([a-z]+:[^\]\s]+)\]$")
LABEL_DESCRIPTION_MAX = 100


def label_description(description: str, key: str) -> str:
    """The description the App gives a label: the rules' text (shortened with "…" if it must be), then
    its key, e.g. `Technical review [fund-bot:stage:technical]`."""
    tag = f"[{PREFIX}:{key}]"
    room = LABEL_DESCRIPTION_MAX - len(tag) - 1
    text = description if len(description) <= room else description[:room - 1].rstrip() + "…"
    return f"{text} {tag}" if text else tag


def label_key(description: str) -> str | None:
    """The key a label's description carries when the App made it (or adopted it), else None."""
    match = _LABEL_KEY_RE.search(description or "")
    return match.group(1) if match else None
_BLOCK_RE = r"<!-- {prefix}:{tag} (?P<payload>.*?)(?: sig:(?P<sig>[0-9a-f]{{16,128}}))? -->"


def is_own(user: User, app_login: str) -> bool:
    """Whether `user` is the App itself (compared ignoring case, as GitHub does)."""
    return user.login.lower() == app_login.lower()


class NoticeKey:
    """The keys of the one-off comments (replies, reminders, notices), each made in one place. A key
    names what the comment is about, never its words: rewording a message never posts it again. The
    keys are stored (in markers and in records), so each keeps the form it has always had."""

    @staticmethod
    def reply(comment_id: int) -> str:
        """The reply to a person's comment (its refusals and answers, in one comment)."""
        return f"reply:{comment_id}"

    @staticmethod
    def is_reply(key: str) -> bool:
        return key.startswith("reply:")

    @staticmethod
    def label_refused(delivery: str) -> str:
        """A stage label put on by hand and taken off again, for one delivery (or moment)."""
        return f"label-refused:{delivery}"

    @staticmethod
    def report_refused(report: int, why: str) -> str:
        """A progress-report issue refused, for one reason (`why`: its own key, e.g. `missing-12`)."""
        return f"report-refused:{report}:{why}"

    @staticmethod
    def report_incomplete(report: int, problems: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
        """An incomplete progress-report issue: keyed by its problems (message ids and parameters), so
        the same problems are said once and new ones again."""
        text = json.dumps([[code, dict(params)] for code, params in problems], sort_keys=True, ensure_ascii=False)
        return NoticeKey.report_refused(report, "incomplete:" + hashlib.sha256(text.encode()).hexdigest()[:8])

    @staticmethod
    def report_incomplete_before_v4(report: int, english: Iterable[str]) -> str:
        """The key an older version gave the same reply, from the problems' English words: looked for too,
        so a report issue answered before the upgrade is not answered again."""
        digest = hashlib.sha256("\n".join(f"- {line}" for line in english).encode()).hexdigest()[:8]
        return NoticeKey.report_refused(report, f"incomplete-{digest}")

    @staticmethod
    def report_ack(report: int) -> str:
        return f"report-ack:{report}"

    @staticmethod
    def report_overdue(due: str) -> str:
        return f"report-overdue:{due}"

    @staticmethod
    def report_reminder(due: str) -> str:
        return f"report-reminder:{due}"

    @staticmethod
    def stalled(stage: str, since: str) -> str:
        return f"stalled:{stage}:{since}"

    @staticmethod
    def escalated(stage: str, since: str) -> str:
        """A stalled stage's second reminder, to its leads."""
        return f"escalated:{stage}:{since}"

    @staticmethod
    def round_wait(upcoming: str | None) -> str:
        return f"round-wait:{upcoming or '-'}"

    @staticmethod
    def not_a_fund() -> str:
        """The one answer to an application filed where the App is installed but no fund is served."""
        return "not-a-fund"

    def evidence(kind: str, ref: str) -> str:
        """The evidence read again for a progress report (`kind` "report") or `/evidence` ("command")."""
        return f"evidence:{kind}:{ref}"

    @staticmethod
    def assignment(stage: str, since: str) -> str:
        """Reviewers assigned by load on entering `stage` (at `since`): once per entry."""
        return f"assign:{stage}:{since}"


def notice(key: str) -> str:
    """The marker of a one-off comment (a reply, a reminder): posted once, found again by it."""
    return f"<!-- {PREFIX}:notice {key} -->"


def notices_posted(comments: Iterable[Comment], app_login: str) -> frozenset[str]:
    """Keys of the one-off comments the App has already posted among `comments`."""
    return frozenset(key for c in comments if is_own(c.user, app_login) for key in _NOTICE_RE.findall(c.body))


def own_with_notice(comments: Iterable[Comment], app_login: str, key: str) -> Comment | None:
    """The App's comment carrying the notice `key` (a write whose answer was lost is adopted by it)."""
    marker = notice(key)
    return next((c for c in comments if is_own(c.user, app_login) and marker in c.body), None)


# --- hidden data blocks ------------------------------------------------------------------------


def payload_of(data: dict[str, Any]) -> str:
    """The text a hidden block holds `data` as (compressed JSON): what a seal covers."""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    return "z:" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def hidden(tag: str, data: dict[str, Any], signature: str | None = None, *,
           seal: Callable[[str], str] | None = None) -> str:
    """`data` inside an HTML comment, invisible on GitHub, inert, with an optional signature — given,
    or made by `seal(payload)`."""
    payload = payload_of(data)
    if seal is not None:
        signature = seal(payload)
    return f"<!-- {PREFIX}:{tag} {payload}" + (f" sig:{signature}" if signature else "") + " -->"


@dataclass(frozen=True)
class Block:
    """A hidden block as found: its data, the exact payload text (what a signature covers), the signature."""

    data: dict[str, Any]
    payload: str
    signature: str | None


def read_hidden(tag: str, body: str | None) -> Block | None:
    """The block `hidden(tag, …)` wrote into `body` (or wave 1's plain-JSON form); None if absent or damaged."""
    match = re.search(_BLOCK_RE.format(prefix=PREFIX, tag=re.escape(tag)), body or "", re.DOTALL)
    if not match:
        return None
    payload = match.group("payload").strip()
    try:
        if payload.startswith("z:"):
            text = payload[2:]
            raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            data = json.loads(raw)
        else:
            data = json.loads(payload)
    except (ValueError, zlib.error):
        return None
    return Block(data, payload, match.group("sig")) if isinstance(data, dict) else None


# --- the status comment and its record --------------------------------------------------------


def record_block(record: Record, signature: str | None = None, *, seal: Callable[[str], str] | None = None) -> str:
    return hidden(RECORD_TAG, to_json(record), signature, seal=seal)


def record_payload(record: Record) -> str:
    """The exact text a record's signature is computed over (the block's payload)."""
    return payload_of(to_json(record))


@dataclass(frozen=True)
class FoundRecord:
    """A status comment's record as read: the record (None when unreadable) and how it was found."""

    record: Record | None
    block: Block | None  # None: no record block at all
    problem: str = ""  # "", "unreadable"


def read_record(body: str | None) -> FoundRecord:
    block = read_hidden(RECORD_TAG, body) or read_hidden(LEGACY_RECORD_TAG, body)
    if block is None:
        return FoundRecord(None, None, "unreadable" if body and STATUS_MARKER in body else "")
    try:
        return FoundRecord(from_json(block.data), block)
    except RecordError:
        return FoundRecord(None, block, "unreadable")


def status_comments(comments: Iterable[Comment], app_login: str) -> list[Comment]:
    """The App's status comments, oldest first (more than one only if an older version duplicated it)."""
    mine = [c for c in comments if is_own(c.user, app_login) and c.body.startswith(STATUS_MARKER)]
    return sorted(mine, key=lambda c: (c.created_at, c.id))


def find_status(comments: Iterable[Comment], app_login: str) -> tuple[Comment | None, FoundRecord]:
    """The App's status comment (the oldest, if duplicated) and its record."""
    found = status_comments(comments, app_login)
    if not found:
        return None, FoundRecord(None, None)
    return found[0], read_record(found[0].body)


def own_issues(issues: Iterable[Issue], app_login: str, marker: str) -> list[Issue]:
    """Issues the App opened that carry `marker`, oldest first (the sweep log, the fund's state ...)."""
    return sorted((i for i in issues if is_own(i.user, app_login) and marker in i.body), key=lambda i: i.number)
