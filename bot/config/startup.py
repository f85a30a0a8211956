"""Whether the web service may start: its settings, then the server's rules, read as it would read them
(`bot/web/gunicorn_conf.py` asks before gunicorn forks; `fundbot serve` before it starts gunicorn)."""
from __future__ import annotations

from collections.abc import Mapping

from bot.config.rules import load_rules
from bot.config.settings import Need, Settings, SettingsError
from bot.policy.rules import RulesError


def startup_problem(environ: Mapping[str, str]) -> str | None:
    """Why the web service must not start (settings, then rules), or None."""
    try:
        settings = Settings.from_env(environ, Need.server())
        load_rules(settings.rules_dir, settings.templates_dir)
    except SettingsError as err:
        return str(err)
    except RulesError as err:
        return "the rules are invalid:\n" + "\n".join(f"  {line}" for line in err.errors)
    return None
