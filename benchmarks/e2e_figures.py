"""Intake figures through the real service: GitHub requests, and time from delivery to status comment.

gunicorn runs the Procfile's `web:` line against the sandbox GitHub on loopback, with simulated
GitHub latency on every request (default 100 ms). Each run files a new application (its own
repository, so no ETag from an earlier run helps), posts the signed `issues.opened` delivery and
waits until the status comment exists. Printed: per run, the requests the service made (reads,
writes, and the installation token when it fetched one) and the time from posting the delivery to
the status comment; then the medians. Nothing is asserted: these are figures for the README.

    python benchmarks/e2e_figures.py [--runs 5] [--latency-ms 100]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e_harness import Fund, Service  # noqa: E402
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET  # noqa: E402

from bot.policy.markers import STATUS_MARKER  # noqa: E402
from bot.sandbox import Faults, Sandbox, SandboxServer  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402
from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import FUND_REPO, World  # noqa: E402


def intake(fund: Fund, run: int, timeout: float = 30.0) -> tuple[int, int, int, float]:
    """File application `run`; return (reads, writes, token requests, seconds to the status comment)."""
    sandbox = fund.sandbox
    repo = f"tiny-org/project-{run}"
    fund.world.add_applicant_repo(repo)
    body = application_body(repository=f"https://github.com/{repo}", project_name=f"Project {run}")
    delivery = sandbox.open_issue(FUND_REPO, f"applicant{run}", f"[Application]: Project {run}", body,
                                  labels=["fund: application"])
    number = delivery.payload["issue"]["number"]
    sandbox.clear_log()
    started = time.perf_counter()
    fund.post(delivery)
    deadline = started + timeout
    while not any(STATUS_MARKER in c["body"] for c in sandbox.comments(FUND_REPO, number)):
        if time.perf_counter() > deadline:
            raise SystemExit(f"no status comment within {timeout} s:\n{fund.service.log()}")
        time.sleep(0.002)
    elapsed = time.perf_counter() - started
    requests = sandbox.requests()
    tokens = sum(r.path.startswith("/app/") for r in requests)
    reads = sum(r.method == "GET" for r in requests if not r.path.startswith("/app/"))
    writes = len(requests) - tokens - reads
    fund.flush()  # GitHub's follow-up deliveries (the form's label, the bot's own writes)
    return reads, writes, tokens, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    key = throwaway_app_key()
    sandbox = Sandbox(openapi=OPENAPI_SUBSET)
    sandbox.register_app(APP_ID, key)
    rows = []
    with SandboxServer(sandbox) as server, tempfile.TemporaryDirectory() as tmp:
        world = World(sandbox, server.url, APP_ID, key)
        with Service(server.url, APP_ID, key, Path(tmp) / "gunicorn.log") as service:
            fund = Fund(world, service)
            sandbox.faults = Faults(latency_ms=args.latency_ms)  # after seeding: only the intake is timed
            print(f"Intake of one application: gunicorn (Procfile `web:`) against the sandbox GitHub, "
                  f"{args.latency_ms} ms latency per GitHub request, {args.runs} runs")
            print(f"{'run':>4} {'requests':>9} {'reads':>6} {'writes':>7} {'token':>6} "
                  f"{'delivery → status comment':>27}")
            for run in range(1, args.runs + 1):
                reads, writes, tokens, elapsed = intake(fund, run)
                rows.append((reads + writes, elapsed))
                print(f"{run:>4} {reads + writes:>9} {reads:>6} {writes:>7} {tokens:>6} {elapsed * 1000:>24.0f} ms")
        world.close()
    print(f"median: {statistics.median(r for r, _ in rows):.0f} GitHub requests (the installation token apart), "
          f"{statistics.median(t for _, t in rows) * 1000:.0f} ms from delivery to status comment")
    if sandbox.violations:
        print("requests GitHub would refuse:\n  " + "\n  ".join(sandbox.violations), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
