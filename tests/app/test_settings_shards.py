"""SHARD_COUNT and SHARD_IDS (or SHARD_ID, one id): the Discord gateway shards this process runs;
PostgreSQL unless it runs them all."""

import pytest

from app.settings import SettingsError, load_settings

PG = {"DISCORD_TOKEN": "secret-token-value", "DATABASE_URL": "postgresql://u:p@127.0.0.1:5/db"}
SQLITE = {"DISCORD_TOKEN": "secret-token-value"}


def test_without_them_one_process_and_no_shards():
    settings = load_settings(PG, dotenv=None)
    assert (settings.shard_count, settings.shard_ids) == (None, ())


def test_shard_ids_name_this_process_shards_in_their_order():
    settings = load_settings({**PG, "SHARD_COUNT": "4", "SHARD_IDS": "2, 0"}, dotenv=None)
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 0))


def test_shard_id_is_the_one_shard_spelling_of_shard_ids():
    settings = load_settings({**PG, "SHARD_COUNT": "2", "SHARD_ID": "1"}, dotenv=None)
    assert (settings.shard_count, settings.shard_ids) == (2, (1,))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SHARD_COUNT": "2"}, "SHARD_COUNT and SHARD_IDS go together"),
        ({"SHARD_IDS": "0"}, "SHARD_COUNT and SHARD_IDS go together"),
        ({"SHARD_ID": "0"}, "SHARD_COUNT and SHARD_ID go together"),
        ({"SHARD_COUNT": "2", "SHARD_ID": "0", "SHARD_IDS": "1"}, "SHARD_IDS or SHARD_ID"),
        ({"SHARD_COUNT": "two", "SHARD_IDS": "0"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "0", "SHARD_IDS": "0"}, "SHARD_COUNT must be a whole number from 1"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,one"}, r"whole numbers separated by commas.*'one'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,1"}, "whole numbers separated by commas"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "whole numbers separated by commas"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1.5"}, "whole numbers separated by commas"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,4"}, r"from 0 to SHARD_COUNT - 1 \(3\), not 4"),
        ({"SHARD_COUNT": "2", "SHARD_ID": "2"}, r"SHARD_ID: each id must be from 0 to .*not 2"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1,3,1"}, "SHARD_IDS names shard 1 twice"),
        ({"SHARD_COUNT": "4", "SHARD_ID": "0,1"}, "SHARD_ID is one id.*SHARD_IDS"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(values, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({**PG, **values}, dotenv=None)


@pytest.mark.parametrize("values", [{"SHARD_ID": "0"}, {"SHARD_IDS": "0,1"}])
def test_shards_left_to_other_processes_need_postgresql(values):
    with pytest.raises(SettingsError, match="DATABASE_URL=postgresql"):
        load_settings({**SQLITE, "SHARD_COUNT": "3", **values}, dotenv=None)


def test_one_process_running_every_shard_may_stay_on_sqlite():
    settings = load_settings({**SQLITE, "SHARD_COUNT": "2", "SHARD_IDS": "1,0"}, dotenv=None)
    assert (settings.database_url, settings.shard_count, settings.shard_ids) == (None, 2, (1, 0))
