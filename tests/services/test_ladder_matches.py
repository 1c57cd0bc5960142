"""Match use cases: confirmations, reports, disputes, evidence, deadlines, aborts, races."""

from __future__ import annotations

import asyncio

import pytest

from ladder.errors import ConflictError, NotFoundError, ValidationError
from ladder.rating import RatingChange, Result
from ladder.reports import (
    Aborted,
    Cancelled,
    Confirmed,
    DeadlinePassedError,
    Decision,
    Disputed,
    Finalised,
    Invalidated,
    MatchClosedError,
    MatchStatus,
    NoAbortsLeftError,
    NotInMatchError,
    Outcome,
    ReportMismatchError,
    Started,
)

from .conftest import CONFIG, T0

REPORT_WINDOW = CONFIG.matches.report_window
CONFIRM_WINDOW = CONFIG.matches.confirmation_window


async def test_confirm_both_starts_the_match(ladder, svc, clock):
    match = await ladder.match_between(1, 2, confirm=False)
    first = await svc.matches.confirm(match.id, 1)
    assert first.events == [Confirmed(1)]
    assert first.match.player1_confirmed and not first.match.player2_confirmed
    assert first.match.status is MatchStatus.AWAITING_CONFIRMATION
    clock.advance(seconds=10)
    second = await svc.matches.confirm(match.id, 2)
    assert second.match.status is MatchStatus.IN_PROGRESS
    assert second.match.started_at == clock.now
    assert second.match.report_deadline == clock.now + REPORT_WINDOW
    assert second.events == [Confirmed(2), Started(clock.now + REPORT_WINDOW)]
    assert await svc.matches.next_deadline() == clock.now + REPORT_WINDOW


async def test_agreement_finishes_and_rates_once(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    clock.advance(minutes=20)
    first = await svc.matches.report(match.id, 1, "win")
    assert first.match.status is MatchStatus.IN_PROGRESS and first.rating_changes == []
    update = await svc.matches.report(match.id, 2, "loss")
    assert update.events[-1] == Finalised(Result.P1_WIN, Decision.AGREEMENT)
    assert update.match.status is MatchStatus.FINISHED
    assert update.match.result is Result.P1_WIN
    assert update.match.decided_by is Decision.AGREEMENT
    assert update.match.mmr_change == 20 and update.match.ended_at == clock.now
    assert update.match.mmr_change_of(2) == -20
    assert update.rating_changes == [
        RatingChange((1, "bw_terran"), 1500, 1520),
        RatingChange((2, "bw_terran"), 1500, 1480),
    ]
    (r1,) = await svc.admin.player_ratings(1)
    (r2,) = await svc.admin.player_ratings(2)
    assert (r1.mmr, r1.games, r1.wins, r1.losses, r1.draws) == (1520, 1, 1, 0, 0)
    assert (r2.mmr, r2.games, r2.wins, r2.losses, r2.draws) == (1480, 1, 0, 1, 0)
    assert r1.last_played_at == r2.last_played_at == clock.now
    assert ladder.changed[-1] == [r1, r2]
    assert await ladder.rows("SELECT match_id FROM rating_log") == [(match.id,)]

    # Double clicks change nothing, and never rate again.
    again = await svc.matches.report(match.id, 2, "loss")
    assert again.events == [] and again.rating_changes == [] and not again.changed
    assert (await svc.matches.report(match.id, 1, "win")).events == []
    assert (await svc.matches.confirm(match.id, 1)).events == []
    assert [r.mmr for r in await svc.admin.player_ratings(1)] == [1520]
    assert await ladder.rows("SELECT COUNT(*) FROM rating_log") == [(1,)]
    assert await svc.matches.open_match_of(1) is None
    await ladder.assert_ratings_replay()


async def test_draw_and_records(ladder, svc, clock):
    update = await ladder.play(1, 2, None)
    assert update.match.result is Result.DRAW and update.match.mmr_change == 0
    lost = (await ladder.play(1, 2, 2)).match
    assert lost.outcome_for(1) is Outcome.LOSS and lost.outcome_for(2) is Outcome.WIN
    records = [(await svc.admin.player_ratings(uid))[0] for uid in (1, 2)]
    assert [(r.games, r.wins, r.losses, r.draws) for r in records] == [(2, 0, 1, 1), (2, 1, 0, 1)]
    await ladder.assert_ratings_replay()


async def test_concurrent_double_clicks_rate_once(ladder, svc):
    match = await ladder.match_between(1, 2, confirm=False)
    await asyncio.gather(*(svc.matches.confirm(match.id, uid) for uid in (1, 2, 1, 2)))
    assert (await svc.matches.get_match(match.id)).status is MatchStatus.IN_PROGRESS
    await svc.matches.report(match.id, 1, "win")
    updates = await asyncio.gather(*(svc.matches.report(match.id, 2, "loss") for _ in range(4)))
    assert sum(any(isinstance(e, Finalised) for e in u.events) for u in updates) == 1
    assert [r.mmr for r in await svc.admin.player_ratings(2)] == [1480]


async def test_conflicting_reports_open_a_dispute(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 1, "win")
    update = await svc.matches.report(match.id, 2, "win")
    assert update.match.status is MatchStatus.DISPUTED
    assert update.events[-1] == Disputed(Outcome.WIN, Outcome.WIN)
    assert update.dispute is not None and update.dispute.is_open
    assert (update.dispute.player1_report, update.dispute.player2_report) == (
        Outcome.WIN,
        Outcome.WIN,
    )
    assert update.dispute.match == update.match
    assert update.rating_changes == []
    with pytest.raises(ReportMismatchError):
        await svc.matches.report(match.id, 2, "loss")
    # A disputed match does not keep its players out of the queue.
    assert await svc.matches.open_match_of(1) is None
    assert [m.id for m in await svc.matches.open_matches()] == [match.id]
    (dispute,) = await svc.admin.open_disputes()
    assert dispute.match_id == match.id and dispute.match.status is MatchStatus.DISPUTED


async def test_evidence(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    with pytest.raises(ConflictError, match="not disputed"):
        await svc.matches.add_evidence(match.id, 1, "I won", None)
    await svc.matches.report(match.id, 1, "win")
    await svc.matches.report(match.id, 2, "win")

    note = "  GG — he left at 12:03 <@123> **bold**  "
    url = "https://example.com/replay.rep?x=1&y=2"
    clock.advance(minutes=1)
    dispute = await svc.matches.add_evidence(match.id, 1, note, url)
    (evidence,) = dispute.evidence
    assert (evidence.uid, evidence.note, evidence.url) == (1, note, url)  # verbatim
    assert evidence.added_at == clock.now
    dispute = await svc.matches.add_evidence(match.id, 2, None, "http://imgur.com/a.png")
    assert [e.uid for e in dispute.evidence] == [1, 2]

    with pytest.raises(NotInMatchError):
        await svc.matches.add_evidence(match.id, 3, "me too", None)
    with pytest.raises(ValidationError, match="note, a link"):
        await svc.matches.add_evidence(match.id, 1, "  ", "")
    with pytest.raises(ValidationError, match="at most 1000"):
        await svc.matches.add_evidence(match.id, 1, "x" * 1001, None)
    with pytest.raises(ValidationError, match="http"):
        await svc.matches.add_evidence(match.id, 1, None, "javascript:alert(1)")
    with pytest.raises(ValidationError, match="http"):
        await svc.matches.add_evidence(match.id, 1, None, "https://exa mple.com")
    with pytest.raises(ValidationError, match="at most 500"):
        await svc.matches.add_evidence(match.id, 1, None, "https://e.com/" + "a" * 500)
    # A lone surrogate (a broken client) cannot be stored as UTF-8: a clear refusal, no row.
    with pytest.raises(ValidationError, match="broken character"):
        await svc.matches.add_evidence(match.id, 1, "gg \ud800 wp", None)
    with pytest.raises(ValidationError, match="broken character"):
        await svc.matches.add_evidence(match.id, 1, None, "https://e.com/\udc00")
    with pytest.raises(NotFoundError):
        await svc.matches.add_evidence(999, 1, "x", None)
    assert len((await svc.admin.open_disputes())[0].evidence) == 2

    await svc.admin.resolve_match(9, match.id, "p1_win", "replay shows it")
    with pytest.raises(ConflictError, match="already decided"):
        await svc.matches.add_evidence(match.id, 1, "more", None)


async def test_single_report_stands_at_the_deadline(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 2, "win")
    clock.advance(minutes=59)
    assert await svc.matches.fire_due_timeouts() == []
    clock.advance(minutes=1)
    (update,) = await svc.matches.fire_due_timeouts()
    assert update.events == [Finalised(Result.P2_WIN, Decision.SINGLE_REPORT)]
    assert update.match.result is Result.P2_WIN
    assert [r.mmr for r in await svc.admin.player_ratings(2)] == [1520]
    assert await svc.matches.fire_due_timeouts() == []
    assert await svc.matches.next_deadline() is None


async def test_nobody_reports_invalidates(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    clock.advance(minutes=61)
    (update,) = await svc.matches.fire_due_timeouts()
    assert update.events == [Invalidated(None, Decision.NO_REPORTS)]
    assert update.match.status is MatchStatus.INVALIDATED
    assert update.rating_changes == []
    assert [r.games for r in await svc.admin.player_ratings(1)] == [0]
    with pytest.raises(MatchClosedError):
        await svc.matches.report(match.id, 1, "win")


async def test_late_report_is_refused_even_before_the_timer_fires(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    clock.advance(minutes=60)
    with pytest.raises(DeadlinePassedError):
        await svc.matches.report(match.id, 1, "win")
    (update,) = await svc.matches.fire_due_timeouts()
    assert update.match.status is MatchStatus.INVALIDATED


async def test_confirmation_timeout_cancels_without_spending_an_abort(ladder, svc, clock):
    match = await ladder.match_between(1, 2, confirm=False)
    await svc.matches.confirm(match.id, 1)
    assert await svc.matches.next_deadline() == T0 + CONFIRM_WINDOW
    clock.advance(seconds=61)
    (update,) = await svc.matches.fire_due_timeouts()
    assert update.events == [Cancelled(frozenset({2}))]
    assert update.match.status is MatchStatus.CANCELLED
    assert update.match.no_shows == frozenset({2})
    assert update.match.ended_at == clock.now
    assert await svc.matches.aborts_left(1) == await svc.matches.aborts_left(2) == 3
    await svc.queue.join_queue(1, ["bw_terran"], [])  # free to queue again
    with pytest.raises(MatchClosedError):
        await svc.matches.confirm(match.id, 2)


async def test_aborts_are_spent_refused_at_zero_and_refill_next_month(ladder, svc, clock):
    clock.now = T0.replace(day=31, hour=23, minute=30)
    assert await svc.matches.aborts_left(1) == 3
    for left in (2, 1, 0):
        match = await ladder.match_between(1, 2, confirm=False)
        update = await svc.matches.abort(match.id, 1)
        assert update.events == [Aborted(1)]
        assert update.match.status is MatchStatus.ABORTED and update.match.aborted_by == 1
        assert (await svc.matches.abort(match.id, 1)).events == []  # double click spends nothing
        assert await svc.matches.aborts_left(1) == left
    assert await svc.matches.aborts_left(2) == 3

    match = await ladder.match_between(1, 2)
    with pytest.raises(NoAbortsLeftError):
        await svc.matches.abort(match.id, 1)
    assert (await svc.matches.get_match(match.id)).status is MatchStatus.IN_PROGRESS

    clock.advance(minutes=40)  # April 1st, 00:10 UTC
    assert await svc.matches.aborts_left(1) == 3
    await svc.matches.report(match.id, 1, "win")  # a report closes the abort window
    with pytest.raises(ConflictError, match="already reported"):
        await svc.matches.abort(match.id, 1)


async def test_unknown_match_and_strangers(ladder, svc):
    with pytest.raises(NotFoundError):
        await svc.matches.get_match(42)
    with pytest.raises(NotFoundError):
        await svc.matches.confirm(42, 1)
    match = await ladder.match_between(1, 2, confirm=False)
    with pytest.raises(NotInMatchError):
        await svc.matches.confirm(match.id, 3)
    with pytest.raises(ValidationError):
        await svc.matches.report(match.id, 1, "won")


async def test_report_racing_the_deadline_rates_once(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 1, "win")
    clock.advance(minutes=60)
    results = await asyncio.gather(
        svc.matches.report(match.id, 2, "loss"),
        svc.matches.fire_due_timeouts(),
        return_exceptions=True,
    )
    assert isinstance(results[0], DeadlinePassedError)  # at the deadline: too late
    assert await ladder.rows("SELECT COUNT(*) FROM rating_log") == [(1,)]
    assert [r.games for r in await svc.admin.player_ratings(2)] == [1]


async def test_a_ruling_racing_a_late_report(ladder, svc, clock):
    match = await ladder.match_between(1, 2)
    await svc.matches.report(match.id, 1, "win")
    ruling, late = await asyncio.gather(
        svc.admin.resolve_match(9, match.id, "p2_win", "stream shows p2 won"),
        svc.matches.report(match.id, 2, "loss"),
        return_exceptions=True,
    )
    # The ruling came first: the match is closed when the report arrives.
    assert ruling.match.result is Result.P2_WIN
    assert isinstance(late, MatchClosedError)
    assert await ladder.rows("SELECT COUNT(*) FROM rating_log") == [(1,)]
    assert [r.mmr for r in await svc.admin.player_ratings(2)] == [1520]
    assert await svc.matches.fire_due_timeouts() == []
    await ladder.assert_ratings_replay()


async def test_match_messages(ladder, svc):
    match = await ladder.match_between(1, 2, confirm=False)
    await svc.matches.record_match_message(match.id, 1, 100, 1000)
    await svc.matches.record_match_message(match.id, 2, 200, 2000)
    await svc.matches.record_match_message(match.id, 1, 100, 1001)  # re-sent: replaces
    assert await svc.matches.match_messages(match.id) == [(1, 100, 1001), (2, 200, 2000)]


async def test_a_failing_listener_does_not_fail_the_use_case(ladder, svc, caplog):
    def boom(rows):
        raise RuntimeError("leaderboard down")

    svc.core.on_ratings_changed = boom
    update = await ladder.play(1, 2, 1)
    assert update.match.status is MatchStatus.FINISHED
    assert "on_ratings_changed failed" in caplog.text
