"""Reading a request body within a deadline, so slow senders cannot hold the service's threads.

Gunicorn's threaded worker gives each request a thread for as long as its body takes to arrive,
and a client may send a 13 KB delivery one byte a second. `BodyReader` registers the socket with
one watchdog thread before reading; a body still incomplete at its deadline has the socket's read
side shut down, which ends the read at once (the request is answered 408). With the threads
gunicorn is given (`bot/web/gunicorn_conf.py`), a handful of slow connections cannot keep `/healthz` or
other deliveries waiting; a flood of them is a job for a buffering proxy in front (gunicorn's own
advice).
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any


class BodyTimeout(Exception):
    """The body did not arrive within the deadline."""


class BodyReader:
    """`read(environ, length, limit)` with one shared watchdog thread for every request."""

    def __init__(self, deadline: float = 10.0, tick: float = 0.5) -> None:
        self.deadline = deadline
        self._tick = tick  # how often the watchdog looks: deadlines are kept to within this
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._active: set[int] = set()
        self._ids = itertools.count()
        self._lock = threading.Lock()  # no per-request wake-up: the watchdog polls (cheaper under load)
        self._thread: threading.Thread | None = None

    def read(self, environ: Mapping[str, Any], length: int, limit: int) -> bytes:
        """The body (`length` bytes, or up to `limit` + 1 when chunked); `BodyTimeout` if too slow."""
        stream = environ["wsgi.input"]
        sock = environ.get("gunicorn.socket")
        ticket = self._watch(sock) if isinstance(sock, socket.socket) else None
        try:
            body = stream.read(length) if length else stream.read(limit + 1)
        except OSError as err:
            if ticket is not None and ticket not in self._active:
                raise BodyTimeout() from None
            raise BodyTimeout() from err
        finally:
            expired = ticket is not None and self._unwatch(ticket)
        if expired or (length and len(body) < length):
            raise BodyTimeout()
        return body

    def _watch(self, sock: socket.socket) -> int:
        ticket = next(self._ids)
        with self._lock:
            self._active.add(ticket)
            heapq.heappush(self._heap, (time.monotonic() + self.deadline, ticket, sock))
            if self._thread is None or not self._thread.is_alive():  # started here: after gunicorn's fork
                self._thread = threading.Thread(target=self._run, name="body-watchdog", daemon=True)
                self._thread.start()
        return ticket

    def _unwatch(self, ticket: int) -> bool:
        """Stop watching; True when the deadline had already cut the read short."""
        with self._lock:
            if ticket in self._active:
                self._active.discard(ticket)
                return False
            return True

    def _run(self) -> None:
        while True:
            time.sleep(self._tick)
            overdue: list[socket.socket] = []
            with self._lock:
                now = time.monotonic()
                while self._heap and (self._heap[0][1] not in self._active or self._heap[0][0] <= now):
                    _, ticket, sock = heapq.heappop(self._heap)
                    if ticket in self._active:  # still reading at its deadline
                        self._active.discard(ticket)
                        overdue.append(sock)
            for sock in overdue:
                try:
                    sock.shutdown(socket.SHUT_RD)  # the blocked recv() returns: the read ends now
                except OSError:
                    pass
