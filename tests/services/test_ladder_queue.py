"""Queue use cases: joining, refusals, preferences, waves, and a cancel racing a wave."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from ladder.errors import ConflictError, ValidationError
from ladder.records import QueuePreferences
from ladder.reports import MatchStatus

from .conftest import CONFIG, MAPS, T0


async def test_preferences_default_then_remembered(svc):
    assert await svc.queue.queue_preferences(1) == QueuePreferences(("bw_terran",), ())
    await svc.queue.join_queue(1, ["sc2_zerg", "bw_zerg"], [MAPS[1], MAPS[0]])
    # Stored in config order, whatever order the menu returned them in.
    expected = QueuePreferences(("bw_zerg", "sc2_zerg"), (MAPS[0], MAPS[1]))
    assert await svc.queue.queue_preferences(1) == expected
    await svc.queue.leave_queue(1)
    assert await svc.queue.queue_preferences(1) == expected


async def test_join_creates_ratings_at_start_and_an_entry(svc, clock):
    status = await svc.queue.join_queue(1, ["bw_zerg", "sc2_terran"], [MAPS[2]])
    assert status.uid == 1 and status.joined_at == T0 and status.waves_waited == 0
    assert status.races == ("bw_zerg", "sc2_terran") and status.vetoes == (MAPS[2],)
    assert await svc.queue.queue_status(1) == status
    ratings = await svc.admin.player_ratings(1)
    assert {(r.race, r.mmr, r.games) for r in ratings} == {
        ("bw_zerg", 1500, 0),
        ("sc2_terran", 1500, 0),
    }


async def test_refusals(ladder, svc):
    with pytest.raises(ValidationError, match="not a race"):
        await svc.queue.join_queue(1, ["murloc"], [])
    with pytest.raises(ValidationError, match="at least one race"):
        await svc.queue.join_queue(1, [], [])
    with pytest.raises(ValidationError, match="at most 2"):
        await svc.queue.join_queue(1, ["bw_zerg"], list(MAPS[:3]))
    with pytest.raises(ValidationError, match="not in this season"):
        await svc.queue.join_queue(1, ["bw_zerg"], ["Lost Temple"])
    assert await svc.queue.queue_status(1) is None  # nothing was written

    await svc.queue.join_queue(1, ["bw_zerg"], [])
    with pytest.raises(ConflictError, match="already in the queue"):
        await svc.queue.join_queue(1, ["bw_zerg"], [])

    match = await ladder.match_between(3, 4, confirm=False)
    with pytest.raises(ConflictError, match=f"in match #{match.id}"):
        await svc.queue.join_queue(3, ["bw_zerg"], [])


async def test_queue_rule_is_one_check_with_one_wording(ladder, svc):
    await svc.queue.check_free_to_queue(1)  # free: no error
    match = await ladder.match_between(3, 4, confirm=False)
    await svc.queue.join_queue(1, ["bw_zerg"], [])
    refusals = {
        1: "You are already in the queue. Use its Cancel button to leave.",
        3: f"You are in match #{match.id}: finish or abort it first.",
    }
    for uid, words in refusals.items():
        with pytest.raises(ConflictError) as asked:  # what /queue asks before its menu
            await svc.queue.check_free_to_queue(uid)
        with pytest.raises(ConflictError) as joined:  # what Join meets in its transaction
            await svc.queue.join_queue(uid, ["bw_zerg"], [])
        assert asked.value.user_message == joined.value.user_message == words


async def test_banned_player_cannot_join(ladder, svc):
    await ladder.players.set_banned(1, True, changed_by=99)
    with pytest.raises(ConflictError, match="banned"):
        await svc.queue.join_queue(1, ["bw_zerg"], [])


async def test_leave_queue(ladder, svc):
    assert await svc.queue.leave_queue(1) is False
    await svc.queue.join_queue(1, ["bw_zerg"], [])
    assert await svc.queue.leave_queue(1) is True
    assert await svc.queue.queue_status(1) is None
    assert await ladder.queue() == []


async def test_queue_message_is_remembered_with_the_entry(svc):
    joined = await svc.queue.join_queue(1, ["bw_zerg"], [], message=(10, 20))
    assert (joined.channel_id, joined.message_id) == (10, 20)  # one transaction: a wave
    status = await svc.queue.queue_status(1)  # that pairs him at once finds it to edit
    assert (status.channel_id, status.message_id) == (10, 20)
    await svc.queue.join_queue(2, ["bw_zerg"], [])  # a join with no message (a guild's menu)
    status = await svc.queue.queue_status(2)
    assert (status.channel_id, status.message_id) == (None, None)


async def test_wave_pairs_two_players_and_the_rest_wait(ladder, svc, clock):
    await svc.admin.adjust_mmr(99, 3, "bw_zerg", "set", 2500, "smurf")
    for uid in (1, 2, 3):
        await svc.queue.join_queue(uid, ["bw_zerg"], [])
    made = await svc.queue.run_wave()
    assert len(made) == 1
    match = made[0]
    assert {match.player1_uid, match.player2_uid} == {1, 2}
    assert match.status is MatchStatus.AWAITING_CONFIRMATION
    assert (match.player1_mmr, match.player2_mmr) == (1500, 1500)
    assert match.map in MAPS
    assert match.created_at == T0
    assert match.confirm_deadline == T0 + CONFIG.matches.confirmation_window
    assert await svc.queue.queue_status(1) is None and await svc.queue.queue_status(2) is None
    assert (await svc.queue.queue_status(3)).waves_waited == 1
    assert await svc.matches.open_match_of(1) == match
    assert await svc.matches.open_match_of(3) is None
    assert await svc.queue.run_wave() == []
    assert (await svc.queue.queue_status(3)).waves_waited == 2


async def test_wave_respects_vetoes(svc):
    await svc.queue.join_queue(1, ["bw_zerg"], list(MAPS[:2]))
    await svc.queue.join_queue(2, ["bw_zerg"], list(MAPS[2:4]))
    (match,) = await svc.queue.run_wave()
    assert match.map == MAPS[4]


async def test_wave_never_pairs_banned_or_busy_players(ladder, svc):
    await ladder.match_between(3, 4, confirm=False)
    await svc.queue.join_queue(1, ["bw_zerg"], [])
    await svc.queue.join_queue(2, ["bw_zerg"], [])
    # Banned behind the service's back (not via /admin ban, which also unqueues).
    await ladder.players.set_banned(2, True, changed_by=99)
    assert await svc.queue.run_wave() == []
    assert (await svc.queue.queue_status(1)).waves_waited == 1
    # A queue entry of a player already in a match (impossible through join_queue).
    await ladder.players.set_banned(2, False, changed_by=99)
    async with ladder.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO queue_entries (discord_uid, races, vetoes, joined_at)"
            " VALUES (3, '[\"bw_zerg\"]', '[]', '2025-03-10 12:00:00.000')"
        )
    made = await svc.queue.run_wave()
    assert [(m.player1_uid, m.player2_uid) for m in made] == [(1, 2)]
    assert await svc.queue.queue_status(3) is not None


@pytest.mark.parametrize("leave_first", [True, False])
async def test_cancel_racing_a_wave_never_matches_a_player_who_left(svc, leave_first):
    await svc.queue.join_queue(1, ["bw_zerg"], [])
    await svc.queue.join_queue(2, ["bw_zerg"], [])
    if leave_first:
        left, made = await asyncio.gather(svc.queue.leave_queue(1), svc.queue.run_wave())
    else:
        made, left = await asyncio.gather(svc.queue.run_wave(), svc.queue.leave_queue(1))
    if leave_first:
        assert left is True and made == []
    else:
        assert left is False and len(made) == 1  # matched first: nothing left to cancel
    assert (await svc.matches.open_match_of(1) is None) == left


async def test_a_wave_prefers_an_opponent_not_met_lately_and_another_map(ladder, svc, clock):
    # 1 and 2 played a moment ago; with 3 also queued at the same rating, 1 meets 3.
    first = await ladder.match_between(1, 2)
    await svc.matches.report(first.id, 1, "draw")
    await svc.matches.report(first.id, 2, "draw")
    clock.advance(minutes=1)
    for uid in (1, 2, 3):
        await svc.queue.join_queue(uid, ["bw_terran"], [])
    recent = await svc.core.matches.recent_pairings(
        ladder.db.conn, clock.now - timedelta(minutes=30)
    )
    assert recent.rematches == {(1, 2)} and recent.last_maps == {(1, 2): first.map}
    made = await svc.queue.run_wave()
    assert len(made) == 1 and {made[0].player1_uid, made[0].player2_uid} == {1, 3}


async def test_the_same_two_players_never_get_the_same_map_twice_in_a_row(ladder, svc, clock):
    maps = []
    for _ in range(8):
        maps.append((await ladder.play(1, 2, winner=1)).match.map)
        clock.advance(minutes=1)  # alone in the queue, they meet again within the window
    assert all(a != b for a, b in itertools.pairwise(maps)), maps
