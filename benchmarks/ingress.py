"""Ingress benchmark: signed deliveries on loopback, side by side in the same run.

- **bare Flask**: a handler that only checks the HMAC (benchmarks/bare_app.py), served by gunicorn's
  own sync workers with two processes: `gunicorn -w 2` — the floor issue #11 names;
- **Fund Bot with Redis**: the Procfile's `web` with FUNDBOT_REDIS_URL and WEB_CONCURRENCY=2 (the same
  process count): verify, take the delivery id in Redis, enqueue its one RQ job (`bot.web.redis_queue`),
  answer 202;
- **Fund Bot in-process**: the Procfile's `web` alone (one process: several need Redis), which also
  processes what it takes in its own threads (here: routing, since the comment is on no application).

All are loaded by the same client in alternating rounds: `--connections` keep-alive connections on
127.0.0.1, each sending its next delivery as soon as the last is answered (wrk when installed,
`apt-get install wrk`; otherwise an asyncio client). The deliveries are GitHub's real
`issue_comment.created` example, each with a fresh X-GitHub-Delivery id. Redis is Debian's
redis-server, started here on a free port and emptied before each round. Each row gives
acknowledgements a second and latencies, answers other than 202 (`non-202`, counted among the
acknowledgements), requests never answered (`no answer`: wrk gives up after 2 s, or the socket
failed), and the CPU time the server's processes (gunicorn's master and workers) and Redis spent per
acknowledgement, read from /proc over the measured seconds.

    python benchmarks/ingress.py [--seconds 10] [--connections 32] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"benchmark-secret"
PROCFILE_WEB = next(line.split(":", 1)[1].strip() for line in (ROOT / "Procfile").read_text().splitlines()
                    if line.startswith("web:"))


def payload() -> bytes:
    examples = json.loads((ROOT / "tests" / "fixtures" / "octokit-webhooks-examples.json").read_text())
    group = next(g for g in examples if g["name"] == "issue_comment")
    example = next(e for e in group["examples"] if e["action"] == "created")
    return json.dumps(example).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen:
    # stderr to a file, never an unread pipe: a full pipe blocks the server's logging, and with it the server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
                               stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    log.seek(0)
    raise SystemExit(f"{command} did not start: {log.read().decode()[-2000:]}")


def servers(port: int, redis_url: str) -> list[tuple[str, list[str], dict[str, str]]]:
    """(name, command, extra environment) of each server measured."""
    procfile = shlex.split(PROCFILE_WEB)
    return [
        ("bare Flask, gunicorn -w 2", ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                       "benchmarks.bare_app:create_app()"], {}),
        ("Fund Bot, Redis, 2 proc.", procfile, {"FUNDBOT_REDIS_URL": redis_url, "WEB_CONCURRENCY": "2"}),
        ("Fund Bot, in-process", procfile, {"WEB_CONCURRENCY": "1"}),
        # Not a target: the bare handler under Fund Bot's own gunicorn settings, to tell the server's
        # share of the difference from the application's (--only "our gunicorn").
        ("bare Flask, our gunicorn", procfile[:-1] + ["benchmarks.bare_app:create_app()"],
         {"WEB_CONCURRENCY": "2", "FUNDBOT_REDIS_URL": redis_url}),
    ]


async def connection(port: int, body: bytes, until: float, latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    head_template = (
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: issue_comment\r\nX-Hub-Signature-256: {signature}\r\n"
        f"Content-Length: {len(body)}\r\nX-GitHub-Delivery: {{}}\r\n\r\n"
    )
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(head_template.format(uuid.uuid4()).encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        status = int(status_line.split()[1])
        if status != 202:
            errors.append(status)
    writer.close()


async def load(port: int, body: bytes, seconds: float, connections: int) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(connection(port, body, until, latencies, errors) for _ in range(connections)))
    return latencies, errors, time.perf_counter() - started


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = io.open("%(body)s"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "issue_comment"
wrk.headers["X-Hub-Signature-256"] = "%(signature)s"
local counter = 0
local prefix = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = prefix .. "-" .. counter .. "-" .. tostring(os.clock())
  return wrk.format(nil, "/webhook")
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%f %%d %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def load_with_wrk(port: int, body: bytes, seconds: float, connections: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "body.json").write_bytes(body)
        signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT % {"body": Path(tmp) / "body.json", "signature": signature})
        run = subprocess.run(["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "-s",
                              str(script), f"http://127.0.0.1:{port}/webhook"], capture_output=True, text=True)
    line = next(l for l in run.stdout.splitlines() if l.startswith("RESULT"))
    requests, duration, p50, p99, errors, lost = line.split()[1:]
    # `lost`: no answer — wrk gives up on a request after 2 s (its timeout), or the socket failed.
    return {"acks": int(requests), "rate": int(requests) / float(duration), "p50": float(p50), "p99": float(p99),
            "errors": int(errors), "lost": int(lost)}


def load_with_python(port: int, body: bytes, seconds: float, connections: int) -> dict:
    latencies, errors, elapsed = asyncio.run(load(port, body, seconds, connections))
    latencies.sort()
    return {"acks": len(latencies), "errors": len(errors), "lost": 0, "rate": len(latencies) / elapsed,
            "p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers) so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def measure(name: str, command: list[str], env: dict[str, str], port: int, args: argparse.Namespace,
            body: bytes, redis_pid: int) -> dict:
    process = start(command, port, env)
    client = load_with_wrk if args.client == "wrk" else load_with_python
    try:
        client(port, body, 1, args.connections)  # warm up
        web, redis = cpu_seconds(process.pid), cpu_seconds(redis_pid)
        row = client(port, body, int(args.seconds), args.connections)
        # CPU per acknowledgement: the server's processes, and Redis's, over the measured seconds.
        row["web_us"] = (cpu_seconds(process.pid) - web) / max(row["acks"], 1) * 1e6
        row["redis_us"] = (cpu_seconds(redis_pid) - redis) / max(row["acks"], 1) * 1e6
    finally:
        process.terminate()  # gunicorn's graceful shutdown: up to its 30 s timeout, with work queued
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {"name": name, **row}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the medians are reported")
    parser.add_argument("--only", help="measure only the servers whose name contains this")
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                        help="load generator: wrk (Debian package `wrk`, lighter on the shared CPU) or asyncio")
    args = parser.parse_args()
    import redis

    from bot.sandbox.keys import throwaway_app_key

    key = throwaway_app_key()
    env = {**os.environ, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": key, "GITHUB_WEBHOOK_SECRET": SECRET.decode(),
           "GITHUB_API_URL": "http://127.0.0.1:9", "FUNDBOT_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    body = payload()
    redis_port = free_port()
    redis_server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    client = redis.Redis.from_url(redis_url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.1)
        print(f"{args.connections} connections, {args.seconds:.0f} s each, {len(body)}-byte issue_comment deliveries, "
              f"client {args.client}, {os.cpu_count()} cores")
        port = free_port()
        rows: dict[str, list[dict]] = {name: [] for name, _, _ in servers(port, redis_url)}
        print(f"{'round':<6} {'server':<27} {'acks/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-202':>8} "
              f"{'no answer':>9} {'web µs/ack':>11} {'Redis µs/ack':>13}")
        for round_ in range(1, args.rounds + 1):  # alternate, so drift on the machine hits all alike
            for name, command, extra in servers(port, redis_url):
                if (args.only and args.only not in name) or (not args.only and "our gunicorn" in name):
                    continue
                client.flushall()
                row = measure(name, command, {**env, **extra}, port, args, body, redis_server.pid)
                rows[name].append(row)
                print(f"{round_:<6} {name:<27} {row['rate']:>8.0f} {row['p50']:>8.2f} {row['p99']:>8.2f} "
                      f"{row['errors']:>8} {row['lost']:>9} {row['web_us']:>11.0f} {row['redis_us']:>13.0f}")
    finally:
        redis_server.terminate()
        redis_server.wait(10)
    median = {name: {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "p99", "errors", "lost",
                                                                         "web_us", "redis_us")}
              for name, runs in rows.items() if runs}
    for name, m in median.items():
        print(f"{'median':<6} {name:<27} {m['rate']:>8.0f} {m['p50']:>8.2f} {m['p99']:>8.2f} {m['errors']:>8.0f} "
              f"{m['lost']:>9.0f} {m['web_us']:>11.0f} {m['redis_us']:>13.0f}")
    if len(median) < 3:
        return 0
    bare, with_redis, in_process = list(median.values())[:3]
    print(f"with Redis / bare: {with_redis['rate'] / bare['rate']:.2f}x (target >= 0.8x), "
          f"p99 {with_redis['p99']:.1f} ms (target <= 20 ms); "
          f"in-process / bare: {in_process['rate'] / bare['rate']:.2f}x (target >= 0.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
