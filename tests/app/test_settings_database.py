"""DATABASE_URL selects the backend; DATABASE_PATH keeps working as before."""

from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings

BASE = {"DISCORD_TOKEN": "secret-token-value"}


def test_without_either_the_sqlite_file_in_the_data_folder():
    settings = load_settings(BASE, dotenv=None)
    assert settings.database_url is None
    assert settings.database_path.parts[-2:] == ("data", "ladder.db")


def test_database_path_alone_is_the_sqlite_file(tmp_path):
    settings = load_settings({**BASE, "DATABASE_PATH": str(tmp_path / "x.db")}, dotenv=None)
    assert (settings.database_path, settings.database_url) == (tmp_path / "x.db", None)


def test_a_sqlite_url_names_the_file(tmp_path):
    relative = load_settings({**BASE, "DATABASE_URL": "sqlite:///data/ladder.db"}, dotenv=None)
    assert (relative.database_path, relative.database_url) == (Path("data/ladder.db"), None)
    absolute = load_settings({**BASE, "DATABASE_URL": f"sqlite:///{tmp_path}/y.db"}, dotenv=None)
    assert absolute.database_path == tmp_path / "y.db"


def test_a_postgresql_url_selects_postgresql_and_its_password_is_not_shown():
    url = "postgresql://ladder:hunter2@db.example:5432/ladder"
    settings = load_settings({**BASE, "DATABASE_URL": url}, dotenv=None)
    assert settings.database_url == url
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "mysql://x/y"},
        {"DATABASE_URL": "sqlite:///a.db", "DATABASE_PATH": "b.db"},
    ],
)
def test_bad_database_settings_name_the_setting(env):
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings({**BASE, **env}, dotenv=None)
