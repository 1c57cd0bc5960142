"""A restart loses nothing: queue, pending matches and their deadlines live in the file."""

from __future__ import annotations

from ladder.rating import Result
from ladder.reports import Decision, MatchStatus

from .conftest import CONFIG, T0


async def test_restart_keeps_queue_matches_and_deadlines(ladder, clock):
    svc = ladder.service
    await ladder.add_players(5, 6)
    pending = await ladder.match_between(2, 3, confirm=False)
    await svc.matches.confirm(pending.id, 2)
    await svc.matches.record_match_message(pending.id, 2, 20, 21)
    clock.advance(seconds=30)
    live = await ladder.match_between(5, 6)
    await svc.matches.report(live.id, 6, "win")
    await svc.queue.join_queue(1, ["bw_zerg"], ["Eclipse"], message=(10, 11))
    queue_before = await ladder.queue()
    open_before = await svc.matches.open_matches()
    assert await svc.matches.next_deadline() == T0 + CONFIG.matches.confirmation_window

    await ladder.close()
    svc = await ladder.open()  # a new process: new connection, new service, empty caches

    assert await ladder.queue() == queue_before
    assert (await svc.queue.queue_status(1)).message_id == 11
    assert await svc.matches.open_matches() == open_before
    assert await svc.matches.match_messages(pending.id) == [(2, 20, 21)]
    assert await svc.matches.next_deadline() == T0 + CONFIG.matches.confirmation_window
    assert await svc.matches.fire_due_timeouts() == []

    clock.advance(seconds=31)  # past the confirmation deadline
    (cancelled,) = await svc.matches.fire_due_timeouts()
    assert cancelled.match.id == pending.id
    assert cancelled.match.status is MatchStatus.CANCELLED
    assert cancelled.match.no_shows == frozenset({3})
    assert await svc.matches.next_deadline() == live.report_deadline

    clock.now = live.report_deadline
    (decided,) = await svc.matches.fire_due_timeouts()
    assert decided.match.id == live.id
    assert decided.match.result is Result.P2_WIN
    assert decided.match.decided_by is Decision.SINGLE_REPORT
    assert [r.mmr for r in await svc.admin.player_ratings(6)] == [1520]
    assert await svc.matches.next_deadline() is None
    # The queued player was untouched by all this and still waits.
    assert await ladder.queue() == queue_before
