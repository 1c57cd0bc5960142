"""The machinery the ladder's services share: the clock, the listeners, the race check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ladder.errors import ValidationError
from ladder.records import QueueStatus, RatingRow
from services.ladder_core import LadderCore, tell_left_queue
from services.players import LeftQueue

from .conftest import CONFIG


def core_at(now: datetime) -> LadderCore:
    return LadderCore(None, None, CONFIG, clock=lambda: now)  # type: ignore[arg-type]


def test_now_is_utc_to_the_millisecond_like_the_stored_text() -> None:
    paris = timezone(timedelta(hours=1))
    now = core_at(datetime(2025, 3, 10, 13, 0, 0, 123_456, tzinfo=paris)).now()
    assert now == datetime(2025, 3, 10, 12, 0, 0, 123_000, tzinfo=UTC)
    assert now.tzinfo is UTC


def test_a_failing_rating_listener_is_logged_not_raised(caplog) -> None:
    core = core_at(datetime(2025, 3, 10, tzinfo=UTC))
    told: list[list[RatingRow]] = []
    core.on_ratings_changed = told.append
    core.ratings_changed([])  # nothing changed: nobody is told
    assert told == []

    def boom(rows):
        raise RuntimeError("leaderboard down")

    core.on_ratings_changed = boom
    core.ratings_changed(["row"])  # type: ignore[list-item]
    assert "on_ratings_changed failed" in caplog.text


def test_the_left_queue_listener_hears_only_of_someone_and_cannot_fail_the_action(caplog):
    entry = QueueStatus(1, ("bw_terran",), (), datetime(2025, 3, 10, tzinfo=UTC), 0)
    told = []
    tell_left_queue(lambda entries, why: told.append((entries, why)), [], LeftQueue.CLEARED)
    tell_left_queue(None, [entry], LeftQueue.CLEARED)
    assert told == []
    tell_left_queue(lambda entries, why: told.append((entries, why)), [entry], LeftQueue.BANNED)
    assert told == [([entry], LeftQueue.BANNED)]

    def boom(entries, why):
        raise RuntimeError("discord down")

    tell_left_queue(boom, [entry], LeftQueue.DEQUEUED)
    assert "A left-queue listener failed" in caplog.text


def test_valid_race_names_the_known_races_and_quotes_the_unknown_one() -> None:
    core = core_at(datetime(2025, 3, 10, tzinfo=UTC))
    assert core.valid_race("bw_terran") == "bw_terran"
    with pytest.raises(ValidationError) as refused:
        core.valid_race("**zerg**")
    assert "(`bw_terran`)" in refused.value.user_message
    assert "`**zerg**` is not a race" in refused.value.user_message  # inline code: inert
