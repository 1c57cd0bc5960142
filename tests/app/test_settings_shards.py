"""SHARD_COUNT and SHARD_ID: one Discord gateway shard per process, on PostgreSQL only."""

import pytest

from app.settings import SettingsError, load_settings

PG = {"DISCORD_TOKEN": "secret-token-value", "DATABASE_URL": "postgresql://u:p@127.0.0.1:5/db"}


def test_without_them_one_process_and_no_shards():
    settings = load_settings(PG, dotenv=None)
    assert (settings.shard_count, settings.shard_id) == (None, None)


def test_both_set_name_this_process_shard():
    settings = load_settings({**PG, "SHARD_COUNT": "2", "SHARD_ID": "1"}, dotenv=None)
    assert (settings.shard_count, settings.shard_id) == (2, 1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SHARD_COUNT": "2"}, "go together"),
        ({"SHARD_ID": "0"}, "go together"),
        ({"SHARD_COUNT": "two", "SHARD_ID": "0"}, "whole numbers"),
        ({"SHARD_COUNT": "2", "SHARD_ID": "2"}, "from 0 to SHARD_COUNT - 1"),
        ({"SHARD_COUNT": "0", "SHARD_ID": "0"}, "from 0 to SHARD_COUNT - 1"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(values, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({**PG, **values}, dotenv=None)


def test_shards_need_postgresql():
    with pytest.raises(SettingsError, match="DATABASE_URL=postgresql"):
        load_settings({"DISCORD_TOKEN": "t", "SHARD_COUNT": "2", "SHARD_ID": "0"}, dotenv=None)
