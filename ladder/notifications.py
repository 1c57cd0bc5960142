"""Opt-in "someone is queueing" notifications, as pure rules.

A player subscribes with `/notify`: which races and regions to hear about (empty: all), quiet
hours in his own IANA time zone, on or off. When a player has waited `wait_seconds` without a
match, every subscriber who could be matched with him gets one DM, unless the subscriber:

* is the waiting player, is queued himself, or is in a match;
* filtered out the waiting player's races or region;
* is outside the matchmaker's window: none of his ratings is within the waiting player's
  window of one of the waiting player's races;
* is in his quiet hours (wall-clock time in his zone, so DST moves them with the clock);
* was notified less than `interval_minutes` ago.

The DM never names the waiting player: only the race, the region and a rounded rating.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from i18n import N_, _
from ladder.errors import ValidationError, quoted

_HHMM = re.compile(r"([01]?\d|2[0-3])[:h]?([0-5]\d)?")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end`, wall-clock time in the player's zone; may span midnight."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """What a player chose with /notify. Empty `races`/`regions` mean all of them."""

    enabled: bool = False
    races: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    quiet: QuietHours | None = None
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Waiting:
    """A player waiting in the queue, as the rules see him (never by name)."""

    uid: int
    mmrs: Mapping[str, int]  # race -> MMR, the races he queued with
    region: str | None
    joined_at: datetime
    waves_waited: int = 0


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscribed player with what eligibility needs of him."""

    uid: int
    settings: NotifySettings
    mmrs: Mapping[str, int]  # his ratings per race (the start rating if he has none)
    busy: bool  # queued or in a match
    last_sent: datetime | None


@dataclass(frozen=True, slots=True)
class Notice:
    """One DM to send: to whom, about which waiting player's queue entry, and its text."""

    uid: int
    about_uid: int
    about_joined_at: datetime
    race: str
    region: str | None
    mmr: int


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or ValidationError with a clear message."""
    cleaned = name.strip()
    try:
        if cleaned and cleaned in _zone_names():
            return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValidationError(
        "time_zone",
        N_(
            "{zone} is not a time zone. Pick one from the list, "
            "e.g. Europe/Berlin or America/New_York."
        ),
        zone=quoted(cleaned[:64]),
    )


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def matching_zones(typed: str, limit: int = 25) -> list[str]:
    """Time zone names containing `typed` (case-insensitive), best first, for autocomplete."""
    needle = typed.strip().casefold().replace(" ", "_")
    names = sorted(_zone_names())
    starts = [n for n in names if n.casefold().startswith(needle)]
    inside = [n for n in names if needle in n.casefold() and n not in starts]
    return (starts + inside)[:limit]


def parse_quiet_hours(text: str) -> QuietHours | None:
    """ "23:00-07:00" → QuietHours; "off"/"none"/"" → None; anything else: ValidationError."""
    cleaned = text.strip().casefold()
    if cleaned in ("", "off", "none", "no"):
        return None
    parts = [p.strip() for p in re.split(r"\s*(?:-|–|to)\s*", cleaned)]
    if len(parts) == 2:
        times = [_clock(p) for p in parts]
        if times[0] is not None and times[1] is not None:
            if times[0] == times[1]:
                raise ValidationError(
                    "quiet_hours", N_("Quiet hours must start and end at different times.")
                )
            return QuietHours(times[0], times[1])
    raise ValidationError(
        "quiet_hours",
        N_("{text} is not a time range. Write it as 23:00-07:00, or off."),
        text=quoted(text.strip()[:32]),
    )


def _clock(text: str) -> time | None:
    m = _HHMM.fullmatch(text)
    return None if m is None else time(int(m.group(1)), int(m.group(2) or 0))


def in_quiet_hours(settings: NotifySettings, now: datetime) -> bool:
    """Whether `now` (aware) falls in the player's quiet hours, on his wall clock: start
    included, end excluded; a range whose end is before its start spans midnight."""
    if settings.quiet is None:
        return False
    local = now.astimezone(ZoneInfo(settings.time_zone)).time().replace(tzinfo=None)
    start, end = settings.quiet.start, settings.quiet.end
    if start < end:
        return start <= local < end
    return local >= start or local < end


def interval_passed(last_sent: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a player last notified at `last_sent` may be notified again at `now`."""
    return last_sent is None or now - last_sent >= interval


def best_race(waiting: Waiting, subscriber: Subscriber, window: float) -> tuple[str, int] | None:
    """The waiting player's race (and MMR) the subscriber could meet him with: among the races
    the subscriber hears about, the one with the closest rating within `window`; else None."""
    wanted = subscriber.settings.races
    best: tuple[float, str, int] | None = None
    for race, mmr in sorted(waiting.mmrs.items()):
        if wanted and race not in wanted:
            continue
        gap = min((abs(mmr - own) for own in subscriber.mmrs.values()), default=float("inf"))
        if gap <= window and (best is None or gap < best[0]):
            best = (gap, race, mmr)
    return None if best is None else (best[1], best[2])


def notice_for(
    waiting: Waiting, subscriber: Subscriber, now: datetime, window: float, interval: timedelta
) -> Notice | None:
    """The notice `subscriber` gets about `waiting` at `now`, or None if a rule says no."""
    s = subscriber.settings
    if not s.enabled or subscriber.uid == waiting.uid or subscriber.busy:
        return None
    if s.regions and waiting.region not in s.regions:
        return None
    if not interval_passed(subscriber.last_sent, now, interval) or in_quiet_hours(s, now):
        return None
    race = best_race(waiting, subscriber, window)
    if race is None:
        return None
    return Notice(subscriber.uid, waiting.uid, waiting.joined_at, race[0], waiting.region, race[1])


def notices(
    waiting: Iterable[Waiting],
    subscribers: Iterable[Subscriber],
    now: datetime,
    window_of: Callable[[int], float],
    interval: timedelta,
) -> list[Notice]:
    """At most one notice per subscriber for these waiting players (longest waiter first)."""
    told: set[int] = set()
    out: list[Notice] = []
    subs = list(subscribers)
    for w in sorted(waiting, key=lambda w: (w.joined_at, w.uid)):
        for sub in subs:
            if sub.uid in told:
                continue
            notice = notice_for(w, sub, now, window_of(w.waves_waited), interval)
            if notice is not None:
                told.add(sub.uid)
                out.append(notice)
    return out


def about_rating(mmr: int) -> int:
    """The rating shown in a notice: rounded to 50, so it hints without identifying."""
    return int(round(mmr / 50) * 50)


def notice_text(race_name: str, region: str | None, mmr: int) -> str:
    """The DM, in the current language (render it in the subscriber's):
    "Someone is looking for a BW Zerg match in EU (about 1650). /queue to play.\""""
    about = about_rating(mmr)
    if region:
        return _(
            "Someone is looking for a {race} match in {region} (about {rating}). /queue to play.",
            race=race_name,
            region=region,
            rating=about,
        )
    return _(
        "Someone is looking for a {race} match (about {rating}). /queue to play.",
        race=race_name,
        rating=about,
    )


def parse_codes(
    text: str,
    known: Iterable[str],
    field: str,
    names: Mapping[str, str],
    aliases: Iterable[tuple[str, str]] = (),
) -> frozenset[str]:
    """A comma-separated list of codes or names ("bw_zerg, SC2 Terran"); "all"/"" → empty
    (all of them). `aliases` are more (code, name) pairs to accept, such as the names in
    other languages. An unknown one is a ValidationError naming it."""
    cleaned = text.strip()
    if cleaned.casefold() in ("", "all", "any"):
        return frozenset()
    by_key = {code.casefold(): code for code in known}
    by_key.update({name.casefold(): code for code, name in aliases})
    by_key.update({name.casefold(): code for code, name in names.items()})
    chosen: set[str] = set()
    for part in cleaned.split(","):
        key = part.strip().casefold()
        if not key:
            continue
        if key not in by_key:
            raise ValidationError(
                field,
                # Translators: {options} are codes (bw_zerg, EU); "all" is typed as is.
                N_("{value} is not one of: {options} (or all)."),
                value=quoted(part.strip()[:32]),
                options=", ".join(known),
            )
        chosen.add(by_key[key])
    return frozenset(chosen)
