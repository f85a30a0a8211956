"""A deadline rush: 300 applications filed within 5 minutes, most of them near the end.

The sandbox GitHub enforces GitHub's secondary limits on content creation (80 a minute, 500 an hour
per installation, answered with GitHub's own 403) and answers every request after `--latency-ms`.
The web tier takes the `issues.opened` deliveries as they come (Redis, Debian's redis-server started
here) and `--workers` worker processes, exactly as the Procfile runs them, process them; the pacing
of content writes is shared between the workers through Redis. Filing follows the shape of a
deadline: the i-th of N applications is filed at T·√(i/N), so the last of five minutes sees 36% of
them — 108 of 300, over GitHub's 80 a minute — and each is followed by the form's `labeled` delivery.

Prints: how many were processed, the secondary-limit 403s (target 0), the time from the first filing
to the last status comment, and the time from filing to the applicant's first answer (median, p90,
max).

    python benchmarks/deadline_rush.py [--applications 300] [--minutes 5] [--workers 2] [--latency-ms 50]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e_harness import Worker  # noqa: E402
from redis_fixtures import RedisServer  # noqa: E402

from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import FUND_REPO, World  # noqa: E402
from bot.sandbox import Faults, Sandbox, SandboxServer  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    redis_server = RedisServer(Path(tempfile.mkdtemp())).start()
    redis_url = redis_server.url
    key = throwaway_app_key()
    sandbox = Sandbox()
    sandbox.register_app(1, key)
    n, span = args.applications, args.minutes * 60
    print(f"{n} applications filed within {args.minutes:g} minutes (the i-th at T·√(i/N)), {args.workers} workers, "
          f"{args.latency_ms} ms per GitHub request, {os.cpu_count()} cores")
    try:
        with SandboxServer(sandbox) as server:
            world = World(sandbox, server.url, 1, key, redis_url=redis_url)
            world.add_applicant_repo("tiny-org/tiny-inference")
            sandbox.clear_log()
            sandbox.faults = Faults(latency_ms=args.latency_ms)
            workers = [Worker(server.url, 1, key, redis_url, Path(os.devnull)).start() for _ in range(args.workers)]
            filed: dict[int, float] = {}
            try:
                start = time.time()
                for i in range(n):
                    due = start + span * ((i + 1) / n) ** 0.5
                    time.sleep(max(0.0, due - time.time()))
                    opened = sandbox.open_issue(FUND_REPO, f"dev{i}", f"[Application]: P{i}", application_body(),
                                                labels=["fund: application"])
                    filed[int(opened.payload["issue"]["number"])] = time.time()
                    world.post(opened, wait=False)
                    for follow_up in sandbox.pending_deliveries():  # the form's label, as GitHub sends it
                        world.post(follow_up, wait=False)
                deadline = time.time() + 3600
                while time.time() < deadline:
                    answered = first_answers(sandbox, filed)
                    if len(answered) == n:
                        break
                    time.sleep(1.0)
            finally:
                for worker in workers:
                    worker.stop()
            world.close()
    finally:
        redis_server.stop()

    answered = first_answers(sandbox, filed)
    refused = [r for r in sandbox.requests() if r.status == 403 and r.method == "POST"]
    waits = sorted(answered[number] - filed[number] for number in answered)
    creations = [r for r in sandbox.requests("POST", f"/repos/{FUND_REPO}/issues") +
                 sandbox.requests("POST", f"/repos/{FUND_REPO}/issues/*/comments") if r.status == 201]
    print(f"processed: {len(answered)} of {n} applications have their status comment")
    print(f"secondary-limit 403s: {len(refused)} (target 0)")
    print(f"content created (issues, comments): {len(creations)}; busiest minute: {busiest_minute(creations)} (GitHub allows 80)")
    if answered:
        last = max(answered.values())
        print(f"first filing to last status comment: {last - min(filed.values()):.0f} s "
              f"(last filing at {max(filed.values()) - min(filed.values()):.0f} s)")
        print(f"filing to first answer: median {statistics.median(waits):.1f} s, "
              f"p90 {waits[int(len(waits) * 0.9) - 1]:.1f} s, max {waits[-1]:.1f} s")
    return 0 if len(answered) == n and not refused else 1


def first_answers(sandbox: Sandbox, filed: dict[int, float]) -> dict[int, float]:
    """Issue number -> when the App's first comment on it was created (its status comment)."""
    answers: dict[int, float] = {}
    prefix = f"/repos/{FUND_REPO}/issues/"
    for request in sandbox.requests("POST", f"{prefix}*/comments"):
        if request.status == 201:
            number = int(request.path[len(prefix):].split("/")[0])
            if number in filed:
                answers.setdefault(number, request.at)
    return answers


def busiest_minute(requests: list) -> int:
    """The most requests in any sliding minute."""
    times = sorted(r.at for r in requests)
    most, left = 0, 0
    for right, moment in enumerate(times):
        while times[left] < moment - 60:
            left += 1
        most = max(most, right - left + 1)
    return most


if __name__ == "__main__":
    sys.exit(main())
