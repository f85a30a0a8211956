"""Making user text the bot repeats inert, and keeping everything the bot writes within bounds.

GitHub renders comments as GitHub Flavored Markdown with a sanitised subset of HTML. Repeated user
text must not notify anyone (`@name`), cross-link (`#12`), link or load anything (`[x](…)`,
`![x](…)`, bare `https://…` and `www.…`, which GitHub autolinks), inject HTML, break the table or
list it sits in, or reorder what is shown around it (bidirectional control characters, the
"Trojan Source" trick). A WORD JOINER (U+2060, invisible) after `@`, `#` and inside `://` and
`www.` stops GitHub's autolinking while reading the same.

Every comment and issue body the App writes passes `bounded_output` (in the gateway), so nothing
it writes can exceed GitHub's 65,536 characters or carry a bidirectional control.
"""
from __future__ import annotations

import html
import re

_ZW = "\u2060"  # WORD JOINER: invisible, and it breaks GitHub's @mention / #ref / URL autolinking
_MENTION_RE = re.compile(r"([@#])(?=[\w-])")
_AUTOLINK_RE = re.compile(r"(?i)(?<=[a-z])(://)|\b(www)(\.)")
_MARKDOWN_INLINE_RE = re.compile(r"([\\`*_\[\]|~<>!])")
_BLOCK_SPECIAL_RE = re.compile(r"([\[\]!`])")
# U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates); also the marks U+200E/F and
# U+061C, which only matter next to them.
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
GITHUB_BODY_LIMIT = 65_536  # characters GitHub takes in a comment or an issue body
OUTPUT_LIMIT = 60_000  # what the bot allows itself: well under GitHub's limit


def strip_bidi(text: str) -> str:
    return BIDI_RE.sub("", text)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _neutralise_links(text: str) -> str:
    text = _MENTION_RE.sub(lambda m: m.group(1) + _ZW, text)
    return _AUTOLINK_RE.sub(lambda m: (_ZW + m.group(1)) if m.group(1) else (m.group(2) + _ZW + m.group(3)), text)


def escape_inline(text: str, limit: int = 300) -> str:
    """For a table cell or a line: one line, markdown and HTML characters escaped, nothing live."""
    one_line = shorten(" ".join(strip_bidi(text).split()), limit)
    escaped = _MARKDOWN_INLINE_RE.sub(r"\\\1", html.unescape(one_line))
    escaped = escaped.replace("&", "&amp;")
    return _neutralise_links(escaped)


def escape_block(text: str, limit: int = 2000) -> str:
    """For a quoted paragraph: each line quoted with `>`, HTML escaped, links and images inert."""
    text = shorten(strip_bidi(text).replace("\r\n", "\n"), limit)
    lines = html.escape(text, quote=False).split("\n")
    return "\n".join("> " + _neutralise_links(_BLOCK_SPECIAL_RE.sub(r"\\\1", line)) for line in lines)


def bounded_output(body: str, limit: int = OUTPUT_LIMIT) -> str:
    """What the App may write: no bidirectional controls, and never longer than `limit`.

    The renderers keep well inside the limit on their own; this is the last guard. A body that
    is still too long keeps its head and its hidden blocks (the markers and data at the end)."""
    body = strip_bidi(body)
    if len(body) <= limit:
        return body
    tail_at = body.find("<!-- fund-bot:", len(body) // 2)
    tail = body[tail_at:] if tail_at > 0 and len(body) - tail_at < limit // 2 else ""
    note = "\n\n…\n\n"
    return body[: limit - len(tail) - len(note)] + note + tail
