"""Throughput of the workers: applications processed per minute with 1, 2 and 4 `fundbot worker`s.

300 applications are filed on the sandbox GitHub and their `issues.opened` deliveries taken by the
web tier (Redis, Debian's redis-server started here); then N worker processes, exactly as the
Procfile runs them, process them against the sandbox with 100 ms of latency on every GitHub request
(about 7 requests an application: the issue, its comments, three repository facts, labels, the status
comment). The work is I/O-bound, so it should scale nearly linearly with the workers.

    python benchmarks/throughput.py [--applications 300] [--latency-ms 100] [--workers 1 2 4]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e_harness import Worker  # noqa: E402
from redis_fixtures import RedisServer  # noqa: E402

from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import FUND_REPO, World  # noqa: E402
from bot.policy.markers import STATUS_MARKER  # noqa: E402
from bot.sandbox import Faults, Sandbox, SandboxServer  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    import redis

    redis_server = RedisServer(Path(tempfile.mkdtemp())).start()
    redis_url = redis_server.url
    client = redis.Redis.from_url(redis_url)
    key = throwaway_app_key()
    sandbox = Sandbox()
    sandbox.register_app(1, key)
    print(f"{args.applications} applications, {args.latency_ms} ms per GitHub request, {os.cpu_count()} cores")
    print(f"{'workers':>7} {'seconds':>8} {'applications/min':>17} {'per worker':>11}")
    rates = {}
    try:
        with SandboxServer(sandbox) as server:
            world = World(sandbox, server.url, 1, key, redis_url=redis_url)
            world.add_applicant_repo("tiny-org/tiny-inference")
            for workers in args.workers:
                client.flushall()
                sandbox.faults = Faults()
                numbers = []
                for i in range(args.applications):
                    opened = sandbox.open_issue(FUND_REPO, f"dev{i}", f"[Application]: P{i}", application_body(),
                                                labels=["fund: application"])
                    sandbox.pending_deliveries()  # the form's label: another delivery, not needed here
                    assert world.post(opened, wait=False).status == 202
                    numbers.append(opened.payload["issue"]["number"])
                sandbox.faults = Faults(latency_ms=args.latency_ms)
                started = time.monotonic()
                procs = [Worker(server.url, 1, key, redis_url, Path(os.devnull)).start() for _ in range(workers)]
                try:
                    while not all(any(c["body"].startswith(STATUS_MARKER) for c in sandbox.comments(FUND_REPO, n))
                                  for n in numbers):
                        time.sleep(0.2)
                    elapsed = time.monotonic() - started
                finally:
                    for proc in procs:
                        proc.stop()
                rate = args.applications / elapsed * 60
                rates[workers] = rate
                print(f"{workers:>7} {elapsed:>8.1f} {rate:>17.0f} {rate / workers:>11.0f}")
            world.close()
    finally:
        redis_server.stop()
    if 1 in rates:
        print("speed-up over one worker: " + ", ".join(f"{w} workers {r / rates[1]:.2f}x" for w, r in rates.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
