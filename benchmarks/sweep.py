"""Sweep cost: GitHub requests for N = 10, 100 and 1000 applications, against the sandbox GitHub.

For each N, the applications are filed without their deliveries (as if every webhook had been
lost), then:
  1. the repair sweep gives each one its status comment and labels (the writes it must make);
  2. a sweep by a new process (no ETags cached yet, the installation looked up), with nothing to do;
  3. the same process sweeping again, nothing changed: every read is a 304.
Requests are counted by the sandbox, the installation-token request left out. The bound printed is
2N + ceil(N/100) + 3 + writes: one listing per 100 applications, then, under each application's
lock, its issue and its comments read again (SPEC §11), the progress-report listing, and, on a
process's first sweep of the day, the sweep log's listing and the installation lookup. 304s do not
count against GitHub's rate limit. An hour passes between the sweeps, as between the clock's.

    python benchmarks/sweep.py [--sizes 10 100 1000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import application_body  # noqa: E402

from bot.demo.world import FUND_REPO, World, running_world  # noqa: E402
from bot.github.app import GitHubApp  # noqa: E402
from bot.jobs.context import Context  # noqa: E402
from bot.jobs.sweep import sweep  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402


def measure(sandbox: Sandbox, run) -> tuple[int, int, int, float]:
    sandbox.clear_log()
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    c = sandbox.request_counts()  # the App's token exchange is counted apart, as `auth`
    return c.reads, c.not_modified, c.writes, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(f"{'N':>5}  {'sweep':<34} {'reads':>6} {'304s':>6} {'writes':>6} {'bound':>6} {'seconds':>8}")
    for n in args.sizes:
        with running_world() as world:
            sandbox = world.sandbox
            world.add_applicant_repo("tiny-org/tiny-inference")
            body = application_body()
            for i in range(n):
                sandbox.add_issue(FUND_REPO, f"applicant{i}", f"[Application]: Project {i}", body,
                                  labels=["fund: application"])

            def run_sweep(ctx_world: World = world) -> None:
                result = ctx_world.sweep()
                assert result.ok, result.failures[:3]

            # A new process (the `fundbot sweep` cron, or the clock after a restart): a new
            # GitHubApp, so no ETag is cached yet and the installation is looked up again.
            fresh = GitHubApp(world.settings, clock=sandbox.now)
            process = Context(rules=world.rules, github=fresh, clock=sandbox.now)

            def quiet_sweep(process: Context = process, fresh: GitHubApp = fresh) -> None:
                result = sweep(process, fresh.for_repository(FUND_REPO), FUND_REPO)
                assert result.ok and not result.lines, (result.failures[:3], result.lines[:3])

            rows = [("repair: status comments and labels", run_sweep),
                    ("new process, nothing to do", quiet_sweep),
                    ("same process again, nothing changed", quiet_sweep)]
            for name, run in rows:
                sandbox.travel(dt.timedelta(hours=1))  # a new rate-limit window, as for the hourly clock
                reads, not_modified, writes, elapsed = measure(sandbox, run)
                bound = 2 * n + math.ceil(n / 100) + 3 + writes
                print(f"{n:>5}  {name:<34} {reads:>6} {not_modified:>6} {writes:>6} {bound:>6} {elapsed:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
