"""API economy: GitHub requests one application's intake costs, first and repeated.

Runs the real service against the sandbox GitHub (in this process, over loopback) and counts
what the sandbox received: reads, writes, and reads answered 304 Not Modified (which do not count
against GitHub's rate limit). The repeated check is the applicant editing the form: the
repository is unchanged, so its three reads come back as 304s.

    python benchmarks/api_economy.py            # intake, and /advance and /approve with F = 0, 10, 100, 1000
    python benchmarks/api_economy.py --grants 0 10   # the second table for fewer funded applications

The second table is the cost of one `/advance` and one `/approve` as the round fills up: F funded
applications are made the way reviewers make them (filed, scored, advanced, approved), then one more
application is advanced and one approved, and the sandbox counts what each cost. The round's ledger
is the fund-state issue, read with one conditional request, so the cost must not grow with F.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import application_body  # noqa: E402

from bot.demo.world import FUND_REPO, running_world  # noqa: E402
from bot.github.pacing import Limits, LocalPacer  # noqa: E402
from bot.sandbox import ContentLimits, RateLimits, Sandbox  # noqa: E402


def counted(sandbox: Sandbox, step) -> tuple[int, int, int, int]:
    sandbox.clear_log()
    step()
    c = sandbox.request_counts()  # the App's token exchange is counted apart, as `auth`
    return c.reads + c.not_modified + c.writes, c.reads, c.not_modified, c.writes


def intake() -> None:
    with running_world() as world:
        sandbox = world.sandbox
        world.add_applicant_repo("tiny-org/tiny-inference")
        edits = []

        def edit() -> None:
            edits.append(sandbox.edit_issue(FUND_REPO, 1, "applicant",
                                            body=application_body(community="About 45 contributors now.")))
            world.deliver(edits[-1])

        steps = [
            ("first intake (issue opened)", lambda: world.deliver(sandbox.open_issue(
                FUND_REPO, "applicant", "[Application]: Tiny", application_body(), labels=["fund: application"]))),
            ("re-check after an edit (repository unchanged)", edit),
            ("the same edit redelivered (same delivery id)", lambda: world.deliver(edits[-1])),
            ("/recheck by the applicant", lambda: world.deliver(sandbox.comment(FUND_REPO, 1, "applicant",
                                                                                "/recheck"))),
        ]
        print(f"{'step':<48} {'requests':>8} {'reads':>6} {'304s':>5} {'writes':>6}")
        for name, step in steps:
            total, reads, not_modified, writes = counted(sandbox, step)
            print(f"{name:<48} {total:>8} {reads:>6} {not_modified:>5} {writes:>6}")
    print("reads = requests that count against the rate limit; 304s are conditional reads that do not")


STEPS_TO_DECISION = (("rita", "/score technical 4"), ("ravi", "/score technical 5\n/score impact 3"),
                     ("rita", "/advance"), ("rita", "/advance"), ("ravi", "/score funding 4"), ("rita", "/advance"))


def ledger_cost(sizes: list[int]) -> None:
    """Requests per `/advance` and per `/approve` with F applications already funded this round."""
    with running_world() as world:
        sandbox = world.sandbox
        # A season's thousand grants are made here in minutes: past GitHub's 5,000 requests an hour and
        # its 80 comments a minute, so both limits (and the pacing that keeps under the second, which
        # would spread the set-up over hours) are lifted; pacing only waits, the counts are the same.
        sandbox.rate_limits = RateLimits(installation=10**9)
        sandbox.content_limits = ContentLimits(per_minute=10**9, per_hour=10**9)
        unlimited = 10**9
        world.github.pacer = LocalPacer(Limits(minute=unlimited, hour=unlimited, minute_other=unlimited,
                                               hour_other=unlimited))
        world.add_applicant_repo("tiny-org/tiny-inference")
        filed = 0

        def file(user: str) -> int:
            nonlocal filed
            filed += 1
            delivery = sandbox.open_issue(FUND_REPO, user, f"[Application]: P{filed}", application_body(
                project_name=f"P{filed}"), labels=["fund: application"])
            world.deliver(delivery)
            return int(delivery.payload["issue"]["number"])

        def say(number: int, user: str, text: str) -> None:
            world.deliver(sandbox.comment(FUND_REPO, number, user, text))

        print(f"{'F (funded before)':>17} {'/advance':>9} {'/approve':>9}   (requests: reads + 304s + writes)")
        funded, started = 0, time.monotonic()
        for size in sorted(sizes):
            while funded < size:
                n = file(f"f{funded}")
                for user, text in STEPS_TO_DECISION:
                    say(n, user, text)
                say(n, "rita", "/approve 1")
                funded += 1
            advancing, approving = file("m-adv"), file("m-app")
            for user, text in STEPS_TO_DECISION[:2]:
                say(advancing, user, text)
            for user, text in STEPS_TO_DECISION:
                say(approving, user, text)
            advance = counted(sandbox, lambda: say(advancing, "rita", "/advance"))[0]
            approve = counted(sandbox, lambda: say(approving, "rita", "/approve 1"))[0]
            funded += 1
            record = world.record(approving)
            assert record is not None and record.outcome and record.outcome.name == "funded", "the /approve failed"
            print(f"{size:>17} {advance:>9} {approve:>9}", flush=True)
        print(f"({funded} grants made in {time.monotonic() - started:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, nargs="*", default=[0, 10, 100, 1000],
                        help="the numbers of funded applications to measure at (default 0 10 100 1000)")
    args = parser.parse_args(argv)
    intake()
    print()
    ledger_cost(args.grants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
