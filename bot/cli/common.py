"""What the CLI's commands share: settings and rules read or the command ends (exit 2) naming the
problem, the context of a process that handles applications, the funds a fund-wide command acts on,
and GitHub's failures in words an operator can act on."""
from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse
from typing import TYPE_CHECKING, TypeVar

from bot.config.settings import Need, Settings, SettingsError

if TYPE_CHECKING:  # the commands import what they use when they run: `fundbot --help` stays quick
    from bot.config.funds import FundRef

log = logging.getLogger("fundbot.cli")
T = TypeVar("T")


def settings_for(environ: Mapping[str, str], need: Need) -> Settings:
    try:
        return Settings.from_env(environ, need)
    except SettingsError as err:
        raise SystemExit(fail(str(err))) from None


def fail(message: str, code: int = 2) -> int:
    print(f"fundbot: {message}", file=sys.stderr)
    return code


def rules_for(settings: Settings, rules_dir: str | None = None):
    from bot.config.rules import load_rules
    from bot.policy.rules import RulesError

    try:
        return load_rules(Path(rules_dir) if rules_dir else settings.rules_dir, settings.templates_dir)
    except RulesError as err:
        raise SystemExit(fail("the rules are invalid:\n" + "\n".join(f"  {e}" for e in err.errors))) from None


def as_typed(text: str, limit: int = 200) -> str:
    """What the user typed, quoted (control characters escaped); a long one shortened, with its length."""
    return repr(text) if len(text) <= limit else f"{text[:limit // 2]!r}… ({len(text):,} characters)"


def github_trouble(err: Exception, api_url: str, who: str) -> str:
    """Which of GitHub's refusals or failures `err` is, in words an operator can act on."""
    from bot.github.app import AppRefused, InstallationGone, NotInstalled
    from bot.github.transport import GitHubUnavailable

    if isinstance(err, (AppRefused, InstallationGone, NotInstalled)):
        return str(err)  # it says which setting to check
    status = getattr(err, "status", 0)
    detail = f"{status} {str(getattr(err, 'message', ''))[:200]}".strip()
    if status == 0:
        return f"GitHub is unreachable: no answer from {api_url} (connection failed or timed out)"
    if isinstance(err, GitHubUnavailable) and status in (403, 429):
        return f"GitHub's rate limit is used up for {who} ({detail}): try again later, or with a token"
    if status >= 500 or isinstance(err, GitHubUnavailable):
        return f"GitHub is down: it answered {detail} (retried); try again later"
    if status == 401:
        return f"GitHub refused the credentials of {who} ({detail}): they are wrong, expired or revoked"
    if status == 403:
        return f"GitHub refused for lack of permission ({detail}): {who} may not read this"
    return f"GitHub answered {detail}"


def redis_where(url: str) -> str:
    """Where a Redis URL points, without its user name or password."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return f"unix://{parsed.path}"
    return f"{parsed.scheme}://{parsed.hostname or 'localhost'}:{parsed.port or 6379}{parsed.path or ''}"


def redis_trouble(err: Exception, url: str) -> str:
    """A Redis failure in one line that names the setting to check (and never the URL's password)."""
    return (f"Redis cannot be used at {redis_where(url)} ({type(err).__name__}: {str(err)[:200]}): check "
            "FUNDBOT_REDIS_URL, and that Redis is running and lets this machine in")


def redis_for(settings: Settings):
    """A client of FUNDBOT_REDIS_URL, checked with a PING: Redis unreachable, the command ends (exit 2)
    in one line, before anything is read or written."""
    from redis.exceptions import RedisError

    from bot.jobs.context import connect

    assert settings.redis_url
    client = connect(settings.redis_url)
    try:
        client.ping()
    except RedisError as err:
        client.close()
        raise SystemExit(fail(redis_trouble(err, settings.redis_url))) from None
    return client


def context_for(settings: Settings, rules, now: dt.datetime | None = None):
    """The context of a process that handles applications: locks shared through Redis when it is set
    (and Redis checked first)."""
    from bot.jobs.context import build_context

    redis = redis_for(settings) if settings.redis_url else None
    return build_context(settings, rules, clock=(lambda: now) if now else None, redis=redis)


def fund_settings(environ: Mapping[str, str], verb: str) -> Settings:
    """The settings of a command that acts on funds: FUNDBOT_REPO, or the App's to find every fund."""
    settings = settings_for(environ, Need.APP_OR_TOKEN)
    if settings.repo is None and not settings.has_app:
        raise SystemExit(fail(f"FUNDBOT_REPO is missing: set it, or the App's settings to {verb} every fund of "
                              "every installation"))
    return settings


def listed_funds(ctx, settings: Settings, failures: list[str]):
    """`funds_to_sweep` for a command: when the App's installations cannot be listed, it ends (exit 1)."""
    from bot.github.transport import GitHubError
    from bot.jobs.clock import funds_to_sweep

    try:
        return funds_to_sweep(ctx, settings, failures)
    except GitHubError as err:
        raise SystemExit(fail(f"could not list the App's installations: {err}", 1)) from None


def each_fund(funds: Sequence[FundRef], run: Callable[[FundRef], T],
              failures: list[str]) -> Iterator[tuple[FundRef, T]]:
    """Each fund with what `run` made of it; a fund that fails is said in `failures`, and the others go on."""
    from bot.github.transport import GitHubError

    for fund in funds:
        try:
            result = run(fund)
        except GitHubError as err:
            failures.append(f"{fund.repo}: could not reach it: {err}")
            continue
        except Exception as err:  # a surprise in one fund: said, and the other funds go on
            log.exception("a fund could not be finished", extra={"repo": fund.repo})
            failures.append(f"{fund.repo}: {type(err).__name__}: {err}")
            continue
        yield fund, result
