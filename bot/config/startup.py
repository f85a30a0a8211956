"""Whether the web service may start: its settings, then the server's rules, read as it would read them
(`bot/web/gunicorn_conf.py` asks before gunicorn forks; `fundbot serve` before it starts gunicorn) — and,
once it may, which repositories the App is installed on that it will ignore, and why (logged at WARNING:
an administrator whose application gets no status comment finds the reason in the first lines)."""
from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.config.funds import Survey, survey
from bot.config.rules import load_rules
from bot.config.settings import Need, Settings, SettingsError
from bot.policy.not_a_fund import NotAFund
from bot.policy.rules import FUND_FILE, RulesError

log = logging.getLogger("fundbot.funds")
SURVEY_LIMIT = 100  # repositories examined at start-up (one request each, without FUNDBOT_REPO)


def startup_problem(environ: Mapping[str, str]) -> str | None:
    """Why the web service must not start (settings, then rules), or None."""
    try:
        settings = Settings.from_env(environ, Need.server())
        load_rules(settings.rules_dir, settings.templates_dir)
    except SettingsError as err:
        return str(err)
    except RulesError as err:
        return "the rules are invalid:\n" + "\n".join(f"  {line}" for line in err.errors)
    return None


def why_ignored(why: NotAFund, narrow_to: str | None) -> str:
    """Why a repository is ignored, in a log line's words (with what to do)."""
    if why is NotAFund.OTHER_REPO:
        return f"FUNDBOT_REPO names {narrow_to}: this deployment serves that repository only"
    if why is NotAFund.NEVER_VALID:
        return f"its {FUND_FILE} has problems and it never had a valid one: the configuration issue there lists them"
    return f"no {FUND_FILE}: add one (an empty file will do) to make it a fund"


def log_ignored(environ: Mapping[str, str]) -> None:
    """Log at WARNING each repository the App is installed on that the deployment ignores, and why (the web
    service's start). Never raises: GitHub failing is said (with the setting to check), and the service
    starts anyway."""
    from bot.github.app import GitHubApp
    from bot.github.transport import GitHubError, RetryPolicy

    try:
        settings = Settings.from_env(environ)
    except SettingsError:
        return  # said by `startup_problem`
    if not settings.has_app:
        return  # a token's deployment has no installations to list
    try:
        # A start-up must not wait on a failing GitHub: one try (the requests' own timeout), then go on.
        found = survey(GitHubApp(settings, policy=RetryPolicy(attempts=1, max_wait=0.0)), settings.repo,
                       limit=SURVEY_LIMIT)
    except GitHubError as err:
        log.warning("could not list the repositories the App is installed on", extra={"reason": str(err)})
        return
    log_survey(found, settings.repo)


def log_survey(found: Survey, narrow_to: str | None, *, not_installed: bool = True) -> None:
    """Log at WARNING each repository `found` ignored, and why — and (`not_installed`) a FUNDBOT_REPO
    (`narrow_to`) naming a repository the App is not installed on."""
    for repo, why in found.ignored:
        log.warning("an installed repository is ignored", extra={"repo": repo, "reason": why_ignored(why, narrow_to)})
    if not_installed and narrow_to and not found.served and found.complete:
        log.warning("FUNDBOT_REPO names a repository the App is not installed on",
                    extra={"repo": narrow_to, "reason": f"FUNDBOT_REPO names {narrow_to}, where the App is not "
                                                        "installed: install it there, or correct FUNDBOT_REPO"})
    if not found.complete:
        log.warning("more installed repositories were not examined", extra={"reason": f"the first {SURVEY_LIMIT} were"})
