"""Settings: every setting parsed, every bad one named, the token never shown."""

import pytest

from app.settings import SettingsError, load_settings, read_dotenv

BASE = {"DISCORD_TOKEN": "secret-token-value"}


def test_defaults(tmp_path):
    settings = load_settings(BASE, dotenv=None)
    assert settings.token == "secret-token-value"
    assert settings.database_path.name == "ladder.db"
    assert settings.database_path.parent.name == "data"
    assert settings.dm_only is True
    assert settings.admin_ids == frozenset()
    assert settings.log_level == "INFO"
    assert settings.api_base is None


def test_every_setting(tmp_path):
    settings = load_settings(
        {
            **BASE,
            "DATABASE_PATH": str(tmp_path / "x.db"),
            "ADMIN_IDS": "1, 22,333",
            "DM_ONLY": "off",
            "LOG_LEVEL": "debug",
            "LOG_FILE": str(tmp_path / "bot.log"),
            "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/",
            "COMMAND_GUILD_IDS": "5",
            "ADMIN_CHANNEL_ID": "77",
        },
        dotenv=None,
    )
    assert settings.database_path == tmp_path / "x.db"
    assert settings.admin_ids == {1, 22, 333}
    assert settings.dm_only is False
    assert settings.log_level == "DEBUG"
    assert settings.api_base == "http://127.0.0.1:9/api/v10"
    assert settings.command_guild_ids == (5,)
    assert settings.admin_channel_id == 77


def test_the_token_is_not_in_repr():
    assert "secret-token-value" not in repr(load_settings(BASE, dotenv=None))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "DISCORD_TOKEN"),
        ({**BASE, "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({**BASE, "DM_ONLY": "maybe"}, "DM_ONLY"),
        ({**BASE, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({**BASE, "DISCORD_API_BASE": "ftp://x"}, "DISCORD_API_BASE"),
    ],
)
def test_bad_settings_name_the_setting(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env, dotenv=None)


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n\nDISCORD_TOKEN='from-file'\nexport ADMIN_IDS=9\nDM_ONLY=false\n",
        encoding="utf-8",
    )
    assert read_dotenv(dotenv)["DISCORD_TOKEN"] == "from-file"
    settings = load_settings({"DM_ONLY": "true"}, dotenv=dotenv)
    assert settings.token == "from-file"
    assert settings.admin_ids == {9}
    assert settings.dm_only is True


def test_malformed_dotenv_line_is_named(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=x\nnot a setting\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=":2:"):
        load_settings({}, dotenv=dotenv)
