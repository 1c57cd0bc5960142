"""The life of a match as a pure state machine, plus the monthly abort allowance.

`apply_event(state, event, now) -> (new_state, effects)` is the only way a match changes. It
never reads a clock or the database: storage loads the state, calls it, writes the new state
and acts on the effects (rate the match, notify players, ping admins) in one transaction.

States (`MatchStatus`):

* `awaiting_confirmation`: created by a wave; both players must confirm before
  `confirm_deadline` (created + confirmation window).
* `in_progress`: both confirmed; results are accepted until `report_deadline`
  (start + report window, default 60 minutes).
* `finished`: has a result; it is in the rating log.
* `disputed`: the two reports disagree; only an admin ruling moves it on.
* `cancelled`: someone did not confirm in time; `no_shows` records who.
* `aborted`: a player aborted before any result was reported; it spends one of his aborts.
* `invalidated`: no result and no rating change (admin ruling, or nobody reported by the
  deadline).

Rules where the product issue was silent:

* Reports are from the reporter's point of view (`win`, `loss`, `draw`). Matching reports
  finalise the match (`decided_by=agreement`); differing ones make it `disputed`.
* At the report deadline, a single report stands (`decided_by=single_report`): the player who
  did not report had the whole window to do so. If nobody reported, the match is
  invalidated (`decided_by=no_reports`) with no rating change, since nothing says what happened.
* A player may abort while waiting for confirmation or while in progress, until the first
  report or a deadline: after a report, aborting would be a way to dodge a loss.
* A repeated identical action (double click) changes nothing and returns no effects; the same
  player doing something different (a different report) is a `ReportMismatchError`.
* Player actions at or after their deadline are refused (`DeadlinePassedError`), even if the
  timer has not fired yet, so the result never depends on how fast the scheduler is.
  Timeout events are idempotent and tolerant: one that is early or no longer applies (the
  players confirmed in time, an admin already ruled) changes nothing.
* Admins can rule on `in_progress`, `disputed`, `finished` and `invalidated` matches, at any
  time. A ruling equal to the current outcome is a no-op.

Effects tell storage what to do with the rating log, which is ordered by finalisation:
`Finalised` appends the match (an incremental Elo update is exact); `Corrected` changes a
rated match's result in place and `Invalidated(previous_result=...)` removes a rated match,
both of which need a replay from that match (see `ladder.rating`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from i18n import N_
from ladder.errors import ConflictError
from ladder.rating import Result

# --- errors ------------------------------------------------------------------------------


class MatchConflictError(ConflictError):
    """A match action that does not fit the match's current state."""


class NotInMatchError(MatchConflictError):
    """Someone who is not one of the two players acted on the match."""

    def __init__(self) -> None:
        super().__init__(N_("You are not a player in this match."))


class DeadlinePassedError(MatchConflictError):
    """The window for this action has closed."""


class MatchClosedError(MatchConflictError):
    """The match is already over (finished, cancelled, aborted or invalidated)."""


class WrongStateError(MatchConflictError):
    """The action comes too early or does not apply to this match now."""


class ReportMismatchError(MatchConflictError):
    """A player tried to change the result he already reported."""


class NoAbortsLeftError(MatchConflictError):
    """The player has used all his aborts this month."""


# --- values ------------------------------------------------------------------------------


class MatchStatus(StrEnum):
    """Where a match is in its life."""

    AWAITING_CONFIRMATION = "awaiting_confirmation"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"
    INVALIDATED = "invalidated"


class Outcome(StrEnum):
    """A result as one player reports it, from his own point of view."""

    WIN = "win"
    LOSS = "loss"
    DRAW = "draw"


class Ruling(StrEnum):
    """What an admin can decide."""

    P1_WIN = "p1_win"
    P2_WIN = "p2_win"
    DRAW = "draw"
    INVALIDATE = "invalidate"


class Decision(StrEnum):
    """How a finished or invalidated match got there."""

    AGREEMENT = "agreement"
    SINGLE_REPORT = "single_report"
    ADMIN = "admin"
    NO_REPORTS = "no_reports"
    REPLAY = "replay"  # a verified replay, under replay.mode = "decides" (ladder.replays)


_TERMINAL = frozenset(
    {MatchStatus.CANCELLED, MatchStatus.ABORTED, MatchStatus.FINISHED, MatchStatus.INVALIDATED}
)
_RULABLE = frozenset(
    {MatchStatus.IN_PROGRESS, MatchStatus.DISPUTED, MatchStatus.FINISHED, MatchStatus.INVALIDATED}
)


@dataclass(frozen=True, slots=True)
class MatchState:
    """Everything the rules need to know about one match; storage persists every field."""

    match_id: int
    p1: int
    p2: int
    status: MatchStatus
    confirm_deadline: datetime
    report_window: timedelta
    confirmed: frozenset[int] = frozenset()
    report_deadline: datetime | None = None  # set when the match starts
    p1_report: Outcome | None = None
    p2_report: Outcome | None = None
    result: Result | None = None  # set exactly when status is finished
    decided_by: Decision | None = None
    no_shows: frozenset[int] = frozenset()
    aborted_by: int | None = None
    ruled_by: int | None = None  # the admin of the last ruling

    def __post_init__(self) -> None:
        # Storage may rebuild a state from plain strings and lists; normalise them so the
        # rules can compare enum members and sets.
        def norm(name: str, kind: type) -> None:
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                object.__setattr__(self, name, kind(value))

        norm("status", MatchStatus)
        norm("p1_report", Outcome)
        norm("p2_report", Outcome)
        norm("result", Result)
        norm("decided_by", Decision)
        norm("confirmed", frozenset)
        norm("no_shows", frozenset)
        if self.p1 == self.p2:
            raise ValueError("a player cannot play himself")
        if (self.status is MatchStatus.FINISHED) != (self.result is not None):
            raise ValueError("a match has a result exactly when it is finished")

    def report_of(self, player: int) -> Outcome | None:
        """Return what this player reported, if anything."""
        return self.p1_report if player == self.p1 else self.p2_report


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confirm:
    """A player confirms he is ready to play."""

    player: int


@dataclass(frozen=True, slots=True)
class Abort:
    """A player aborts the match; `aborts_left` is his allowance this month, from storage."""

    player: int
    aborts_left: int


@dataclass(frozen=True, slots=True)
class ConfirmationTimeout:
    """The confirmation deadline timer fired."""


@dataclass(frozen=True, slots=True)
class Report:
    """A player reports the result from his point of view."""

    player: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ReportTimeout:
    """The report deadline timer fired."""


@dataclass(frozen=True, slots=True)
class AdminRuling:
    """An admin decides the match."""

    admin: int
    ruling: Ruling


@dataclass(frozen=True, slots=True)
class ReplayDecides:
    """A verified replay decides the match (replay.mode = "decides"), overriding reports but
    never an admin's ruling."""

    result: Result


type Event = (
    Confirm | Abort | ConfirmationTimeout | Report | ReportTimeout | AdminRuling | ReplayDecides
)  # fmt: skip

# --- effects -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confirmed:
    """One player confirmed; the other has not yet."""

    player: int


@dataclass(frozen=True, slots=True)
class Started:
    """Both confirmed: the match is on and reports are due by `report_deadline`."""

    report_deadline: datetime


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Confirmation timed out; `no_shows` did not confirm."""

    no_shows: frozenset[int]


@dataclass(frozen=True, slots=True)
class Aborted:
    """A player aborted: spend one of his aborts this month."""

    player: int


@dataclass(frozen=True, slots=True)
class Reported:
    """A report was recorded; the other player's is still awaited."""

    player: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Finalised:
    """The match has a result: append it to the rating log and rate it."""

    result: Result
    decided_by: Decision


@dataclass(frozen=True, slots=True)
class Disputed:
    """The reports disagree: ask an admin to rule."""

    p1_report: Outcome
    p2_report: Outcome


@dataclass(frozen=True, slots=True)
class Invalidated:
    """No result; if `previous_result` is set the match was rated: remove it and replay."""

    previous_result: Result | None
    decided_by: Decision


@dataclass(frozen=True, slots=True)
class Corrected:
    """An admin changed a rated match's result: replay the log from this match."""

    previous_result: Result
    result: Result


type Effect = (
    Confirmed | Started | Cancelled | Aborted | Reported | Finalised | Disputed | Invalidated
    | Corrected
)  # fmt: skip

type Transition = tuple[MatchState, tuple[Effect, ...]]

# --- transitions -------------------------------------------------------------------------


def apply_event(state: MatchState, event: Event, now: datetime) -> Transition:
    """Apply one event at time `now`; return the new state and what storage must do."""
    _check_aware(now)
    match event:
        case Confirm(player):
            return _confirm(state, player, now)
        case Abort(player, aborts_left):
            return _abort(state, player, aborts_left, now)
        case Report(player, outcome):
            return _report(state, player, Outcome(outcome), now)
        case ConfirmationTimeout():
            return _confirmation_timeout(state, now)
        case ReportTimeout():
            return _report_timeout(state, now)
        case AdminRuling(admin, ruling):
            return _rule(state, admin, Ruling(ruling))
        case ReplayDecides(result):
            return _replay_decides(state, Result(result))
    raise TypeError(f"unknown match event {event!r}")


def next_deadline(state: MatchState) -> datetime | None:
    """Return when the next timeout is due for this match, or None if none applies."""
    if state.status is MatchStatus.AWAITING_CONFIRMATION:
        return state.confirm_deadline
    if state.status is MatchStatus.IN_PROGRESS:
        return state.report_deadline
    return None


def due_timeout(state: MatchState, now: datetime) -> ConfirmationTimeout | ReportTimeout | None:
    """Return the timeout event that is due at `now`, if any (for the scheduler)."""
    deadline = next_deadline(state)
    if deadline is None or now < deadline:
        return None
    if state.status is MatchStatus.AWAITING_CONFIRMATION:
        return ConfirmationTimeout()
    return ReportTimeout()


def result_from_report(state: MatchState, player: int, outcome: Outcome) -> Result:
    """Return the match result a player's report means (player 1's side)."""
    if outcome is Outcome.DRAW:
        return Result.DRAW
    p1_won = (outcome is Outcome.WIN) == (player == state.p1)
    return Result.P1_WIN if p1_won else Result.P2_WIN


_NOTHING: tuple[Effect, ...] = ()


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware (UTC)")


def _require_player(state: MatchState, player: int) -> None:
    if player not in (state.p1, state.p2):
        raise NotInMatchError()


_CLOSED = {
    MatchStatus.FINISHED: N_("This match is already decided."),
    MatchStatus.CANCELLED: N_("This match was cancelled: not everyone confirmed in time."),
    MatchStatus.ABORTED: N_("This match was aborted."),
    MatchStatus.INVALIDATED: N_("This match was invalidated and counts for nothing."),
    MatchStatus.DISPUTED: N_("This match is disputed; an admin will decide it."),
}

# One whole sentence per outcome: a translation cannot put a word into "a **{outcome}**".
_ALREADY_REPORTED = {
    Outcome.WIN: N_(
        "You already reported a **win**. If that was a mistake, ask an admin to fix it."
    ),
    Outcome.LOSS: N_(
        "You already reported a **loss**. If that was a mistake, ask an admin to fix it."
    ),
    Outcome.DRAW: N_(
        "You already reported a **draw**. If that was a mistake, ask an admin to fix it."
    ),
}


def _closed(state: MatchState) -> MatchClosedError:
    return MatchClosedError(_CLOSED.get(state.status, N_("This match is over.")))


def _confirm(state: MatchState, player: int, now: datetime) -> Transition:
    _require_player(state, player)
    if player in state.confirmed and state.status not in (
        MatchStatus.CANCELLED,
        MatchStatus.ABORTED,
    ):
        return state, _NOTHING  # double click, or a late click after the match started
    if state.status is not MatchStatus.AWAITING_CONFIRMATION:
        raise _closed(state)
    if now >= state.confirm_deadline:
        raise DeadlinePassedError(N_("Too late: the time to confirm this match has run out."))
    confirmed = state.confirmed | {player}
    if len(confirmed) < 2:
        return replace(state, confirmed=confirmed), (Confirmed(player),)
    deadline = now + state.report_window
    started = replace(
        state, confirmed=confirmed, status=MatchStatus.IN_PROGRESS, report_deadline=deadline
    )
    return started, (Confirmed(player), Started(deadline))


def _abort(state: MatchState, player: int, aborts_left: int, now: datetime) -> Transition:
    _require_player(state, player)
    if state.status is MatchStatus.ABORTED:
        if state.aborted_by == player:
            return state, _NOTHING  # double click: the abort is spent once
        raise MatchClosedError(N_("Your opponent already aborted this match; no abort was spent."))
    if state.status is MatchStatus.AWAITING_CONFIRMATION:
        if now >= state.confirm_deadline:
            raise DeadlinePassedError(N_("Too late: this match's confirmation time has run out."))
    elif state.status is MatchStatus.IN_PROGRESS:
        if state.p1_report is not None or state.p2_report is not None:
            raise WrongStateError(
                N_("A result was already reported, so this match can't be aborted.")
            )
        assert state.report_deadline is not None
        if now >= state.report_deadline:
            raise DeadlinePassedError(N_("Too late: this match's reporting time has run out."))
    else:
        raise _closed(state)
    if aborts_left <= 0:
        raise NoAbortsLeftError(
            N_(
                "You have no aborts left this month. Play the match, or wait until they refill "
                "on the 1st (UTC)."
            )
        )
    return replace(state, status=MatchStatus.ABORTED, aborted_by=player), (Aborted(player),)


def _report(state: MatchState, player: int, outcome: Outcome, now: datetime) -> Transition:
    _require_player(state, player)
    mine = state.report_of(player)
    if mine is not None:
        if mine is outcome:
            return state, _NOTHING  # double click
        raise ReportMismatchError(_ALREADY_REPORTED[mine])
    if state.status is MatchStatus.AWAITING_CONFIRMATION:
        raise WrongStateError(N_("The match hasn't started yet: both players must confirm first."))
    if state.status is not MatchStatus.IN_PROGRESS:
        raise _closed(state)
    assert state.report_deadline is not None
    if now >= state.report_deadline:
        raise DeadlinePassedError(N_("Too late: the time to report this match has run out."))

    if player == state.p1:
        state = replace(state, p1_report=outcome)
    else:
        state = replace(state, p2_report=outcome)
    reported = Reported(player, outcome)
    if state.p1_report is None or state.p2_report is None:
        return state, (reported,)
    r1 = result_from_report(state, state.p1, state.p1_report)
    r2 = result_from_report(state, state.p2, state.p2_report)
    if r1 is r2:
        done = replace(state, status=MatchStatus.FINISHED, result=r1, decided_by=Decision.AGREEMENT)
        return done, (reported, Finalised(r1, Decision.AGREEMENT))
    disputed = replace(state, status=MatchStatus.DISPUTED)
    return disputed, (reported, Disputed(state.p1_report, state.p2_report))


def _confirmation_timeout(state: MatchState, now: datetime) -> Transition:
    if state.status is not MatchStatus.AWAITING_CONFIRMATION or now < state.confirm_deadline:
        return state, _NOTHING
    no_shows = frozenset({state.p1, state.p2} - state.confirmed)
    return replace(state, status=MatchStatus.CANCELLED, no_shows=no_shows), (Cancelled(no_shows),)


def _report_timeout(state: MatchState, now: datetime) -> Transition:
    if state.status is not MatchStatus.IN_PROGRESS:
        return state, _NOTHING
    assert state.report_deadline is not None
    if now < state.report_deadline:
        return state, _NOTHING
    # In progress means at most one report exists (two would have finished or disputed it).
    if state.p1_report is not None:
        result = result_from_report(state, state.p1, state.p1_report)
    elif state.p2_report is not None:
        result = result_from_report(state, state.p2, state.p2_report)
    else:
        gone = replace(state, status=MatchStatus.INVALIDATED, decided_by=Decision.NO_REPORTS)
        return gone, (Invalidated(None, Decision.NO_REPORTS),)
    done = replace(
        state, status=MatchStatus.FINISHED, result=result, decided_by=Decision.SINGLE_REPORT
    )
    return done, (Finalised(result, Decision.SINGLE_REPORT),)


def _rule(state: MatchState, admin: int, ruling: Ruling) -> Transition:
    if state.status not in _RULABLE:
        if state.status is MatchStatus.AWAITING_CONFIRMATION:
            raise WrongStateError(N_("This match hasn't started, so there is nothing to rule on."))
        raise _closed(state)
    if ruling is Ruling.INVALIDATE:
        if state.status is MatchStatus.INVALIDATED:
            return state, _NOTHING
        gone = replace(
            state,
            status=MatchStatus.INVALIDATED,
            result=None,
            decided_by=Decision.ADMIN,
            ruled_by=admin,
        )
        return gone, (Invalidated(state.result, Decision.ADMIN),)
    result = Result(ruling.value)
    if state.status is MatchStatus.FINISHED:
        if state.result is result:
            return state, _NOTHING
        assert state.result is not None
        fixed = replace(state, result=result, decided_by=Decision.ADMIN, ruled_by=admin)
        return fixed, (Corrected(state.result, result),)
    # In progress, disputed or invalidated: the match enters the rating log now.
    done = replace(
        state,
        status=MatchStatus.FINISHED,
        result=result,
        decided_by=Decision.ADMIN,
        ruled_by=admin,
    )
    return done, (Finalised(result, Decision.ADMIN),)


def _replay_decides(state: MatchState, result: Result) -> Transition:
    # A replay settles a match in progress, a dispute, or a result the reports gave; a match
    # that never started or was closed stays as it is, and an admin's ruling stands.
    if state.decided_by is Decision.ADMIN or state.status not in _RULABLE:
        return state, _NOTHING
    if state.status is MatchStatus.FINISHED:
        if state.result is result:
            return state, _NOTHING
        assert state.result is not None
        fixed = replace(state, result=result, decided_by=Decision.REPLAY)
        return fixed, (Corrected(state.result, result),)
    done = replace(state, status=MatchStatus.FINISHED, result=result, decided_by=Decision.REPLAY)
    return done, (Finalised(result, Decision.REPLAY),)


# --- aborts ------------------------------------------------------------------------------


def month_key(now: datetime) -> str:
    """Return the UTC calendar month of `now` as 'YYYY-MM', the period aborts refill by."""
    _check_aware(now)
    return now.astimezone(UTC).strftime("%Y-%m")


def aborts_left(used_this_month: int, per_month: int) -> int:
    """Return how many aborts a player still has this month (never below zero)."""
    return max(0, per_month - used_this_month)
