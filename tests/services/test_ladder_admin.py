"""Admin use cases: rulings and corrections with replays, MMR adjustments, bans, the log."""

from __future__ import annotations

import asyncio
import json

import pytest

from ladder.errors import ConflictError, NotFoundError, ValidationError
from ladder.rating import LoggedAdjustment, LoggedMatch, RatingChange, Result, replay_log
from ladder.reports import (
    Corrected,
    Decision,
    Finalised,
    Invalidated,
    MatchStatus,
    WrongStateError,
)

from .conftest import CONFIG

R = "bw_terran"
RATING = CONFIG.rating


async def admin_rows(ladder) -> list[tuple]:
    return await ladder.rows(
        "SELECT admin_uid, action, target, reason FROM admin_actions ORDER BY id"
    )


async def mmrs(svc, *uids: int) -> dict[int, int]:
    return {uid: (await svc.admin.player_ratings(uid))[0].mmr for uid in uids}


def logged(match, result=None) -> LoggedMatch:
    return LoggedMatch(
        match.id,
        (match.player1_uid, match.player1_race),
        (match.player2_uid, match.player2_race),
        result or match.result,
    )


async def test_ruling_on_a_dispute_rates_and_resolves_it(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 1, "win")
    await svc.matches.report(match.id, 2, "win")
    clock.advance(hours=3)
    update = await svc.admin.resolve_match(9, match.id, "p2_win", "replay")
    assert update.events == [Finalised(Result.P2_WIN, Decision.ADMIN)]
    assert update.match.status is MatchStatus.FINISHED
    assert update.match.decided_by is Decision.ADMIN and update.match.ended_at == clock.now
    assert update.rating_changes == [
        RatingChange((1, R), 1500, 1480),
        RatingChange((2, R), 1500, 1520),
    ]
    d = update.dispute
    assert (d.status, d.ruling, d.ruled_by, d.ruled_at, d.reason) == (
        "resolved", "p2_win", 9, clock.now, "replay",
    )  # fmt: skip
    assert await svc.admin.open_disputes() == []
    ((details,),) = await ladder.rows("SELECT details FROM admin_actions")
    assert json.loads(details) == {
        "ruling": "p2_win",
        "before": {"status": "disputed", "result": None},
        "after": {"status": "finished", "result": "p2_win"},
        "rating_changes": [[1, R, 1500, 1480], [2, R, 1500, 1520]],
    }
    await ladder.assert_ratings_replay()


async def test_rulings_on_other_states(ladder, svc, clock):
    pending = await ladder.match_between(1, 2, confirm=False)
    with pytest.raises(WrongStateError):
        await svc.admin.resolve_match(9, pending.id, "p1_win", "too early")
    with pytest.raises(ValidationError):
        await svc.admin.resolve_match(9, pending.id, "p3_win", "nonsense")
    with pytest.raises(NotFoundError):
        await svc.admin.resolve_match(9, 999, "draw", "no such match")
    await svc.matches.abort(pending.id, 1)

    live = await ladder.match_between(1, 2)
    update = await svc.admin.resolve_match(9, live.id, "draw", "agreed in chat")
    assert update.match.status is MatchStatus.FINISHED and update.dispute is None

    lost = await ladder.match_between(3, 4)
    clock.advance(hours=2)
    (timeout,) = await svc.matches.fire_due_timeouts()
    assert timeout.match.status is MatchStatus.INVALIDATED
    revived = await svc.admin.resolve_match(9, lost.id, "p1_win", "screenshot")
    assert revived.events == [Finalised(Result.P1_WIN, Decision.ADMIN)]
    same = await svc.admin.resolve_match(9, lost.id, "p1_win", "again")
    assert same.events == [] and same.rating_changes == []
    # Every ruling is logged, also the one that changed nothing; refused ones are not.
    assert [a[1] for a in await admin_rows(ladder)] == ["resolve_match"] * 3
    await ladder.assert_ratings_replay()


async def test_correcting_an_old_match_replays_every_later_one(ladder, svc, clock):
    played = []
    for a, b, winner in [(1, 2, 1), (2, 3, 2), (1, 3, None)]:
        played.append((await ladder.play(a, b, winner)).match)
        clock.advance(minutes=5)
    await svc.admin.adjust_mmr(9, 3, R, "add", 15, "compensation")
    for a, b, winner in [(2, 3, 3), (1, 3, 1)]:
        played.append((await ladder.play(a, b, winner)).match)
        clock.advance(minutes=5)
    before = {uid: await svc.admin.player_ratings(uid) for uid in (1, 2, 3)}
    first = played[0]
    flipped = Result.P2_WIN if first.result is Result.P1_WIN else Result.P1_WIN

    update = await svc.admin.resolve_match(9, first.id, flipped.value, "wrong report")
    assert update.events == [Corrected(first.result, flipped)]
    assert update.match.result is flipped and update.match.ended_at == first.ended_at

    # The same log, corrected, replayed from scratch by the pure domain.
    log = [logged(first, flipped), logged(played[1]), logged(played[2])]
    log += [LoggedAdjustment((3, R), "add", 15), logged(played[3]), logged(played[4])]
    fresh = replay_log(log, RATING.start, RATING.k_factor, RATING.divisor)
    assert await mmrs(svc, 1, 2, 3) == {uid: fresh.ratings[(uid, R)] for uid in (1, 2, 3)}
    for step in fresh.steps:
        m = await svc.matches.get_match(step.match_id)
        assert (m.player1_mmr, m.player2_mmr, m.mmr_change) == (
            step.before_1, step.before_2, step.delta,
        )  # fmt: skip
    old = {uid: before[uid][0].mmr for uid in (1, 2, 3)}
    assert update.rating_changes == [
        RatingChange((uid, R), old[uid], fresh.ratings[(uid, R)])
        for uid in (1, 2, 3)
        if old[uid] != fresh.ratings[(uid, R)]
    ]
    # The listener hears of every rating row that moved, and of both players' new records.
    told = {c.key[0] for c in update.rating_changes} | {first.player1_uid, first.player2_uid}
    assert ladder.changed[-1] == [(await svc.admin.player_ratings(uid))[0] for uid in sorted(told)]
    await ladder.assert_ratings_replay()

    # W/L/D follow the corrected result; the later matches' results are untouched.
    winner_uid = first.player1_uid if flipped is Result.P1_WIN else first.player2_uid
    loser_uid = first.player2_uid if winner_uid == first.player1_uid else first.player1_uid
    assert (await svc.admin.player_ratings(winner_uid))[0].wins == before[winner_uid][0].wins + 1
    assert (await svc.admin.player_ratings(loser_uid))[0].losses == before[loser_uid][0].losses + 1


async def test_invalidating_a_rated_match_removes_it_and_replays(ladder, svc, clock):
    first = (await ladder.play(1, 2, 1)).match
    clock.advance(minutes=5)
    second = (await ladder.play(2, 3, 2)).match
    clock.advance(minutes=5)
    update = await svc.admin.resolve_match(9, first.id, "invalidate", "smurf")
    assert update.events == [Invalidated(first.result, Decision.ADMIN)]
    assert update.match.status is MatchStatus.INVALIDATED
    assert update.match.result is None and update.match.mmr_change is None
    assert await ladder.rows("SELECT match_id FROM rating_log") == [(second.id,)]
    r1 = (await svc.admin.player_ratings(1))[0]
    assert (r1.mmr, r1.games, r1.wins, r1.last_played_at) == (1500, 0, 0, None)
    r2 = (await svc.admin.player_ratings(2))[0]
    assert (r2.games, r2.wins, r2.losses, r2.last_played_at) == (1, 1, 0, second.ended_at)
    assert (await svc.matches.get_match(second.id)).player1_mmr == 1500  # replayed from 1500
    await ladder.assert_ratings_replay()


async def test_adjust_mmr_is_logged_and_replays(ladder, svc):
    await ladder.play(1, 2, 1)
    assert await svc.admin.adjust_mmr(9, 1, R, "subtract", 30, "penalty") == RatingChange(
        (1, R), 1520, 1490
    )
    assert await svc.admin.adjust_mmr(9, 1, R, "add", 5, "bonus") == RatingChange(
        (1, R), 1490, 1495
    )
    assert await svc.admin.adjust_mmr(9, 2, "sc2_zerg", "set", 1800, "ex-pro") == RatingChange(
        (2, "sc2_zerg"), 1500, 1800
    )
    assert ladder.changed[-1][0].mmr == 1800
    assert await ladder.rows(
        "SELECT discord_uid, race, adjustment, amount FROM rating_log WHERE match_id IS NULL"
    ) == [(1, R, "add", -30), (1, R, "add", 5), (2, "sc2_zerg", "set", 1800)]
    await ladder.play(1, 2, 2)
    await ladder.assert_ratings_replay()


async def test_adjust_mmr_refusals(ladder, svc):
    with pytest.raises(ValidationError):
        await svc.admin.adjust_mmr(9, 1, "murloc", "set", 1500, "x")
    with pytest.raises(ValidationError):
        await svc.admin.adjust_mmr(9, 1, R, "multiply", 2, "x")
    with pytest.raises(ValidationError):
        await svc.admin.adjust_mmr(9, 1, R, "add", -5, "x")
    with pytest.raises(ValidationError):
        await svc.admin.adjust_mmr(9, 1, R, "add", 0, "x")
    with pytest.raises(NotFoundError):
        await svc.admin.adjust_mmr(9, 777, R, "set", 1500, "x")
    with pytest.raises(ValidationError, match="below 0: it is 1500 now"):  # a bug, now refused
        await svc.admin.adjust_mmr(9, 1, R, "subtract", 1501, "x")
    assert await admin_rows(ladder) == []
    assert await svc.admin.player_ratings(1) == []  # not even a rating row for the race
    await svc.admin.adjust_mmr(9, 1, R, "subtract", 1500, "down to zero is allowed")
    with pytest.raises(ValidationError, match="below 0: it is 0 now"):
        await svc.admin.adjust_mmr(9, 1, R, "subtract", 1, "x")


@pytest.mark.parametrize("drift", ["mmr = 1600", "wins = 5", "last_played_at = NULL"])
async def test_the_replay_check_sees_drift(ladder, drift):
    await ladder.play(1, 2, 1)
    await ladder.assert_ratings_replay()
    async with ladder.db.transaction() as conn:
        await conn.execute(f"UPDATE ratings SET {drift} WHERE discord_uid = 1")
    with pytest.raises(AssertionError):
        await ladder.assert_ratings_replay()


async def test_ban_unqueues_and_unban(ladder, svc):
    await svc.queue.join_queue(1, [R], [])
    assert await svc.admin.ban(9, 1, "cheating") is True
    assert (await ladder.players.get(1)).banned
    assert await svc.queue.queue_status(1) is None
    assert await svc.admin.ban(9, 1, "again") is False
    assert await svc.admin.unban(9, 1, "appeal") is True
    assert not (await ladder.players.get(1)).banned
    logged_changes = await ladder.rows(
        "SELECT setting, new_value, changed_by FROM player_action_logs WHERE setting = 'banned'"
    )
    assert logged_changes == [("banned", "yes", 9), ("banned", "no", 9)]


async def test_queue_admin(ladder, svc):
    for uid in (1, 2, 3):
        await svc.queue.join_queue(uid, [R], [])
    assert await svc.admin.remove_from_queue(9, 1, "afk") is True
    assert await svc.admin.remove_from_queue(9, 1, "afk") is False
    assert await svc.admin.clear_queue(9, "maintenance") == 2
    assert await ladder.queue() == []
    ((details,),) = await ladder.rows(
        "SELECT details FROM admin_actions WHERE action = 'clear_queue'"
    )
    assert json.loads(details) == {"removed": [2, 3]}


async def test_reset_aborts(ladder, svc):
    match = await ladder.match_between(1, 2, confirm=False)
    await svc.matches.abort(match.id, 1)
    assert await svc.matches.aborts_left(1) == 2
    assert await svc.admin.reset_aborts(9, 1, "bug") == 3
    assert await svc.matches.aborts_left(1) == 3


async def test_every_admin_action_writes_one_row(ladder, svc):
    match = await ladder.match_between(1, 2)
    actions = [
        svc.admin.resolve_match(9, match.id, "p1_win", "r1"),
        svc.admin.adjust_mmr(9, 1, R, "add", 10, "r2"),
        svc.admin.ban(9, 3, "r3"),
        svc.admin.unban(9, 3, "r4"),
        svc.admin.remove_from_queue(9, 4, "r5"),
        svc.admin.clear_queue(9, "r6"),
        svc.admin.reset_aborts(9, 4, "r7"),
    ]
    for count, action in enumerate(actions, start=1):
        await action
        assert len(await admin_rows(ladder)) == count
    assert await admin_rows(ladder) == [
        (9, "resolve_match", f"match:{match.id}", "r1"),
        (9, "adjust_mmr", "player:1", "r2"),
        (9, "ban", "player:3", "r3"),
        (9, "unban", "player:3", "r4"),
        (9, "remove_from_queue", "player:4", "r5"),
        (9, "clear_queue", "queue", "r6"),
        (9, "reset_aborts", "player:4", "r7"),
    ]
    adjust = await ladder.rows(
        "SELECT a.id FROM admin_actions AS a JOIN rating_log AS l ON l.admin_action_id = a.id"
    )
    assert len(adjust) == 1


async def test_lookup_player(ladder, svc):
    with pytest.raises(NotFoundError):
        await svc.admin.lookup_player(777)
    match = await ladder.match_between(1, 2, confirm=False)
    await svc.admin.adjust_mmr(9, 1, "sc2_zerg", "set", 1700, "seeded")
    look = await svc.admin.lookup_player(1)
    assert look.player.discord_uid == 1
    assert [(r.race, r.mmr) for r in look.ratings] == [("sc2_zerg", 1700), (R, 1500)]
    assert look.queue is None and look.open_match == match and look.aborts_left == 3
    (action,) = look.recent_actions
    assert (action.action, action.details["new"], action.reason) == ("adjust_mmr", 1700, "seeded")
    await svc.queue.join_queue(3, [R], [])
    assert (await svc.admin.lookup_player(3)).queue.races == (R,)


async def test_a_ruling_is_one_transaction(ladder, svc, monkeypatch):
    match = await ladder.match_between(1, 2)

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(svc.admin._admin, "record", broken)
    with pytest.raises(RuntimeError):
        await svc.admin.resolve_match(9, match.id, "p1_win", "x")
    assert (await svc.matches.get_match(match.id)).status is MatchStatus.IN_PROGRESS
    assert await ladder.rows("SELECT COUNT(*) FROM rating_log") == [(0,)]
    assert [r.mmr for r in await svc.admin.player_ratings(1)] == [1500]


async def test_conflict_error_is_a_ladder_error(ladder, svc):
    match = await ladder.match_between(1, 2, confirm=False)
    with pytest.raises(ConflictError):
        await svc.admin.resolve_match(9, match.id, "draw", "not started")


# --- confirmations carry the state they asked about -------------------------------------------


async def test_a_ruling_confirmed_against_a_stale_match_is_refused(ladder, svc):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 1, "win")
    await svc.matches.report(match.id, 2, "win")
    shown = await svc.matches.get_match(match.id)  # what both admins were asked about: disputed
    first = await svc.admin.resolve_match(9, match.id, "p1_win", "replay", expected=shown)
    assert first.match.result is Result.P1_WIN
    rated = await mmrs(svc, 1, 2)
    assert rated == {1: 1520, 2: 1480}

    with pytest.raises(ConflictError) as refused:
        await svc.admin.resolve_match(8, match.id, "p2_win", "my replay", expected=shown)
    assert refused.value.user_message == (
        f"Match #{match.id} changed since you asked: it is now finished (p1_win). "
        "Nothing was changed; run the command again."
    )
    after = await svc.matches.get_match(match.id)
    assert (after.status, after.result) == (MatchStatus.FINISHED, Result.P1_WIN)
    assert await mmrs(svc, 1, 2) == rated
    assert await admin_rows(ladder) == [(9, "resolve_match", f"match:{match.id}", "replay")]
    ((ruling, ruled_by),) = await ladder.rows("SELECT ruling, ruled_by FROM disputes")
    assert (ruling, ruled_by) == ("p1_win", 9)

    # Asked again, about the match as it is now, the correction goes through.
    fresh = await svc.admin.resolve_match(8, match.id, "p2_win", "my replay", expected=after)
    assert fresh.match.result is Result.P2_WIN
    assert await mmrs(svc, 1, 2) == {1: 1480, 2: 1520}


async def test_a_ruling_after_an_invalidation_sees_the_changed_status(ladder, svc):
    update = await ladder.play(1, 2, 1)
    shown = update.match  # finished, p1_win
    await svc.admin.resolve_match(9, shown.id, "invalidate", "smurf")
    with pytest.raises(ConflictError, match=r"it is now invalidated\. Nothing was changed"):
        await svc.admin.resolve_match(8, shown.id, "p2_win", "late", expected=shown)
    assert (await svc.matches.get_match(shown.id)).status is MatchStatus.INVALIDATED
    assert len(await admin_rows(ladder)) == 1


async def test_an_mmr_adjustment_confirmed_against_a_stale_mmr_is_refused(ladder, svc):
    # No rating yet: the admin was shown "no rating yet".
    first = await svc.admin.adjust_mmr(9, 1, R, "add", 50, "bonus", expected=None)
    assert first == RatingChange((1, R), 1500, 1550)
    with pytest.raises(ConflictError) as refused:
        await svc.admin.adjust_mmr(9, 1, R, "add", 50, "bonus", expected=None)
    assert refused.value.user_message == (
        f"This player's {R} MMR changed since you asked: it is now 1550. "
        "Nothing was changed; run the command again."
    )
    with pytest.raises(ConflictError, match="it is now unrated"):
        await svc.admin.adjust_mmr(9, 2, R, "set", 1700, "seed", expected=1500)
    assert await svc.admin.player_ratings(2) == []  # the refusal created no rating either
    assert await mmrs(svc, 1) == {1: 1550}
    assert await admin_rows(ladder) == [(9, "adjust_mmr", "player:1", "bonus")]
    assert await ladder.rows("SELECT amount FROM rating_log") == [(50,)]
    # The MMR it is now: applied.
    assert await svc.admin.adjust_mmr(9, 1, R, "subtract", 20, "x", expected=1550) == RatingChange(
        (1, R), 1550, 1530
    )


async def test_two_confirmations_of_one_adjustment_at_once_apply_it_once(ladder, svc):
    results = await asyncio.gather(
        svc.admin.adjust_mmr(9, 1, R, "add", 50, "double click", expected=None),
        svc.admin.adjust_mmr(9, 1, R, "add", 50, "double click", expected=None),
        return_exceptions=True,
    )
    applied = [r for r in results if isinstance(r, RatingChange)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert applied == [RatingChange((1, R), 1500, 1550)] and len(refused) == 1, results
    assert await mmrs(svc, 1) == {1: 1550}
    assert len(await admin_rows(ladder)) == 1
