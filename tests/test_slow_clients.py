"""Slow clients cannot freeze the service (SPEC §11): connections that send their body a trickle at a
time hold none of what `/healthz` and other deliveries need, and a body that never finishes is cut
off with 408. Gunicorn runs as the Procfile runs it; every socket and process is closed on exit."""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
import requests
from e2e_harness import Service
from sandbox_fixtures import APP_ID

from bot.demo.world import FUND_REPO

pytestmark = pytest.mark.e2e
SLOW = 20


@contextlib.contextmanager
def slow_senders(url: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that send a delivery's headers and the first bytes of its body, then stall."""
    host, port = url.removeprefix("http://").split(":")
    opened: list[socket.socket] = []
    try:
        for i in range(count):
            sock = socket.create_connection((host, int(port)), timeout=30)
            opened.append(sock)
            sock.sendall((f"POST /webhook HTTP/1.1\r\nHost: {host}\r\nX-GitHub-Event: issues\r\n"
                          f"X-GitHub-Delivery: slow-{i}\r\nX-Hub-Signature-256: sha256=00\r\n"
                          "Content-Type: application/json\r\nContent-Length: 13000\r\n\r\n{\"action\":").encode())
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_twenty_slow_bodies_do_not_block_healthz_or_deliveries(world, sandbox_server, app_key, tmp_path):
    service = Service(sandbox_server.url, APP_ID, app_key, tmp_path / "gunicorn.log", FUNDBOT_BODY_TIMEOUT="120")
    with service, slow_senders(service.url, SLOW):
        # The slow bodies would hold their threads for two minutes; the service answers meanwhile.
        assert requests.get(f"{service.url}/healthz", timeout=20).status_code == 200
        delivery = world.sandbox.open_issue(FUND_REPO, "someone", "Hello", "Not an application.")
        status, answer = service.post(delivery)
        assert status == 202 and answer["status"] == "queued"


def test_a_body_that_never_finishes_is_answered_408(world, sandbox_server, app_key, tmp_path):
    service = Service(sandbox_server.url, APP_ID, app_key, tmp_path / "gunicorn.log", FUNDBOT_BODY_TIMEOUT="1")
    with service, slow_senders(service.url, 1) as [sock]:
        answer = sock.recv(4096).decode()  # the deadline passes; the service answers and lets go
        assert answer.startswith("HTTP/1.1 408")
        assert requests.get(f"{service.url}/healthz", timeout=20).status_code == 200
