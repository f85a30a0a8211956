"""Dashboard cost: page size, server time and GitHub requests for N applications (default 100).

The applications are filed in the sandbox GitHub in every stage (reviewers' commands left as
comments, carried out by one repair sweep), then 100 days pass and the sweep runs again, so some
grants have overdue reports and some applications are stalled. Then `GET /dashboard` is served by
the real app (Flask's test client: server time, no network between browser and server):

  cold               a new process: no data cached, no ETags yet (the installation looked up)
  after TTL          the data cache expired, nothing changed on GitHub: the view is served the rows
                     it has while one background refresh reads GitHub again (every read a 304)
  warm (in the TTL)  the data cache answers: no request at all

Requests are counted by the sandbox (`request_counts`: the App's token exchange apart; a cold view
includes the installation lookup, once per process). 304s do not count against GitHub's rate
limit. Times are medians over --runs views (a quarter as many cold ones).

    python benchmarks/dashboard.py [--applications 100] [--runs 20]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import application_body  # noqa: E402

from bot.demo.world import FUND_REPO, World, running_world  # noqa: E402
from bot.github.app import GitHubApp  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402
from bot.web.app import create_app, shutdown  # noqa: E402

SCORE = ["/score technical 4", "/score technical 5\n/score impact 3"]
# What the reviewers (and, for a withdrawal, the applicant) said on each kind of application.
SCRIPTS: list[list[tuple[str, str]]] = [
    [],  # screening: an incomplete form (see `seed`)
    [],  # technical
    [],  # technical
    [("rita", SCORE[0]), ("ravi", SCORE[1]), ("rita", "/advance")],  # community
    [("rita", SCORE[0]), ("ravi", SCORE[1]), ("rita", "/advance"), ("rita", "/advance")],  # funding
    [("rita", SCORE[0]), ("ravi", SCORE[1]), ("rita", "/advance"), ("rita", "/advance"),
     ("ravi", "/score funding 4"), ("rita", "/advance")],  # decision
    [("rita", SCORE[0]), ("ravi", SCORE[1]), ("rita", "/advance"), ("rita", "/advance"),
     ("ravi", "/score funding 4"), ("rita", "/advance"), ("rita", "/approve 10000")],  # funded
    [("rita", SCORE[0]), ("rita", "/decline Out of scope this round.")],  # declined
    [("APPLICANT", "/withdraw")],  # withdrawn
    [("rita", "/assign @ravi")],  # technical, assigned
]


def seed(world: World, n: int) -> None:
    sandbox = world.sandbox
    world.add_applicant_repo("tiny-org/tiny-inference")
    for i in range(n):
        kind = i % len(SCRIPTS)
        body = application_body(project_name=f"Project {i}", funding_amount="about forty thousand" if kind == 0
                                else "$40,000")
        applicant = f"applicant{i}"
        number = sandbox.add_issue(FUND_REPO, applicant, f"[Application]: Project {i}", body,
                                   labels=["fund: application"])
        for who, text in SCRIPTS[kind]:
            sandbox.add_comment(FUND_REPO, number, applicant if who == "APPLICANT" else who, text)
    assert world.sweep().ok  # carries out every command, as after lost deliveries
    sandbox.travel(dt.timedelta(days=100))
    assert world.sweep().ok  # reminders, overdue labels, stalled stages


def timed_view(client, sandbox: Sandbox, settle=lambda: None) -> tuple[float, int, int, int]:
    sandbox.clear_log()
    started = time.perf_counter()
    response = client.get("/dashboard")
    elapsed = time.perf_counter() - started
    settle()
    assert response.status_code == 200, response.status_code
    counts = sandbox.request_counts()
    return elapsed, len(response.data), counts.reads, counts.not_modified


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with running_world() as world:
        sandbox = world.sandbox
        seed(world, args.applications)
        settings = dataclasses.replace(world.settings, dashboard_ttl=3600)

        def new_process():
            github = GitHubApp(settings, clock=sandbox.now)  # no ETags cached, installation not known
            return create_app({"SETTINGS": settings, "RULES": world.rules, "GITHUB": github, "CLOCK": sandbox.now})

        rows: dict[str, list[tuple[float, int, int, int]]] = {"cold": [], "after TTL, unchanged": [],
                                                               "warm (inside the TTL)": []}
        for _ in range(max(args.runs // 4, 3)):
            app = new_process()
            rows["cold"].append(timed_view(app.test_client(), sandbox))
            shutdown(app, 5)
        app = new_process()
        client = app.test_client()
        source = app.extensions["fundbot.dashboard"].source
        client.get("/dashboard")
        for _ in range(args.runs):
            source.invalidate()  # the TTL ran out
            # The view is served the rows it has; the refresh runs behind it, and what it costs
            # GitHub is counted once it has finished.
            rows["after TTL, unchanged"].append(timed_view(client, sandbox, settle=source.wait))
        for _ in range(args.runs):
            rows["warm (inside the TTL)"].append(timed_view(client, sandbox))
        shutdown(app, 5)

    print(f"GET /dashboard with {args.applications} applications (server time: Flask's test client; "
          f"GitHub: the sandbox on loopback)")
    print(f"{'data':<24} {'median ms':>10} {'max ms':>8} {'bytes':>8} {'reads':>6} {'304s':>6}  views")
    for name, views in rows.items():
        times = [v[0] * 1000 for v in views]
        size, reads, not_modified = views[-1][1], views[-1][2], views[-1][3]
        print(f"{name:<24} {statistics.median(times):>10.1f} {max(times):>8.1f} {size:>8} {reads:>6} "
              f"{not_modified:>6}  {len(views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
