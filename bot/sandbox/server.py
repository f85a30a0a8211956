"""Serving the sandbox: ``Sandbox`` is the state (``state/``) with its REST API (``api/``) as a WSGI
app, for in-process use; ``SandboxServer`` serves it over real HTTP on loopback: an ephemeral port, one
thread per connection, HTTP/1.1 keep-alive, so PyGithub, ``requests`` and a gunicorn-run bot can all
talk to it. The top of the sandbox: nothing in it imports this module but the package's ``__init__``."""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .api.dispatch import make_wsgi_app
from .state.sandbox import SandboxState


class Sandbox(SandboxState):
    """One strict, stateful fake of GitHub (``SandboxState``) serving its REST API. Thread-safe: every
    access holds ``lock``."""

    @functools.cached_property
    def wsgi_app(self) -> Callable:
        """The REST API as a WSGI application, for in-process use."""
        return make_wsgi_app(self)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as GitHub offers

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: the sandbox keeps its own request log (without credentials)."""


class SandboxServer:
    """``with SandboxServer(sandbox) as server:`` serves ``sandbox`` at ``server.url``
    (e.g. ``http://127.0.0.1:53121``), usable as PyGithub's ``base_url`` and ``GITHUB_API_URL``."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.url = ""
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        if self._server is not None:
            return self
        self._server = make_server(self.host, self.port, self.sandbox.wsgi_app, threaded=True, request_handler=_Handler)
        self.port = self._server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self.sandbox.api_url = self.url  # deliveries then carry URLs that lead back here
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"sandbox-github:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
