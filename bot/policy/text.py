"""Escaping user text the bot repeats, so it cannot mention people, inject HTML or break markdown.

GitHub renders comments as GitHub Flavored Markdown with a sanitised subset of HTML; a repeated
`@name` would notify that person and a repeated `#12` would cross-link another issue, so both get
a zero-width joiner after the sign (rendered invisibly, no longer a mention or a reference).
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

_ZW = "\u2060"  # WORD JOINER: invisible, and it breaks GitHub's @mention / #ref autolinking
_MENTION_RE = re.compile(r"([@#])(?=[\w-])")
_MARKDOWN_INLINE_RE = re.compile(r"([\\`*_\[\]|~<>])")


def _neutralise_links(text: str) -> str:
    return _MENTION_RE.sub(lambda m: m.group(1) + _ZW, text)


def escape_inline(text: str, limit: int = 300) -> str:
    """For a table cell or a line: one line, markdown and HTML characters escaped, no mentions."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    escaped = _MARKDOWN_INLINE_RE.sub(r"\\\1", html.unescape(one_line))
    escaped = escaped.replace("&", "&amp;")
    return _neutralise_links(escaped)


def escape_block(text: str, limit: int = 2000) -> str:
    """For a quoted paragraph: each line quoted with `>`, HTML escaped, no mentions."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    lines = html.escape(text, quote=False).replace("\r\n", "\n").split("\n")
    return "\n".join("> " + _neutralise_links(line) for line in lines)


def hidden_json(tag: str, data: dict[str, Any]) -> str:
    """`data` as JSON inside an HTML comment `<!-- fund-bot:<tag> ... -->`, invisible on GitHub.

    `--` could end the comment early, and `@login` or `#12` must not look like a mention or a
    cross-reference even hidden; all can only occur inside JSON strings, where the escapes mean
    the same characters."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("--", "-\\u002d").replace("@", "\\u0040").replace("#", "\\u0023")
    return f"<!-- fund-bot:{tag} {text} -->"


def read_hidden_json(tag: str, body: str | None, version: int) -> dict[str, Any] | None:
    """The object `hidden_json(tag, ...)` wrote into `body`, if its `v` is `version`; else None."""
    match = re.search(rf"<!-- fund-bot:{re.escape(tag)} (.*?) -->", body or "", re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("v") == version else None
