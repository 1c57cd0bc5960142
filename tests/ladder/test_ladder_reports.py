"""Tests for ladder.reports: the match state machine with an injected clock, and aborts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.errors import ConflictError
from ladder.rating import Result
from ladder.reports import (
    Abort,
    Aborted,
    AdminRuling,
    Cancelled,
    Confirm,
    ConfirmationTimeout,
    Confirmed,
    Corrected,
    DeadlinePassedError,
    Decision,
    Disputed,
    Finalised,
    Invalidated,
    MatchClosedError,
    MatchState,
    MatchStatus,
    NoAbortsLeftError,
    NotInMatchError,
    Outcome,
    Report,
    Reported,
    ReportMismatchError,
    ReportTimeout,
    Ruling,
    Started,
    WrongStateError,
    aborts_left,
    apply_event,
    due_timeout,
    month_key,
    next_deadline,
    result_from_report,
)

P1, P2, STRANGER, ADMIN = 11, 22, 33, 99
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONFIRM = timedelta(seconds=60)
REPORT = timedelta(minutes=60)


def at(seconds: float) -> datetime:
    """Return the time `seconds` after the match was created."""
    return T0 + timedelta(seconds=seconds)


def fresh() -> MatchState:
    """Return a new match awaiting confirmation, created at T0 (as MatchRecord.state makes it)."""
    return MatchState(7, P1, P2, MatchStatus.AWAITING_CONFIRMATION, T0 + CONFIRM, REPORT)


def started() -> MatchState:
    """Return a match both players confirmed 10 s after creation."""
    state, _ = apply_event(fresh(), Confirm(P1), at(5))
    state, _ = apply_event(state, Confirm(P2), at(10))
    return state


def test_a_new_match_awaits_both_confirmations() -> None:
    s = fresh()
    assert s.status is MatchStatus.AWAITING_CONFIRMATION
    assert s.confirm_deadline == at(60)
    assert next_deadline(s) == at(60)
    with pytest.raises(ValueError):
        MatchState(1, P1, P1, MatchStatus.AWAITING_CONFIRMATION, T0 + CONFIRM, REPORT)
    with pytest.raises(ValueError):
        apply_event(s, Confirm(P1), datetime(2025, 1, 1))  # naive time


def test_both_confirm_starts_the_match() -> None:
    s1, fx1 = apply_event(fresh(), Confirm(P1), at(5))
    assert fx1 == (Confirmed(P1),)
    assert s1.status is MatchStatus.AWAITING_CONFIRMATION
    s2, fx2 = apply_event(s1, Confirm(P2), at(10))
    assert fx2 == (Confirmed(P2), Started(at(10) + REPORT))
    assert s2.status is MatchStatus.IN_PROGRESS
    assert s2.report_deadline == at(10) + REPORT
    assert next_deadline(s2) == s2.report_deadline


def test_agreeing_reports_finish_the_match() -> None:
    s, fx = apply_event(started(), Report(P1, Outcome.WIN), at(600))
    assert fx == (Reported(P1, Outcome.WIN),)
    s, fx = apply_event(s, Report(P2, Outcome.LOSS), at(610))
    assert fx == (Reported(P2, Outcome.LOSS), Finalised(Result.P1_WIN, Decision.AGREEMENT))
    assert (s.status, s.result, s.decided_by) == (
        MatchStatus.FINISHED, Result.P1_WIN, Decision.AGREEMENT,
    )  # fmt: skip
    assert next_deadline(s) is None


@pytest.mark.parametrize(
    ("o1", "o2", "result"),
    [
        (Outcome.LOSS, Outcome.WIN, Result.P2_WIN),
        (Outcome.DRAW, Outcome.DRAW, Result.DRAW),
        (Outcome.WIN, Outcome.LOSS, Result.P1_WIN),
    ],
)
def test_agreement_in_either_order(o1: Outcome, o2: Outcome, result: Result) -> None:
    s, _ = apply_event(started(), Report(P2, o2), at(600))
    s, fx = apply_event(s, Report(P1, o1), at(610))
    assert s.result is result
    assert fx[-1] == Finalised(result, Decision.AGREEMENT)


def test_conflicting_reports_make_a_dispute() -> None:
    s, _ = apply_event(started(), Report(P1, Outcome.WIN), at(600))
    s, fx = apply_event(s, Report(P2, Outcome.WIN), at(610))
    assert s.status is MatchStatus.DISPUTED
    assert fx == (Reported(P2, Outcome.WIN), Disputed(Outcome.WIN, Outcome.WIN))
    # the report deadline no longer matters: only an admin moves it on
    assert apply_event(s, ReportTimeout(), at(99999)) == (s, ())
    s, fx = apply_event(s, AdminRuling(ADMIN, Ruling.P2_WIN), at(7200))
    assert fx == (Finalised(Result.P2_WIN, Decision.ADMIN),)
    assert (s.status, s.result, s.ruled_by) == (MatchStatus.FINISHED, Result.P2_WIN, ADMIN)


def test_result_from_report() -> None:
    s = fresh()
    assert result_from_report(s, P1, Outcome.WIN) is Result.P1_WIN
    assert result_from_report(s, P2, Outcome.WIN) is Result.P2_WIN
    assert result_from_report(s, P2, Outcome.LOSS) is Result.P1_WIN
    assert result_from_report(s, P1, Outcome.DRAW) is Result.DRAW


# --- deadlines ---------------------------------------------------------------------------


def test_confirmation_timeout_records_no_shows() -> None:
    s, _ = apply_event(fresh(), Confirm(P1), at(5))
    assert due_timeout(s, at(59)) is None
    assert apply_event(s, ConfirmationTimeout(), at(59)) == (s, ())  # early timer: nothing
    assert due_timeout(s, at(60)) == ConfirmationTimeout()
    s, fx = apply_event(s, ConfirmationTimeout(), at(60))
    assert s.status is MatchStatus.CANCELLED
    assert s.no_shows == {P2}
    assert fx == (Cancelled(frozenset({P2})),)
    assert apply_event(s, ConfirmationTimeout(), at(61)) == (s, ())  # timer fired twice


def test_nobody_confirmed() -> None:
    _, fx = apply_event(fresh(), ConfirmationTimeout(), at(100))
    assert fx == (Cancelled(frozenset({P1, P2})),)


def test_confirming_at_the_deadline_is_too_late() -> None:
    with pytest.raises(DeadlinePassedError):
        apply_event(fresh(), Confirm(P1), at(60))


def test_confirm_after_cancellation() -> None:
    s, _ = apply_event(fresh(), ConfirmationTimeout(), at(60))
    with pytest.raises(MatchClosedError, match="cancelled"):
        apply_event(s, Confirm(P1), at(61))


def test_timeout_after_both_confirmed_is_ignored() -> None:
    s = started()
    assert apply_event(s, ConfirmationTimeout(), at(60)) == (s, ())


def test_single_report_stands_at_the_deadline() -> None:
    s, _ = apply_event(started(), Report(P2, Outcome.WIN), at(900))
    deadline = s.report_deadline
    assert deadline is not None
    assert apply_event(s, ReportTimeout(), deadline - timedelta(seconds=1)) == (s, ())
    assert due_timeout(s, deadline) == ReportTimeout()
    s, fx = apply_event(s, ReportTimeout(), deadline)
    assert fx == (Finalised(Result.P2_WIN, Decision.SINGLE_REPORT),)
    assert (s.status, s.result) == (MatchStatus.FINISHED, Result.P2_WIN)


def test_no_reports_by_the_deadline_invalidates() -> None:
    s = started()
    s, fx = apply_event(s, ReportTimeout(), at(10) + REPORT)
    assert fx == (Invalidated(None, Decision.NO_REPORTS),)
    assert (s.status, s.result, s.decided_by) == (
        MatchStatus.INVALIDATED, None, Decision.NO_REPORTS,
    )  # fmt: skip


def test_reporting_after_the_deadline_is_refused_even_before_the_timer() -> None:
    s = started()
    with pytest.raises(DeadlinePassedError):
        apply_event(s, Report(P1, Outcome.WIN), at(10) + REPORT)


# --- aborts ------------------------------------------------------------------------------


def test_abort_while_awaiting_confirmation() -> None:
    s, fx = apply_event(fresh(), Abort(P2, aborts_left=3), at(5))
    assert fx == (Aborted(P2),)
    assert (s.status, s.aborted_by) == (MatchStatus.ABORTED, P2)


def test_abort_in_progress_before_any_report() -> None:
    _, fx = apply_event(started(), Abort(P1, aborts_left=1), at(120))
    assert fx == (Aborted(P1),)


def test_abort_after_a_report_is_refused() -> None:
    s, _ = apply_event(started(), Report(P2, Outcome.WIN), at(600))
    with pytest.raises(WrongStateError, match="already reported"):
        apply_event(s, Abort(P1, aborts_left=3), at(601))


def test_abort_needs_an_abort_left() -> None:
    with pytest.raises(NoAbortsLeftError):
        apply_event(fresh(), Abort(P1, aborts_left=0), at(5))


def test_abort_after_the_confirmation_deadline() -> None:
    with pytest.raises(DeadlinePassedError):
        apply_event(fresh(), Abort(P1, aborts_left=3), at(60))


def test_double_abort_spends_once_and_opponent_spends_none() -> None:
    s, _ = apply_event(fresh(), Abort(P1, aborts_left=3), at(5))
    assert apply_event(s, Abort(P1, aborts_left=2), at(6)) == (s, ())
    with pytest.raises(MatchClosedError, match="no abort was spent"):
        apply_event(s, Abort(P2, aborts_left=3), at(7))
    with pytest.raises(MatchClosedError):
        apply_event(s, Confirm(P2), at(8))


def test_aborts_left_and_month_key() -> None:
    assert aborts_left(0, 3) == 3
    assert aborts_left(2, 3) == 1
    assert aborts_left(5, 3) == 0
    assert month_key(datetime(2025, 3, 31, 23, 59, tzinfo=UTC)) == "2025-03"
    # 1 April 01:00 in UTC+2 is still March in UTC
    plus2 = timezone(timedelta(hours=2))
    assert month_key(datetime(2025, 4, 1, 1, 0, tzinfo=plus2)) == "2025-03"
    assert month_key(datetime(2025, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-01"
    )
    with pytest.raises(ValueError):
        month_key(datetime(2025, 3, 1))


# --- who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [Confirm(STRANGER), Abort(STRANGER, 3), Report(STRANGER, Outcome.WIN)],
)
def test_third_parties_are_refused(event: object) -> None:
    for state in (fresh(), started()):
        with pytest.raises(NotInMatchError) as info:
            apply_event(state, event, at(20))  # type: ignore[arg-type]
        assert isinstance(info.value, ConflictError)
        assert info.value.user_message == "You are not a player in this match."


def test_report_before_start_is_refused() -> None:
    with pytest.raises(WrongStateError, match="confirm first"):
        apply_event(fresh(), Report(P1, Outcome.WIN), at(5))


def test_reporting_twice_differently_is_refused() -> None:
    s, _ = apply_event(started(), Report(P1, Outcome.WIN), at(600))
    with pytest.raises(ReportMismatchError, match="already reported a \\*\\*win\\*\\*"):
        apply_event(s, Report(P1, Outcome.DRAW), at(601))


def test_reporting_after_the_match_was_cancelled() -> None:
    s, _ = apply_event(fresh(), ConfirmationTimeout(), at(60))
    with pytest.raises(MatchClosedError, match="cancelled"):
        apply_event(s, Report(P1, Outcome.WIN), at(61))


def test_ruling_on_a_match_that_never_started() -> None:
    with pytest.raises(WrongStateError):
        apply_event(fresh(), AdminRuling(ADMIN, Ruling.P1_WIN), at(5))
    s, _ = apply_event(fresh(), Abort(P1, 3), at(5))
    with pytest.raises(MatchClosedError):
        apply_event(s, AdminRuling(ADMIN, Ruling.P1_WIN), at(6))


# --- double clicks -----------------------------------------------------------------------


def test_double_clicks_are_idempotent() -> None:
    s1, _ = apply_event(fresh(), Confirm(P1), at(5))
    assert apply_event(s1, Confirm(P1), at(6)) == (s1, ())
    s2 = started()
    assert apply_event(s2, Confirm(P2), at(30)) == (s2, ())  # late click after the start
    s3, _ = apply_event(s2, Report(P1, Outcome.WIN), at(600))
    assert apply_event(s3, Report(P1, Outcome.WIN), at(601)) == (s3, ())
    s4, _ = apply_event(s3, Report(P2, Outcome.LOSS), at(602))
    assert apply_event(s4, Report(P2, Outcome.LOSS), at(603)) == (s4, ())
    assert apply_event(s4, Report(P1, Outcome.WIN), at(604)) == (s4, ())
    # an identical repeat is accepted even after the deadline: nothing changes
    assert apply_event(s3, Report(P1, Outcome.WIN), at(99999)) == (s3, ())
    # admins double-click too
    s5, _ = apply_event(s4, AdminRuling(ADMIN, Ruling.DRAW), at(700))
    assert apply_event(s5, AdminRuling(ADMIN, Ruling.DRAW), at(701)) == (s5, ())
    s6, _ = apply_event(s5, AdminRuling(ADMIN, Ruling.INVALIDATE), at(702))
    assert apply_event(s6, AdminRuling(ADMIN, Ruling.INVALIDATE), at(703)) == (s6, ())


# --- rulings, corrections and races ------------------------------------------------------


def test_ruling_racing_a_late_report() -> None:
    # P1 reported; P2 has not. An admin rules before the timer; P2's report then arrives.
    s, _ = apply_event(started(), Report(P1, Outcome.WIN), at(600))
    s, fx = apply_event(s, AdminRuling(ADMIN, Ruling.P2_WIN), at(700))
    assert fx == (Finalised(Result.P2_WIN, Decision.ADMIN),)
    with pytest.raises(MatchClosedError, match="already decided"):
        apply_event(s, Report(P2, Outcome.WIN), at(701))
    assert apply_event(s, ReportTimeout(), at(10) + REPORT) == (s, ())  # timer fires late


def test_late_report_wins_the_race_then_the_ruling_is_a_correction() -> None:
    s, _ = apply_event(started(), Report(P1, Outcome.WIN), at(600))
    s, _ = apply_event(s, Report(P2, Outcome.LOSS), at(700))
    assert apply_event(s, AdminRuling(ADMIN, Ruling.P1_WIN), at(701)) == (s, ())
    s2, fx = apply_event(s, AdminRuling(ADMIN, Ruling.DRAW), at(702))
    assert fx == (Corrected(Result.P1_WIN, Result.DRAW),)
    assert (s2.result, s2.decided_by, s2.ruled_by) == (Result.DRAW, Decision.ADMIN, ADMIN)


def test_invalidating_a_rated_match_says_what_to_unrate() -> None:
    s, _ = apply_event(started(), Report(P1, Outcome.DRAW), at(600))
    s, _ = apply_event(s, Report(P2, Outcome.DRAW), at(601))
    s, fx = apply_event(s, AdminRuling(ADMIN, Ruling.INVALIDATE), at(700))
    assert fx == (Invalidated(Result.DRAW, Decision.ADMIN),)
    assert (s.status, s.result) == (MatchStatus.INVALIDATED, None)
    # and an invalidated match can be reinstated: it enters the log now
    s, fx = apply_event(s, AdminRuling(ADMIN, Ruling.P2_WIN), at(800))
    assert fx == (Finalised(Result.P2_WIN, Decision.ADMIN),)


def test_invalidating_an_unrated_match() -> None:
    _, fx = apply_event(started(), AdminRuling(ADMIN, Ruling.INVALIDATE), at(100))
    assert fx == (Invalidated(None, Decision.ADMIN),)


def test_state_rebuilt_from_plain_values() -> None:
    s = started()
    rebuilt = MatchState(
        match_id=s.match_id,
        p1=P1,
        p2=P2,
        status="in_progress",  # type: ignore[arg-type]
        confirm_deadline=s.confirm_deadline,
        report_window=REPORT,
        confirmed=[P1, P2],  # type: ignore[arg-type]
        report_deadline=s.report_deadline,
        p1_report="win",  # type: ignore[arg-type]
    )
    assert rebuilt == replace(s, p1_report=Outcome.WIN)
    _, fx = apply_event(rebuilt, Report(P2, "loss"), at(700))  # type: ignore[arg-type]
    assert fx[-1] == Finalised(Result.P1_WIN, Decision.AGREEMENT)


def test_inconsistent_state_is_rejected() -> None:
    with pytest.raises(ValueError):
        replace(started(), result=Result.DRAW)


# --- property: any sequence of events ----------------------------------------------------

players = st.sampled_from([P1, P2, STRANGER])
events = st.one_of(
    st.builds(Confirm, players),
    st.builds(Abort, players, st.integers(0, 2)),
    st.builds(Report, players, st.sampled_from(list(Outcome))),
    st.just(ConfirmationTimeout()),
    st.just(ReportTimeout()),
    st.builds(AdminRuling, st.just(ADMIN), st.sampled_from(list(Ruling))),
)


@settings(max_examples=400, deadline=None)
@given(steps=st.lists(st.tuples(events, st.integers(0, 2000)), max_size=25))
def test_any_event_sequence_keeps_the_rules(steps: list[tuple[object, int]]) -> None:
    state = fresh()
    now = T0
    rated = False  # is the match in the rating log, judging by the effects alone?
    aborts = 0
    for event, gap in steps:
        now += timedelta(seconds=gap)
        try:
            new, effects = apply_event(state, event, now)  # type: ignore[arg-type]
        except ConflictError:
            continue  # refused: a player message, nothing changed
        # a repeat of the same action at the same time changes nothing (double click)
        assert apply_event(new, event, now) == (new, ())  # type: ignore[arg-type]
        if not effects:
            assert new == state
        for fx in effects:
            match fx:
                case Finalised():
                    assert not rated
                    rated = True
                case Invalidated(previous_result=prev):
                    assert (prev is not None) == rated
                    rated = False
                case Corrected():
                    assert rated
                case Aborted():
                    aborts += 1
        state = new
        assert rated == (state.status is MatchStatus.FINISHED)
        assert aborts <= 1
