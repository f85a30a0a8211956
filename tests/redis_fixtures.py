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

import pytest
import redis

__all__ = ["RedisServer", "redis_server", "redis_url"]


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
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> "RedisServer":
        self._process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except Exception:  # not up yet: refused, reset, loading — any of them
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
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
