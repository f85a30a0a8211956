"""Debian's `redis-server`, started by the tests on a free loopback port (no mock stands in for it).

``redis_server``: one server for the session (`--save '' --appendonly no`: nothing on disk);
``redis_url``: its URL, emptied before each test; ``RedisServer`` itself, for a test that stops
and starts its own server (an outage). Every server started is stopped, also when a test fails.
Without `redis-server` on the machine the tests that need it are skipped — except under CI,
where `.ci/run` installs it and its absence fails them.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import processes
import pytest
import redis
import redis.client

__all__ = ["RedisServer", "redis_server", "redis_url"]

# rq 3.0's worker listens for commands in a PubSubWorkerThread that waits up to 60 s at a time, and on its
# way out unsubscribes, then stops that thread; redis-py 8's `stop()` joins the thread with no bound, and
# a thread that went back to waiting after the unsubscribe keeps `fundbot worker --burst` (and so
# `World.work()`) for up to 60 s — about every other run, with nothing left to do. Here the join is
# bounded (the thread is a daemon and ends by itself), as rq's own `join(timeout=1)` after it expects.
# The service itself still has the wait: reported, not fixed here (tests stay out of bot/).
_stop_thread = redis.client.PubSubWorkerThread.stop


def _stop_within_a_second(self, timeout: float | None = 1.0) -> None:
    _stop_thread(self, timeout)


redis.client.PubSubWorkerThread.stop = _stop_within_a_second


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`with RedisServer(folder) as server:` runs redis-server on 127.0.0.1 at `server.url`."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        executable = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                                      else None)
        if executable is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed (.ci/run installs Debian's redis-server)")
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.executable = executable
        self.folder = folder
        self._chosen = port is None  # a port of our choosing may be taken before the server binds it
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0, tries: int = 3) -> "RedisServer":
        """Start the server and wait until it answers PING. Under pytest-xdist other processes pick
        free ports too: when the one chosen was taken before redis-server bound it (the server exits),
        another is chosen, up to `tries` times."""
        for attempt in range(tries):
            if self._start_once(timeout):
                return self
            if not self._chosen or attempt == tries - 1:
                break
            self.port = _free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def _start_once(self, timeout: float) -> bool:
        self._process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            while True:
                try:
                    # Ours, not another test process's server that got the port first.
                    if client.ping() and client.info("server")["process_id"] == self._process.pid:
                        return True
                except Exception:  # not up yet: refused, reset, loading — any of them
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    return False
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        processes.stop(self._process, grace=10)
        self._process = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url
