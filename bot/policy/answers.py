"""Answers with meaning: the validators of the fields the bot reads (a repository address, an amount,
GitHub usernames, an issue number), keyed by field id.

Each returns the typed value or raises `AnswerError`, whose code and parameters `bot.policy.wording`
puts in words. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Callable, Mapping

from bot.policy.evidence_pack import PackageRef
from bot.policy.i18n import SOURCE, translator
from bot.policy.wording import answer_error


class AnswerError(ValueError):
    """An answer that does not have the shape its field needs: ``code`` says what is wrong,
    ``params`` the details (the answer quoted, short), and ``str()`` the reason in plain words,
    without the field's label (the caller adds it)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(answer_error(code, params, translator(SOURCE)))


@dataclass(frozen=True)
class RepoRef:
    """A GitHub repository named by its owner and name, in the case the applicant wrote them."""

    owner: str
    name: str

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        """The repository's address on github.com."""
        return f"https://github.com/{self.full_name}"


def quoted(text: str, limit: int = 80) -> str:
    """The applicant's text on one line in curly quotes, cut short if long, for a problem message."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f"“{flat}”"


def _short(text: str, limit: int = 300) -> str:
    """``text`` stripped; an answer longer than any real address, amount or issue number is cut
    short. What is left cannot then match, and a very long answer never gets to the regexes."""
    value = text.strip()
    return value if len(value) <= limit else value[:limit] + " …"


# A GitHub login: 1-39 letters, digits or single hyphens, with no hyphen at either end.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_GITHUB_URL = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com(?P<path>/[^?#\s]*)?(?:[?#]\S*)?", re.IGNORECASE
)
# The first part of a github.com path that is a site page, not an owner (github.com/orgs/acme ...).
_NOT_OWNERS = frozenset(
    "about apps collections enterprises explore features login marketplace new notifications "
    "orgs organizations pricing search settings sponsors topics trending users".split()
)


def parse_repository(text: str) -> RepoRef:
    """Read a repository address such as ``https://github.com/OWNER/REPO``.

    Accepted: surrounding whitespace or ``<…>``, ``http://``, no scheme (``github.com/o/r``),
    ``www.github.com``, a trailing ``/``, a ``.git`` suffix, and a ``?query`` or ``#fragment``,
    which is dropped (GitHub's own links add ``#readme``). Rejected: other hosts, ``github.com``
    pages that are not repositories, bare ``OWNER/REPO``, and addresses that go deeper than the
    repository, such as ``/tree/main``, ``/issues/1`` or ``/pull/2``. The message for those shows
    the repository's own address, so the fix is obvious. Raises `AnswerError`.
    """
    value = _short(text)
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    not_a_repo = AnswerError("not_a_repository", answer=quoted(value))
    match = _GITHUB_URL.fullmatch(value)
    if not match:
        raise not_a_repo
    parts = [p for p in (match["path"] or "").split("/")]
    while parts and parts[-1] == "":  # trailing slashes
        parts.pop()
    parts = parts[1:]  # the path starts with "/"
    if len(parts) < 2 or "" in parts[:2]:
        raise not_a_repo
    owner, name = parts[0], parts[1]
    if name.lower().endswith(".git"):
        name = name[:-4]
    if (
        not _LOGIN.fullmatch(owner)
        or owner.lower() in _NOT_OWNERS
        or not _REPO_NAME.fullmatch(name)
        or name in {".", ".."}
    ):
        raise not_a_repo
    repo = RepoRef(owner, name)
    if len(parts) > 2:
        raise AnswerError("inside_repository", answer=quoted(value), url=repo.url)
    return repo


_CURRENCY_BEFORE = re.compile(r"^(?:US\$|USD|\$)\s*", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*(?:USD|US\$|\$|US dollars?|dollars?|美元)$", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?P<sign>-?)\s*(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<cents>[0-9]{1,2}))?"
)


def parse_amount(text: str) -> Decimal:
    """Read an amount in US dollars and return it as a `Decimal`.

    Accepted: ``50000``, ``50,000``, ``$50,000``, ``US$50,000``, ``50000 USD``, ``USD 50,000.50``,
    ``50000 dollars``, ``50000美元``, ``50 000`` (a space, or a no-break space, between groups),
    and full-width digits (NFKC-normalised). Commas or spaces must group digits in threes, and
    there may be at most two decimals (cents). Rejected: zero and negative
    amounts; words (``fifty thousand``); shorthand (``50k``, ``1.5m``), because the request should
    state its exact figure; other currencies; and ambiguous groupings such as ``50.000`` or
    ``5,0000``. Raises `AnswerError`.
    """
    value = _short(unicodedata.normalize("NFKC", text))
    rest = _CURRENCY_AFTER.sub("", _CURRENCY_BEFORE.sub("", value, count=1), count=1).strip()
    # "$-5" and "-$5" are both negative amounts, not words.
    if rest.startswith("-"):
        rest = "-" + _CURRENCY_BEFORE.sub("", rest[1:].strip(), count=1)
    match = _NUMBER.fullmatch(rest)
    if not match:
        raise AnswerError("not_an_amount", answer=quoted(value))
    # Built from the digits as written, so 50000 stays 50000 and 50000.50 keeps its cents
    # (Decimal construction is exact at any length; arithmetic would round at 28 digits).
    whole = match["whole"].replace(",", "").replace(" ", "")
    digits = whole + (f".{match['cents']}" if match["cents"] else "")
    amount = Decimal(digits)
    if match["sign"] or amount <= 0:
        raise AnswerError("not_positive", answer=quoted(value))
    return amount


_HANDLE_SEPARATORS = re.compile(r"[\s,;、]+")
_PROFILE_URL = re.compile(r"(?:https?://)?(?:www\.)?github\.com/([^/?#\s]+)/?", re.IGNORECASE)
# Words that are not names: list markers ("- @alice", "* bob", "1. carol", "2) dave") and a
# bare "and" or "&" between names ("@alice and @bob"; a user called "and" is written "@and").
_NOT_A_NAME = re.compile(r"[-*+•&]|[0-9]{1,3}[.)]|and", re.IGNORECASE)


def parse_handles(text: str) -> tuple[str, ...]:
    """Read GitHub usernames, keeping the case written and dropping repeats (compared ignoring case).

    Accepted: ``@alice, @bob``, one per line, separated by spaces, commas, semicolons or a bare
    ``and``, with or without ``@``, in a markdown list, or as profile links
    (``https://github.com/alice``). A name
    must be a valid GitHub login: 1–39 letters, digits or single hyphens, with no hyphen at either
    end. Raises `AnswerError` naming every name that is not valid.
    """
    logins: list[str] = []
    bad: list[str] = []
    for token in _HANDLE_SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        if not token or _NOT_A_NAME.fullmatch(token):
            continue
        profile = _PROFILE_URL.fullmatch(token)
        login = profile[1] if profile else token.removeprefix("@")
        if not _LOGIN.fullmatch(login):
            bad.append(token)
        elif login.lower() not in {known.lower() for known in logins}:
            logins.append(login)
    if bad:
        raise AnswerError("not_usernames", answer=", ".join(quoted(token, 40) for token in bad), count=len(bad))
    return tuple(logins)


_ISSUE_NUMBER = re.compile(r"#?\s*([0-9]{1,9})")
_ISSUE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com/[^/\s]+/[^/\s]+/issues/([0-9]{1,9})(?:[/?#]\S*)?",
    re.IGNORECASE,
)


def parse_issue_number(text: str) -> int:
    """Read a reference to an application issue: ``#123``, ``123`` or an issue address
    ``https://github.com/OWNER/REPO/issues/123``. Only the number is kept: the caller, who knows
    which repository holds the applications, checks the issue itself. Pull-request addresses and
    ``OWNER/REPO#123`` are rejected. Raises `AnswerError`."""
    value = _short(text).strip("<>").strip()
    match = _ISSUE_NUMBER.fullmatch(value) or _ISSUE_URL.fullmatch(value)
    if not match or int(match[1]) == 0:
        raise AnswerError("not_an_issue", answer=quoted(value))
    return int(match[1])


MAX_PACKAGES = 10
_PACKAGE_URL = re.compile(r"(?:https?://)?(?:www\.)?(?:(pypi)\.org/project/([^/?#\s]+)(?:/([^/?#\s]+))?"
                          r"|(npm)js\.com/package/((?:@[^/?#\s]+/)?[^/?#\s]+)(?:/v/([^/?#\s]+))?)/?",
                          re.IGNORECASE)


def parse_packages(text: str) -> tuple[PackageRef, ...]:
    """Read the project's packages: ``pypi:NAME`` or ``npm:NAME`` (``@scope/NAME`` too), each with an optional
    ``@VERSION`` (``==VERSION`` for PyPI), or the package's page (``https://pypi.org/project/NAME/``,
    ``https://www.npmjs.com/package/NAME``); one per line or separated by commas. At most MAX_PACKAGES.
    Raises `AnswerError` naming every entry that is not one."""
    found: list[PackageRef] = []
    bad: list[str] = []
    for token in re.split(r"[\s,;、]+", unicodedata.normalize("NFKC", text)):
        token = token.strip().strip("`<>").removeprefix("- ")
        if not token or token in ("-", "*"):
            continue
        ref = _package(token)
        if ref is None:
            bad.append(token)
        elif ref not in found:
            found.append(ref)
    if bad or len(found) > MAX_PACKAGES:
        raise AnswerError("not_packages", answer=", ".join(quoted(t, 40) for t in bad[:5]) or quoted(text, 40),
                          count=len(bad) or len(found), max=MAX_PACKAGES)
    return tuple(found)


def _package(token: str) -> PackageRef | None:
    url = _PACKAGE_URL.fullmatch(token)
    if url:
        system, name, version = ("pypi", url[2], url[3]) if url[1] else ("npm", url[5], url[6])
    else:
        system, _, rest = token.partition(":")
        system = system.lower()
        if system not in ("pypi", "npm") or not rest:
            return None
        if system == "pypi":
            name, _, version = rest.replace("==", "@", 1).partition("@")
        else:
            at = rest.find("@", 1)  # a scope's own "@" comes first
            name, version = (rest[:at], rest[at + 1:]) if at > 0 else (rest, "")
    ref = PackageRef(system, name or "", version or "")
    return ref if ref.valid else None


#: Checks for the answers that carry meaning, keyed by field id. A check runs only when the
#: template has that field and the answer is not empty. Each returns the typed value or raises
#: `AnswerError`.
VALIDATORS: Mapping[str, Callable[[str], object]] = MappingProxyType(
    {
        "repository": parse_repository,
        "funding_amount": parse_amount,
        "maintainers": parse_handles,
        "application": parse_issue_number,
        "packages": parse_packages,
    }
)

