"""A fund's own things kept in step with its configuration: its labels (`fundbot labels sync`, a new
fund), the configuration issue (open, listing every problem, exactly while the configuration is
invalid), and the record of the last valid configuration in the fund-state issue (so a broken file,
even after a restart, leaves the bot acting by the last good one). SPEC §13.

What to write is decided in policy (`bot.policy.labels`, `bot.policy.configissue`) and written by
`bot.jobs.pipeline.apply`, like everything else, so a dry run and a repeated run follow one path.
"""
from __future__ import annotations

import logging

from bot.config.funds import FundConfig
from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.jobs.context import Context, utc_now
from bot.jobs.pipeline import apply
from bot.policy.configissue import config_issue_write, valid_config_write
from bot.policy.fundstate import SERVER_RULES
from bot.policy.labels import label_sync, sync_line
from bot.policy.markers import CONFIG_ISSUE_MARKER
from bot.policy.models import SyncLabel
from bot.policy.rules import Rules

log = logging.getLogger("fundbot.funds")


def sync_labels(gateway: GitHubGateway, repo: str, rules: Rules, *, dry_run: bool = False) -> list[str]:
    """:calls: `GET /repos/{o}/{r}/labels` (conditional), then a write per label to put right. One line
    per change (English, as `fundbot labels sync` prints it), and one per label it cannot put right."""
    steps = label_sync(gateway.repo_labels(repo), rules).steps
    actions = tuple(s for s in steps if isinstance(s, SyncLabel))
    applied = apply(gateway, actions, utc_now(), repo=repo, dry_run=dry_run)
    refused = {id(action): failure for action, failure in zip(applied.refused, applied.failures, strict=True)}
    lines = []
    for step in steps:
        if isinstance(step, str):
            lines.append(step)
        elif (failure := refused.get(id(step))) is not None:
            lines.append(f"could not {sync_line(step)}: GitHub answered {failure.status} {failure.message}")
        else:
            lines.append(sync_line(step))
    return lines


def fund_config(ctx: Context, gateway: GitHubGateway, repo: str, *, fresh: bool = False) -> FundConfig:
    """`repo` as a fund (`bot.config.funds.Funds.config`), and, when its files were read anew, the issues
    that speak of them put in step — and, when they changed since this process last read them, its labels
    (a label the rules renamed is renamed on GitHub)."""
    config = ctx.funds.config(gateway, repo, fresh=fresh)
    settle(ctx, gateway, repo, config)
    if config.changed and not config.first and not config.problems and config.rules is not None:
        try:
            sync_labels(gateway, repo, config.rules)
        except GitHubError as err:
            log.warning("could not put the labels in step", extra={"repo": repo, "reason": str(err)})
    return config


def reconcile(ctx: Context, gateway: GitHubGateway, repo: str) -> FundConfig:
    """Read the fund's configuration afresh and put the issues that speak of it in step, whatever this
    process knew (the sweep, and a new installation, do this)."""
    config = ctx.funds.config(gateway, repo, fresh=True)
    settle(ctx, gateway, repo, config, always=True)
    return config


def settle(ctx: Context, gateway: GitHubGateway, repo: str, config: FundConfig, *, always: bool = False) -> None:
    """The configuration issue and the recorded valid configuration, as `config` calls for. A failure is
    logged, never raised: the fund goes on by the rules it has."""
    if not config.is_fund or not (config.changed or always):
        return
    if not config.problems and not (config.shas or config.was_invalid or always):
        return  # the server's rules alone, as before: nothing to record, nothing to close
    rules = config.rules or ctx.funds.server_rules  # the last valid configuration's words, else the server's
    label = rules.stages.labels.bot.name
    try:
        with ctx.locks.fund(repo):  # two first readings at once must not open two issues
            _settle(ctx, gateway, repo, config, rules, label)
    except GitHubError as err:
        log.warning("could not put the configuration issue in step", extra={"repo": repo, "reason": str(err)})


def _settle(ctx: Context, gateway: GitHubGateway, repo: str, config: FundConfig, rules: Rules, label: str) -> None:
    """Under the fund's lock: read the issues that speak of the configuration again, and write what differs."""
    found = ctx.funds.issues.find(gateway, repo, CONFIG_ISSUE_MARKER, label)
    actions = [config_issue_write(config.problems, config.last_valid, found, rules)]
    # What the bot acts by is recorded, so that it survives a restart: the valid files (by blob sha),
    # or — a fund that needs no file of its own, and whose file is invalid — the server's rules.
    acting = config.shas if not config.problems else {SERVER_RULES: ""} if config.rules is ctx.funds.server_rules \
        else None
    if acting is not None:
        fund = ctx.funds.issues.fund_state(gateway, repo, label,
                                           granted_label=rules.stages.outcomes["funded"].label.name)
        actions.insert(0, valid_config_write(fund, acting, repo, rules, ctx.seal_key))
    applied = apply(gateway, tuple(a for a in actions if a is not None), ctx.clock(), repo=repo)
    for marker, opened in applied.opened.items():
        ctx.funds.issues.remember(repo, marker, opened.number)


def prepare_fund(ctx: Context, gateway: GitHubGateway, repo: str) -> FundConfig:
    """A new fund needs no command line (SPEC §13): its labels made as `labels sync` does, its
    configuration checked (and the configuration issue opened if it is invalid)."""
    config = reconcile(ctx, gateway, repo)
    if config.is_fund and config.rules is not None:
        changes = sync_labels(gateway, repo, config.rules)
        log.info("fund prepared", extra={"repo": repo, "reason": f"{len(changes)} labels made or updated; "
                                                                 f"{len(config.problems)} configuration problems"})
    return config
