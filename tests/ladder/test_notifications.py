"""Queue notification rules: quiet hours across midnight and DST, the interval, eligibility,
the text that never names the waiting player, and the /notify inputs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from ladder.errors import ValidationError
from ladder.notifications import (
    NotifySettings,
    QuietHours,
    Subscriber,
    Waiting,
    about_rating,
    in_quiet_hours,
    interval_passed,
    matching_zones,
    notice_for,
    notice_text,
    notices,
    parse_codes,
    parse_quiet_hours,
    zone,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(minutes=30)
ON = NotifySettings(enabled=True)


def night(tz: str) -> NotifySettings:
    return NotifySettings(True, quiet=QuietHours(time(23), time(7)), time_zone=tz)


def test_quiet_hours_span_midnight_on_the_players_own_clock() -> None:
    berlin = night("Europe/Berlin")  # UTC+1 in winter
    assert in_quiet_hours(berlin, datetime(2026, 1, 10, 22, 0, tzinfo=UTC))  # 23:00 there
    assert in_quiet_hours(berlin, datetime(2026, 1, 10, 23, 59, tzinfo=UTC))  # 00:59
    assert in_quiet_hours(berlin, datetime(2026, 1, 11, 5, 59, tzinfo=UTC))  # 06:59
    assert not in_quiet_hours(berlin, datetime(2026, 1, 11, 6, 0, tzinfo=UTC))  # 07:00: over
    assert not in_quiet_hours(berlin, datetime(2026, 1, 10, 21, 59, tzinfo=UTC))  # 22:59


def test_quiet_hours_within_one_day() -> None:
    lunch = NotifySettings(True, quiet=QuietHours(time(12), time(13, 30)), time_zone="UTC")
    assert in_quiet_hours(lunch, NOW)
    assert in_quiet_hours(lunch, NOW + timedelta(minutes=89))
    assert not in_quiet_hours(lunch, NOW + timedelta(minutes=90))
    assert not in_quiet_hours(lunch, NOW - timedelta(minutes=1))
    assert not in_quiet_hours(NotifySettings(True), NOW)


def test_quiet_hours_follow_the_wall_clock_across_dst_changes() -> None:
    # New York: 23:00-07:00 local. In winter (UTC-5) 11:59 UTC is 06:59 (quiet); after the
    # spring change (8 March 2026, UTC-4) the same UTC time is 07:59 (not quiet).
    ny = night("America/New_York")
    assert in_quiet_hours(ny, datetime(2026, 3, 7, 11, 59, tzinfo=UTC))
    assert not in_quiet_hours(ny, datetime(2026, 3, 9, 11, 59, tzinfo=UTC))
    assert in_quiet_hours(ny, datetime(2026, 3, 9, 10, 59, tzinfo=UTC))  # 06:59 EDT
    # The night of the change itself: 02:00 → 03:00 local; 01:30 and 03:30 are both quiet.
    assert in_quiet_hours(ny, datetime(2026, 3, 8, 6, 30, tzinfo=UTC))  # 01:30 EST
    assert in_quiet_hours(ny, datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 03:30 EDT
    # Autumn (1 November 2026): 01:30 happens twice, both quiet; 07:00 EST ends it.
    assert in_quiet_hours(ny, datetime(2026, 11, 1, 5, 30, tzinfo=UTC))
    assert in_quiet_hours(ny, datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    assert not in_quiet_hours(ny, datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    assert in_quiet_hours(ny, datetime(2026, 11, 1, 11, 59, tzinfo=UTC))  # 06:59 EST


def test_a_quiet_range_that_starts_in_a_skipped_hour() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026: the clock jumps 02:00 → 03:00, and
    # 03:00 (inside a 02:30-04:00 range) is quiet.
    s = NotifySettings(True, quiet=QuietHours(time(2, 30), time(4)), time_zone="Europe/Berlin")
    assert in_quiet_hours(s, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 03:00 CEST
    assert not in_quiet_hours(s, datetime(2026, 3, 29, 0, 59, tzinfo=UTC))  # 01:59 CET
    assert not in_quiet_hours(s, datetime(2026, 3, 29, 2, 0, tzinfo=UTC))  # 04:00 CEST


def test_the_interval() -> None:
    assert interval_passed(None, NOW, HOUR)
    assert not interval_passed(NOW - HOUR + timedelta(seconds=1), NOW, HOUR)
    assert interval_passed(NOW - HOUR, NOW, HOUR)


BOB = Waiting(2, {"bw_zerg": 1650}, "EU", NOW - timedelta(seconds=25))


def alice(**kw: object) -> Subscriber:
    fields: dict = {"uid": 1, "settings": ON, "mmrs": {"bw_terran": 1600}, "busy": False,
                    "last_sent": None}  # fmt: skip
    fields.update(kw)
    return Subscriber(**fields)


def test_who_is_told_and_who_is_not() -> None:
    told = notice_for(BOB, alice(), NOW, 100, HOUR)
    assert told is not None and (told.uid, told.race, told.region, told.mmr) == (
        1, "bw_zerg", "EU", 1650
    )  # fmt: skip
    assert notice_for(BOB, alice(settings=NotifySettings()), NOW, 100, HOUR) is None  # off
    assert notice_for(BOB, alice(uid=2), NOW, 100, HOUR) is None  # himself
    assert notice_for(BOB, alice(busy=True), NOW, 100, HOUR) is None  # queued or playing
    assert notice_for(BOB, alice(mmrs={"bw_terran": 1549}), NOW, 100, HOUR) is None  # window
    assert notice_for(BOB, alice(mmrs={"bw_terran": 1549}), NOW, 101, HOUR) is not None
    only_na = NotifySettings(True, regions=frozenset({"NA"}))
    assert notice_for(BOB, alice(settings=only_na), NOW, 100, HOUR) is None
    only_protoss = NotifySettings(True, races=frozenset({"bw_protoss"}))
    assert notice_for(BOB, alice(settings=only_protoss), NOW, 100, HOUR) is None
    assert notice_for(BOB, alice(last_sent=NOW - timedelta(minutes=5)), NOW, 100, HOUR) is None
    assert notice_for(BOB, alice(settings=night("UTC")), NOW.replace(hour=2), 100, HOUR) is None


def test_one_notice_per_subscriber_per_round() -> None:
    carol = Waiting(3, {"bw_zerg": 1600}, "EU", NOW - timedelta(seconds=40))
    out = notices([BOB, carol], [alice()], NOW, lambda waves: 100 + 50 * waves, HOUR)
    assert [(n.uid, n.about_uid) for n in out] == [(1, 3)]  # the longer waiter


def test_the_text_names_race_region_and_a_rounded_rating_never_the_player() -> None:
    assert notice_text("BW Zerg", "EU", 1637) == (
        "Someone is looking for a BW Zerg match in EU (about 1650). /queue to play."
    )
    assert notice_text("BW Zerg", None, 1500) == (
        "Someone is looking for a BW Zerg match (about 1500). /queue to play."
    )
    assert about_rating(1624) == 1600 and about_rating(1626) == 1650


def test_inputs_of_notify() -> None:
    assert parse_quiet_hours("23:00-07:00") == QuietHours(time(23), time(7))
    assert parse_quiet_hours("22 - 6") == QuietHours(time(22), time(6))
    assert parse_quiet_hours("off") is None
    for bad in ("25:00-07:00", "tonight", "7-7", "23:00-"):
        with pytest.raises(ValidationError):
            parse_quiet_hours(bad)
    assert zone("Europe/Berlin").key == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "../../etc/passwd"):
        with pytest.raises(ValidationError, match="is not a time zone"):
            zone(bad)
    assert matching_zones("berl")[0] == "Europe/Berlin"
    assert len(matching_zones("")) == 25
    names = {"bw_zerg": "BW Zerg", "sc2_terran": "SC2 Terran"}
    assert parse_codes("bw_zerg, SC2 Terran", names, "races", names) == {"bw_zerg", "sc2_terran"}
    assert parse_codes("all", names, "races", names) == frozenset()
    with pytest.raises(ValidationError, match="`\\*\\*x\\*\\*` is not one of"):
        parse_codes("**x**", names, "races", names)
