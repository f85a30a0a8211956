"""The clock (the Procfile's `clock`): every fund swept every FUNDBOT_SWEEP_INTERVAL seconds until it is
stopped. With Redis, each fund's sweep is a job for the workers (one at a time per fund, so the workers
sweep funds in parallel); without it, the sweeps run here, one fund after the other.

Which funds a run over every fund covers, and the gateway for each, are the clock's and the CLI's
fund-wide commands' alike (`funds_to_sweep`, `gateway_for`).
"""
from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from bot.config.settings import Settings
from bot.github.gateway import GitHubGateway
from bot.config.funds import discover, FundRef

if TYPE_CHECKING:
    from bot.jobs.context import Context


def gateway_for(ctx: Context, fund: FundRef, *, throttle_writes: bool) -> GitHubGateway:
    """A gateway acting on the fund: as the installation it was found in, else as its repository's."""
    if fund.installation_id is not None:
        return ctx.github.for_installation(fund.installation_id, throttle_writes=throttle_writes)
    return ctx.github.for_repository(fund.repo, throttle_writes=throttle_writes)


def funds_to_sweep(ctx: Context, settings: Settings, failures: list[str]) -> list[FundRef]:
    """The funds to sweep: FUNDBOT_REPO alone, or every fund of every installation of the App."""
    if settings.repo:
        return [FundRef(settings.repo, None)]
    return discover(ctx.github, ctx.funds, failures=failures)


def run_clock(ctx: Context, settings: Settings, stop: threading.Event, redis: Any = None) -> None:
    """Sweep every fund (or queue its sweep, with `redis`), then wait the interval, until `stop` is set.
    A round that fails, or one fund's failure, is printed, and the clock goes on."""
    # Imported when the clock runs: the CLI's other fund-wide commands use this module's helpers, without rq.
    from bot.jobs.sweep import sweep
    from bot.jobs.worker import enqueue_sweep

    while not stop.is_set():
        failures: list[str] = []
        try:
            funds = funds_to_sweep(ctx, settings, failures)
        except Exception as err:  # the clock must outlive a bad round; the next one retries
            print(f"could not list the funds: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            funds = []
        for fund in funds:
            try:
                if redis is not None:
                    queued = enqueue_sweep(redis, fund.repo, fund.installation_id)
                    print(f"sweep of {fund.repo}: {'queued' if queued else 'still queued or running'}", flush=True)
                else:
                    result = sweep(ctx, gateway_for(ctx, fund, throttle_writes=True), fund.repo)
                    print(f"sweep of {fund.repo}: {result.applications} applications, {len(result.lines)} changes, "
                          f"{len(result.failures)} failures, requests {result.stats}", flush=True)
            except Exception as err:  # one fund's failure does not stop the others
                print(f"sweep of {fund.repo} failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        for failure in failures:
            print(f"could not sweep: {failure}", file=sys.stderr, flush=True)
        stop.wait(settings.sweep_interval)
