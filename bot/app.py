"""`bot.app:create_app()`: the WSGI application factory SPEC §8 names, kept for deployments that use
it. The web tier itself lives in `bot.web`."""
from bot.web.app import create_app, shutdown

__all__ = ["create_app", "shutdown"]
