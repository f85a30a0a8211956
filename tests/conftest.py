"""Shared pytest fixtures: the app, its test client, and the one sandbox GitHub."""
from sandbox_fixtures import *  # noqa: F401,F403  (sandbox, sandbox_server fixtures)
