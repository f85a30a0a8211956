"""Settings: validated at start-up; a missing or malformed variable is named in one line."""
import pytest

from bot.config.settings import Need, Settings, SettingsError
from bot.logs import LogFormat


@pytest.fixture
def env(app_key, tmp_path):
    return {"GITHUB_APP_ID": "1234", "GITHUB_PRIVATE_KEY": app_key, "GITHUB_WEBHOOK_SECRET": "s3cret"}


def test_complete_environment(env):
    settings = Settings.from_env(env, Need.server())
    assert settings.app_id == 1234 and settings.webhook_secret == b"s3cret"
    assert settings.api_url == "https://api.github.com"
    # Secrets never show in a repr (and so never in a log line or a traceback).
    assert "s3cret" not in repr(settings) and "PRIVATE" not in repr(settings)


@pytest.mark.parametrize("missing", ["GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"])
def test_each_missing_setting_is_named(env, missing):
    del env[missing]
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    assert err.value.variable == missing
    assert str(err.value).startswith(missing) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "variable, value",
    [("GITHUB_APP_ID", "abc"), ("GITHUB_PRIVATE_KEY", "not a key"), ("GITHUB_API_URL", "ftp://x"),
     ("GITHUB_API_URL", "api.github.com"), ("FUNDBOT_REPO", "no-slash"), ("FUNDBOT_QUEUE_SIZE", "0"),
     ("FUNDBOT_WORKERS", "many"), ("FUNDBOT_RULES", "/does/not/exist"), ("FUNDBOT_LOG_LEVEL", "LOUD"),
     ("FUNDBOT_LOG_FORMAT", "xml"), ("FUNDBOT_CONTENT_LIMITS", "80"), ("FUNDBOT_CONTENT_LIMITS", "500/80")],
    ids=lambda v: str(v)[:20],
)
def test_each_malformed_setting_is_named(env, variable, value):
    env[variable] = value
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    assert err.value.variable == variable and "\n" not in str(err.value)


def test_private_key_from_a_path(env, app_key, tmp_path):
    key_file = tmp_path / "app.pem"
    key_file.write_text(app_key)
    del env["GITHUB_PRIVATE_KEY"]
    env["GITHUB_PRIVATE_KEY_PATH"] = str(key_file)
    assert Settings.from_env(env, Need.server()).private_key == app_key


def test_private_key_path_that_cannot_be_read(env, tmp_path):
    del env["GITHUB_PRIVATE_KEY"]
    env["GITHUB_PRIVATE_KEY_PATH"] = str(tmp_path / "missing.pem")
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    assert err.value.variable == "GITHUB_PRIVATE_KEY_PATH"


def test_both_key_forms_at_once_is_an_error(env, tmp_path):
    env["GITHUB_PRIVATE_KEY_PATH"] = str(tmp_path / "x.pem")
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    assert err.value.variable == "GITHUB_PRIVATE_KEY_PATH"


def test_private_key_with_escaped_newlines(env, app_key):
    # Hosting dashboards often keep a PEM on one line with literal "\n".
    env["GITHUB_PRIVATE_KEY"] = app_key.strip().replace("\n", "\\n")
    assert Settings.from_env(env, Need.server()).private_key.count("\n") > 5


def test_cli_needs_a_token_or_the_app(env):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({}, Need.APP_OR_TOKEN)
    assert err.value.variable == "GITHUB_TOKEN"
    assert Settings.from_env({"GITHUB_TOKEN": "t"}, Need.APP_OR_TOKEN).token == "t"
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"GITHUB_TOKEN": "t"}, Need.APP_OR_TOKEN | Need.REPO)
    assert err.value.variable == "FUNDBOT_REPO"


def test_several_web_processes_need_redis(env):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({**env, "WEB_CONCURRENCY": "2"}, Need.server())
    assert err.value.variable == "WEB_CONCURRENCY" and "FUNDBOT_REDIS_URL" in str(err.value)
    settings = Settings.from_env({**env, "WEB_CONCURRENCY": "2", "FUNDBOT_REDIS_URL": "redis://r:6379/0"},
                                 Need.server())
    assert settings.web_processes == 2 and "redis://" not in repr(settings)  # a URL may hold a password


def test_a_worker_needs_redis(env):
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.APP | Need.REDIS)
    assert err.value.variable == "FUNDBOT_REDIS_URL"
    with pytest.raises(SettingsError):
        Settings.from_env({**env, "FUNDBOT_REDIS_URL": "http://r:6379"}, Need.NOTHING)


@pytest.mark.parametrize("value, expected", [(None, LogFormat.TEXT), ("text", LogFormat.TEXT), ("JSON", LogFormat.JSON)],
                         ids=["default", "text", "json-any-case"])
def test_log_format(value, expected):
    env = {} if value is None else {"FUNDBOT_LOG_FORMAT": value}
    assert Settings.from_env(env).log_format is expected


def test_the_previous_webhook_secret_while_rotating(env):
    settings = Settings.from_env({**env, "GITHUB_WEBHOOK_SECRET_PREVIOUS": "old-s3cret"}, Need.server())
    assert settings.webhook_secrets == (b"s3cret", b"old-s3cret")  # the current one first
    assert "old-s3cret" not in repr(settings) and "s3cret" not in repr(settings)
    assert Settings.from_env(env, Need.server()).webhook_secrets == (b"s3cret",)


def test_every_missing_and_malformed_setting_is_named_at_once(app_key):
    # Three restarts to learn three variables was the old way: one reading names them all, each on a line.
    env = {"GITHUB_API_URL": "api.github.com", "FUNDBOT_WORKERS": "many", "WEB_CONCURRENCY": "3"}
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    named = [line.split()[0] for line in err.value.problems]
    assert named == ["GITHUB_API_URL", "FUNDBOT_WORKERS", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_ID",
                     "GITHUB_PRIVATE_KEY", "WEB_CONCURRENCY"]
    assert str(err.value).splitlines()[0] == "6 settings to fix:"
    assert [line.strip() for line in str(err.value).splitlines()[1:]] == list(err.value.problems)


def test_a_malformed_setting_is_not_also_called_missing(app_key, tmp_path):
    env = {"GITHUB_APP_ID": "abc", "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "gone.pem"), "GITHUB_WEBHOOK_SECRET": "s"}
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, Need.server())
    assert [line.split()[0] for line in err.value.problems] == ["GITHUB_APP_ID", "GITHUB_PRIVATE_KEY_PATH"]


def test_without_credentials_both_ways_of_giving_the_key_are_named():
    with pytest.raises(SettingsError) as err:
        Settings.from_env({}, Need.APP_OR_TOKEN)
    assert "GITHUB_PRIVATE_KEY_PATH" in str(err.value) and "GITHUB_APP_ID" in str(err.value)
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"GITHUB_APP_ID": "12"}, Need.APP_OR_TOKEN)
    assert err.value.variable == "GITHUB_PRIVATE_KEY" and "GITHUB_PRIVATE_KEY_PATH" in str(err.value)
