"""When people play: the best hours to queue from matches and queue joins per weekday × hour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from i18n import babel_locale, current

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(weekday: int) -> str:
    """The name of a weekday (Monday = 0) in the current language (CLDR's, through Babel)."""
    return str(babel_locale(current()).days["format"]["wide"][weekday])


@dataclass(frozen=True, slots=True)
class BusyHour:
    """One weekday hour (Monday = 0, hour 0-23 in the zone the grids are in) and its counts."""

    weekday: int
    hour: int
    matches: int
    joins: int

    def __str__(self) -> str:
        """E.g. "Monday 20:00-21:00", the weekday in the current language."""
        return f"{weekday_name(self.weekday)} {self.hour:02d}:00-{(self.hour + 1) % 24:02d}:00"


def best_hours(
    matches: Sequence[Sequence[int]], joins: Sequence[Sequence[int]], top: int = 3
) -> list[BusyHour]:
    """The `top` busiest weekday hours, by matches then queue joins (earliest first on ties);
    hours with neither are never "best"."""
    hours = [
        BusyHour(day, hour, matches[day][hour], joins[day][hour])
        for day in range(7)
        for hour in range(24)
        if matches[day][hour] or joins[day][hour]
    ]
    hours.sort(key=lambda h: (-h.matches, -h.joins, h.weekday, h.hour))
    return hours[:top]
