"""Verifying a replay against a match: each rule refuses its own mismatch with its own message."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ladder.config import ConfigError, parse_ladder_config
from ladder.rating import Result
from ladder.replays import (
    MatchFacts,
    Refusal,
    ReplayFacts,
    ReplayPlayer,
    battletag_name,
    facts_from_dict,
    map_key,
    verify,
)

START = datetime(2020, 7, 29, 2, 55, 5, tzinfo=UTC)
RACES = {"terran": "sc2_terran", "zerg": "sc2_zerg", "protoss": "sc2_protoss"}

# 5.0.0.80949_EverDream_JiaanN_vs_Rairden as the parser reads it.
EVER_DREAM = ReplayFacts(
    release="5.0.0.80949",
    map_name="Ever Dream LE",
    game_type="1v1",
    start_time=START,
    length_seconds=1111,
    players=(
        ReplayPlayer("JiaanN", "Terran", "Loss", True, 1),
        ReplayPlayer("Rairden", "Zerg", "Win", True, 2),
    ),
)
MATCH = MatchFacts(
    match_id=7,
    player1_names=("JiaanN",),
    player2_names=("Rairden", "RairdenAlt"),
    player1_race="sc2_terran",
    player2_race="sc2_zerg",
    map_name="Ever Dream",
    created_at=START - timedelta(minutes=3),
    report_deadline=START + timedelta(minutes=60),
)


def check(facts: ReplayFacts = EVER_DREAM, match: MatchFacts = MATCH, **kw: object):
    return verify(facts, match, races=RACES, **kw)  # type: ignore[arg-type]


def test_a_matching_replay_verifies_with_the_winner_from_player_ones_side() -> None:
    verdict = check()
    assert verdict.verified and verdict.refusal is None
    assert verdict.result is Result.P2_WIN
    assert verdict.player1_slot == 0


def test_the_players_may_be_in_either_slot() -> None:
    swapped = replace(
        MATCH,
        player1_names=MATCH.player2_names,
        player2_names=MATCH.player1_names,
        player1_race="sc2_zerg",
        player2_race="sc2_terran",
    )
    verdict = check(match=swapped)
    assert verdict.verified
    assert verdict.player1_slot == 1
    assert verdict.result is Result.P1_WIN  # Rairden, player 1 here, won


def test_an_alt_name_and_case_do_not_matter() -> None:
    facts = replace(
        EVER_DREAM,
        players=(EVER_DREAM.players[0], replace(EVER_DREAM.players[1], name="rairdenalt")),
    )
    assert check(facts).verified


def test_a_name_that_is_neither_player_is_refused() -> None:
    facts = replace(
        EVER_DREAM,
        players=(EVER_DREAM.players[0], replace(EVER_DREAM.players[1], name="Impostor`**")),
    )
    verdict = check(facts)
    assert verdict.refusal is Refusal.NAMES
    assert "`Impostorˋ**`" in str(verdict.message)  # quoted: inert in Discord
    assert "#7" in str(verdict.message)


def test_the_same_name_for_both_players_is_refused() -> None:
    match = replace(MATCH, player2_names=("JiaanN",))
    assert check(match=match).refusal is Refusal.NAMES


def test_a_wrong_map_is_refused() -> None:
    verdict = check(match=replace(MATCH, map_name="Polypoid"))
    assert verdict.refusal is Refusal.MAP
    assert "`Ever Dream LE`" in str(verdict.message) and "`Polypoid`" in str(verdict.message)


def test_a_map_mapping_names_the_pool_map() -> None:
    match = replace(MATCH, map_name="Eclipse")
    assert check(match=match).refusal is Refusal.MAP
    assert check(match=match, maps={map_key("Ever Dream LE"): "Eclipse"}).verified


def test_map_names_are_normalised() -> None:
    assert map_key("Abyssal Reef LE") == map_key("abyssal-reef") == "abyssalreef"
    assert map_key("Lost and Found LE") == map_key("Lost And Found")


def test_swapped_races_are_refused() -> None:
    match = replace(MATCH, player1_race="sc2_zerg", player2_race="sc2_terran")
    verdict = check(match=match)
    assert verdict.refusal is Refusal.RACE
    assert "`JiaanN`" in str(verdict.message) and "`Terran`" in str(verdict.message)


def test_a_race_the_mapping_cannot_tell_apart_is_not_checked() -> None:
    match = replace(MATCH, player1_race="bw_terran", player2_race="bw_protoss")
    assert check(match=match).verified


def test_a_game_played_before_the_match_was_made_is_refused() -> None:
    verdict = check(match=replace(MATCH, created_at=START + timedelta(hours=1)))
    assert verdict.refusal is Refusal.TOO_EARLY
    assert "before match #7" in str(verdict.message)


def test_a_few_minutes_of_clock_difference_are_allowed() -> None:
    assert check(match=replace(MATCH, created_at=START + timedelta(minutes=4))).verified


def test_a_game_started_after_the_report_deadline_is_refused() -> None:
    verdict = check(match=replace(MATCH, report_deadline=START - timedelta(minutes=1)))
    assert verdict.refusal is Refusal.TOO_LATE


def test_a_game_against_the_computer_is_refused() -> None:
    facts = replace(
        EVER_DREAM,
        players=(
            ReplayPlayer("Strider", "Protoss", "Loss", True, 1),
            ReplayPlayer("A.I. 1 (Very Easy)", "Terran", "Win", False, 2),
        ),
    )
    verdict = check(facts)
    assert verdict.refusal is Refusal.COMPUTER
    assert "computer" in str(verdict.message)


def test_a_coop_mission_is_refused_as_coop() -> None:
    amon = ReplayPlayer("Amon's Forces", "Protoss", None, False, 1)
    facts = replace(
        EVER_DREAM,
        game_type="3v4",
        players=(
            ReplayPlayer("daniel", "Terran", None, True, 1),
            ReplayPlayer("TalvNNN", "Zerg", None, True, 2),
            *([amon] * 5),
        ),
    )
    verdict = check(facts)
    assert verdict.refusal is Refusal.COOP
    assert "co-op" in str(verdict.message)


def test_a_team_game_of_people_is_refused_as_not_1v1() -> None:
    facts = replace(EVER_DREAM, players=EVER_DREAM.players * 2, game_type="2v2")
    assert check(facts).refusal is Refusal.NOT_1V1


def test_a_replay_without_a_winner_is_refused() -> None:
    facts = replace(EVER_DREAM, players=tuple(replace(p, result=None) for p in EVER_DREAM.players))
    assert check(facts).refusal is Refusal.NO_RESULT


def test_a_tie_is_a_draw() -> None:
    facts = replace(EVER_DREAM, players=tuple(replace(p, result="Tie") for p in EVER_DREAM.players))
    assert check(facts).result is Result.DRAW


def test_facts_survive_their_json_shape() -> None:
    assert facts_from_dict(EVER_DREAM.to_dict()) == EVER_DREAM
    with pytest.raises((KeyError, TypeError, ValueError)):
        facts_from_dict({"players": [{"name": 3, "race": "x", "human": True}], "map": "m"})


def test_battletag_name() -> None:
    assert battletag_name("Rairden#1234") == "Rairden"
    assert battletag_name(None) is None


BASE = 'season.map_pool = ["Ever Dream", "Eclipse"]\nseason.max_vetoes = 1\n'


def test_the_replay_settings_default_to_report() -> None:
    config = parse_ladder_config(tomllib.loads(BASE))
    assert config.replay.mode == "report"
    assert config.replay.max_bytes == 5 * 1024 * 1024
    assert dict(config.replay.races)["terran"] == "sc2_terran"


def test_the_replay_settings_read_mode_maps_and_races() -> None:
    text = BASE + (
        '[replay]\nmode = "decides"\nmax_bytes = 1000\n'
        '[replay.maps]\n"Ever Dream LE (2020)" = "Eclipse"\n'
        '[replay.races]\nTerran = "bw_terran"\n'
    )
    config = parse_ladder_config(tomllib.loads(text))
    assert config.replay.mode == "decides"
    assert config.replay.max_bytes == 1000
    assert config.replay.maps == ((map_key("Ever Dream LE (2020)"), "Eclipse"),)
    assert config.replay.races == (("terran", "bw_terran"),)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[replay]\nmode = "always"\n', "replay.mode"),
        ("[replay]\nmax_bytes = 0\n", "replay.max_bytes"),
        ("[replay]\nmax_byte = 5\n", "replay.max_byte"),
        ('[replay.races]\nTerran = "sc3_terran"\n', "replay.races.Terran"),
    ],
)
def test_bad_replay_settings_name_the_key(extra: str, key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_ladder_config(tomllib.loads(BASE + extra))
    assert refused.value.field == key
