"""API economy: GitHub requests one application's intake costs, first and repeated.

Runs the real service against the sandbox GitHub (in this process, over loopback) and counts
what the sandbox received: reads, writes, and reads answered 304 Not Modified (which do not count
against GitHub's rate limit). The repeated check is the applicant editing the form: the
repository is unchanged, so its three reads come back as 304s.

    python benchmarks/api_economy.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import application_body  # noqa: E402

from bot.sandbox import Sandbox  # noqa: E402
from bot.demo.world import FUND_REPO, running_world  # noqa: E402


def counted(sandbox: Sandbox, step) -> tuple[int, int, int, int]:
    sandbox.clear_log()
    step()
    c = sandbox.request_counts()  # the App's token exchange is counted apart, as `auth`
    return c.reads + c.not_modified + c.writes, c.reads, c.not_modified, c.writes


def main() -> int:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
