"""Tests for ladder.config: the shipped file, defaults, and each validation rule."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from ladder.config import (
    DEFAULT_RACES,
    DEFAULT_RANK_SHARES,
    ConfigError,
    LadderConfig,
    load_ladder_config,
    parse_ladder_config,
)
from ladder.errors import LadderError, NotFoundError, ValidationError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "ladder.toml"


def shipped() -> dict:
    """Return the shipped settings file, parsed, as a fresh dict to mutate."""
    with open(SHIPPED, "rb") as f:
        return tomllib.load(f)


def error_for(data: dict) -> ConfigError:
    """Parse `data`, expecting a ConfigError, and return it."""
    with pytest.raises(ConfigError) as info:
        parse_ladder_config(data, "data/ladder.toml")
    return info.value


def test_shipped_file_loads_with_documented_values() -> None:
    cfg = load_ladder_config(SHIPPED)
    assert cfg.race_codes == (
        "bw_terran", "bw_zerg", "bw_protoss", "sc2_terran", "sc2_zerg", "sc2_protoss",
    )  # fmt: skip
    assert len(cfg.map_pool) == 7
    assert cfg.max_vetoes == 4
    assert len(cfg.regions) == 8
    assert cfg.matchmaking.wave_interval_seconds == 45
    assert cfg.matchmaking.window(0) == 100
    assert cfg.matchmaking.window(2) == 200
    assert (cfg.rating.start, cfg.rating.k_factor, cfg.rating.divisor) == (1500, 40, 500)
    assert cfg.matches.confirmation_window.total_seconds() == 60
    assert cfg.matches.report_window.total_seconds() == 3600
    assert cfg.matches.aborts_per_month == 3
    assert cfg.ranks.shares == DEFAULT_RANK_SHARES
    assert cfg.ranks.inactive_days == 14


def test_shipped_file_equals_the_code_defaults() -> None:
    cfg = load_ladder_config(SHIPPED)
    assert cfg == LadderConfig(map_pool=cfg.map_pool)


def test_only_the_map_pool_is_needed() -> None:
    cfg = parse_ladder_config({"season": {"map_pool": ["A", "B", "C", "D", "E"]}})
    assert cfg.races == DEFAULT_RACES
    assert cfg.rating.k_factor == 40
    assert cfg.max_vetoes == 4


def test_partial_table_keeps_other_defaults() -> None:
    data = {"season": {"map_pool": list("ABCDE")}, "rating": {"k_factor": 32}}
    cfg = parse_ladder_config(data)
    assert (cfg.rating.start, cfg.rating.k_factor, cfg.rating.divisor) == (1500, 32, 500)


def test_lookups() -> None:
    cfg = load_ladder_config(SHIPPED)
    assert cfg.race("bw_zerg").name == "BW Zerg"
    assert cfg.region("EU").name == "Europe"
    with pytest.raises(NotFoundError):
        cfg.race("zerg")
    with pytest.raises(NotFoundError):
        cfg.region("XX")


def test_config_error_is_a_validation_error_naming_the_key() -> None:
    data = shipped()
    data["rating"]["k_factor"] = -1
    err = error_for(data)
    assert isinstance(err, ValidationError)
    assert isinstance(err, LadderError)
    assert err.field == "rating.k_factor"
    assert str(err) == "data/ladder.toml: rating.k_factor must be a positive number"


def test_missing_map_pool() -> None:
    data = shipped()
    del data["season"]["map_pool"]
    assert "season.map_pool is required" in str(error_for(data))


def test_missing_race_name() -> None:
    data = shipped()
    del data["races"][1]["name"]
    assert error_for(data).field == "races[1].name"


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        ("rating", "k_factor", "40", "rating.k_factor must be a positive number"),
        ("rating", "k_factor", True, "rating.k_factor must be a positive number"),
        ("rating", "divisor", 0, "rating.divisor must be a positive number"),
        ("rating", "start", 1500.5, "rating.start must be a whole number"),
        ("rating", "start", -1, "rating.start must be a whole number that is not negative"),
        ("matchmaking", "wave_interval_seconds", 0, "must be a positive number"),
        ("matchmaking", "window_base", -100, "matchmaking.window_base must be a number"),
        ("matchmaking", "window_growth", -1, "matchmaking.window_growth must be a number"),
        ("matches", "confirmation_window_seconds", -60, "must be a positive number"),
        ("matches", "report_deadline_minutes", "1h", "must be a positive number"),
        ("matches", "aborts_per_month", -3, "matches.aborts_per_month must be a whole"),
        ("matches", "aborts_per_month", 2.5, "matches.aborts_per_month must be a whole"),
        ("ranks", "inactive_days", 0, "ranks.inactive_days must be a positive whole number"),
        ("season", "max_vetoes", -1, "season.max_vetoes must be a whole number"),
    ],
)
def test_wrong_types_and_negative_numbers(
    table: str, key: str, value: object, message: str
) -> None:
    data = shipped()
    data[table][key] = value
    err = error_for(data)
    assert err.field == f"{table}.{key}"
    assert message in str(err)


def test_shares_must_add_up_to_100() -> None:
    data = shipped()
    data["ranks"]["shares"]["F"] = 9
    err = error_for(data)
    assert err.field == "ranks.shares"
    assert "must add up to 100 (they add up to 101)" in str(err)


def test_negative_share() -> None:
    data = shipped()
    data["ranks"]["shares"]["S"] = -1
    data["ranks"]["shares"]["F"] = 10
    assert error_for(data).field == "ranks.shares.S"


def test_custom_shares_keep_file_order() -> None:
    data = shipped()
    data["ranks"]["shares"] = {"Gold": 10, "Silver": 40, "Bronze": 50}
    cfg = parse_ladder_config(data)
    assert cfg.ranks.shares == (("Gold", 10), ("Silver", 40), ("Bronze", 50))


def test_duplicate_race_code() -> None:
    data = shipped()
    data["races"][3]["code"] = "bw_zerg"
    err = error_for(data)
    assert err.field == "races[3].code"
    assert "'bw_zerg' is listed twice" in str(err)


def test_bad_race_code() -> None:
    data = shipped()
    data["races"][0]["code"] = "BW Terran"
    assert error_for(data).field == "races[0].code"


def test_duplicate_region_code() -> None:
    data = shipped()
    data["regions"][2]["code"] = "NA"
    assert error_for(data).field == "regions[2].code"


def test_empty_races() -> None:
    data = shipped()
    data["races"] = []
    assert error_for(data).field == "races"


def test_duplicate_map() -> None:
    data = shipped()
    data["season"]["map_pool"].append(data["season"]["map_pool"][0])
    assert error_for(data).field == "season.map_pool[7]"


def test_vetoes_must_leave_a_map() -> None:
    data = shipped()
    data["season"]["max_vetoes"] = 7
    err = error_for(data)
    assert err.field == "season.max_vetoes"
    assert "less than the number of maps in season.map_pool (7)" in str(err)
    data["season"]["max_vetoes"] = 6
    assert parse_ladder_config(data).max_vetoes == 6


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("rating", "k_facor"), "rating.k_facor"),
        (("colour",), "colour"),
        (("races", 0, "emoji"), "races[0].emoji"),
        (("season", "maps"), "season.maps"),
    ],
)
def test_unknown_key(path: tuple, field: str) -> None:
    data = shipped()
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = 1
    err = error_for(data)
    assert err.field == field
    assert f"{field} is not a known setting" in str(err)


def test_table_of_wrong_type() -> None:
    data = shipped()
    data["rating"] = 5
    assert "rating must be a table" in str(error_for(data))


def test_the_input_is_not_mutated() -> None:
    data = shipped()
    before = copy.deepcopy(data)
    parse_ladder_config(data)
    assert data == before


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot be read"):
        load_ladder_config(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[rating\nk_factor = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: is not valid TOML"):
        load_ladder_config(bad)
    neg = tmp_path / "neg.toml"
    neg.write_text('[season]\nmap_pool = ["A", "B"]\nmax_vetoes = 1\n[rating]\nk_factor = -4\n')
    with pytest.raises(ConfigError) as info:
        load_ladder_config(neg)
    assert str(info.value) == f"{neg}: rating.k_factor must be a positive number"


def test_names_per_language_are_read_and_shown_in_the_current_language() -> None:
    from i18n import speaking

    cfg = load_ladder_config(SHIPPED)
    assert cfg.race("bw_terran").local_name == "BW Terran"  # English by default
    names = cfg.race_names  # built once, read in whichever language is current
    regions = cfg.region_names
    with speaking("ko"):
        assert cfg.race_name("bw_zerg") == "브루드워 저그"
        assert names["sc2_protoss"] == "스타2 프로토스"
        assert regions.get("EU") == "유럽"
        assert cfg.region_name("NOPE") == "NOPE"
    with speaking("ru"):
        assert names["bw_terran"] == "BW Терраны" and regions["CIS"] == "Россия и СНГ"
    with speaking("zh_CN"):
        assert dict(names.items())["bw_terran"] == "母巢之战 人族"
    assert list(names) == list(cfg.race_codes) and names["bw_terran"] == "BW Terran"
    assert regions.english()["KR"] == "Korea"


def test_a_language_without_a_name_falls_back_to_the_name() -> None:
    from i18n import speaking

    data = shipped()
    data["races"] = [{"code": "x", "name": "Ex", "names": {"ko": "엑스"}}]
    data["regions"] = [{"code": "EU", "name": "Europe"}]
    data["replay"]["races"] = {}
    cfg = parse_ladder_config(data)
    with speaking("ru"):
        assert cfg.race_name("x") == "Ex" and cfg.region_name("EU") == "Europe"
    with speaking("ko"):
        assert cfg.race_name("x") == "엑스"


@pytest.mark.parametrize(
    ("names", "field", "detail"),
    [
        ({"fr": "Terran"}, "races[0].names.fr", "is not one of the bot's languages"),
        ({"ko": ""}, "races[0].names.ko", "must be a non-empty string"),
        ({"ko": "   "}, "races[0].names.ko", "must be a non-empty string"),
        ({"ko": 3}, "races[0].names.ko", "must be a non-empty string"),
        ("테란", "races[0].names", "must be a table"),
    ],
)
def test_bad_names_per_language(names: object, field: str, detail: str) -> None:
    data = shipped()
    data["races"][0]["names"] = names
    err = error_for(data)
    assert err.field == field
    assert detail in err.user_message


def test_bad_region_names() -> None:
    data = shipped()
    data["regions"][2]["names"] = {"zh-CN": "欧洲"}
    err = error_for(data)
    assert err.field == "regions[2].names.zh-CN"


def test_map_names_per_language() -> None:
    from i18n import speaking

    data = shipped()
    data["season"]["map_names"] = {"Fighting Spirit": {"ko": "투혼"}}
    cfg = parse_ladder_config(data)
    assert cfg.map_name("Fighting Spirit") == "Fighting Spirit"
    with speaking("ko"):
        assert cfg.map_name("Fighting Spirit") == "투혼" and cfg.map_name("Eclipse") == "Eclipse"
    data["season"]["map_names"] = {"Nowhere": {"ko": "어디"}}
    assert "must be a map of season.map_pool" in error_for(data).user_message
    data["season"]["map_names"] = {"Eclipse": {"xx": "E"}}
    assert error_for(data).field == "season.map_names.Eclipse.xx"
