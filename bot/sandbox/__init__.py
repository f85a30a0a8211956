"""The sandbox GitHub: one strict, stateful fake of GitHub's REST API and webhooks, shared by the
unit tests, the end-to-end tests and ``fundbot demo``.

>>> sandbox = Sandbox()
>>> sandbox.add_repo("octo-org/widget", commits=[...], contributors=[...])
>>> with SandboxServer(sandbox) as server:
...     github.Github(base_url=server.url, auth=...)

Everything GitHub answers is shaped from GitHub's own examples (``shapes/``, ``payloads/``); a
request GitHub would not take is answered with an error and recorded in ``sandbox.violations``.

Its modules import one way, each only from the layers before it:
``model`` (the records) ← ``render``, ``render_apps``, ``deliveries`` (how GitHub shows them) ←
``state/`` (the in-memory GitHub, one module per concern, composed in ``state/sandbox.py``) ← ``api/``
(GitHub's REST paths served from the state) ← ``server`` (``Sandbox``: the state with its API;
``SandboxServer``). ``openapi``, ``keys`` and ``state/errors`` import nothing of the sandbox.
"""
from .deliveries import Delivery
from .server import Sandbox, SandboxServer
from .state.errors import GitHubError
from .state.faults import Faults
from .state.limits import ContentLimits, RateLimits
from .state.requestlog import RecordedRequest, RequestCounts

__all__ = [
    "Delivery",
    "ContentLimits",
    "Faults",
    "GitHubError",
    "RateLimits",
    "RecordedRequest",
    "RequestCounts",
    "Sandbox",
    "SandboxServer",
]
