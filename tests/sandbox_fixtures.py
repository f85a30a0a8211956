"""Pytest fixtures for the sandbox GitHub, shared by every test in the project.

``app_key``: a throwaway RSA key for the App, made once per session (never a committed key).
``sandbox``: a fresh ``Sandbox`` with the App registered (id ``APP_ID``, slug ``fund-bot``) and the
OpenAPI request checker on; the test fails at teardown if any request was a violation.
``sandbox_server``: that sandbox served over HTTP on loopback (``sandbox_server.url``).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bot.sandbox import Sandbox, SandboxServer
from bot.sandbox.keys import throwaway_app_key

APP_ID = 424242
OPENAPI_SUBSET = Path(__file__).parent / "fixtures" / "github-openapi-subset.json"

__all__ = ["APP_ID", "OPENAPI_SUBSET", "app_key", "sandbox", "sandbox_server"]


@pytest.fixture(scope="session")
def app_key() -> str:
    """The App's private key (PKCS#8 PEM), generated for this test session only."""
    return throwaway_app_key()


@pytest.fixture
def sandbox(app_key: str) -> Iterator[Sandbox]:
    """A fresh sandbox GitHub; any request GitHub would not take fails the test at teardown."""
    sb = Sandbox(openapi=OPENAPI_SUBSET)
    sb.register_app(APP_ID, app_key)
    yield sb
    if sb.violations:
        pytest.fail("requests the sandbox GitHub refused:\n  " + "\n  ".join(sb.violations), pytrace=False)


@pytest.fixture
def sandbox_server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    """The sandbox served on 127.0.0.1 (ephemeral port); ``.url`` is the API base URL."""
    with SandboxServer(sandbox) as server:
        yield server
