"""Reading a request body within a deadline, so slow senders cannot hold the service's threads.

Gunicorn's threaded worker gives each request a thread for as long as its body takes to arrive,
and a client may send a 13 KB delivery one byte a second. `BodyReader` registers the socket with
one watchdog thread before reading; a body still incomplete at its deadline has the socket's read
side shut down, which ends the read at once (the request is answered 408). With the threads
gunicorn is given (`gunicorn.conf.py`), a handful of slow connections cannot keep `/healthz` or
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

    def __init__(self, deadline: float = 10.0) -> None:
        self.deadline = deadline
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._active: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
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
        with self._cond:
            self._active.add(ticket)
            heapq.heappush(self._heap, (time.monotonic() + self.deadline, ticket, sock))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="body-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return ticket

    def _unwatch(self, ticket: int) -> bool:
        """Stop watching; True when the deadline had already cut the read short."""
        with self._cond:
            if ticket in self._active:
                self._active.discard(ticket)
                return False
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._active:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._cond.wait(60)
                    continue
                due, ticket, sock = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._active.discard(ticket)
            try:
                sock.shutdown(socket.SHUT_RD)  # the blocked recv() returns: the read ends now
            except OSError:
                pass
