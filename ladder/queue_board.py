"""The live queue board: how many players queue per race and region and how long the longest
has waited, never who. Pure: the cog edits the message only when this text changes, so the
wait is shown in whole minutes (a seconds counter would change it on every tick)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

NO_REGION = "no region"


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """One queue entry as the board sees it: races, region, when it joined. No player."""

    races: tuple[str, ...]
    region: str | None
    joined_at: datetime


def wait_text(seconds: float) -> str:
    """A wait in whole minutes: "under a minute", "1 minute", "12 minutes"."""
    minutes = int(max(seconds, 0) // 60)
    if minutes == 0:
        return "under a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def board_text(
    entries: Iterable[BoardEntry],
    now: datetime,
    race_names: Mapping[str, str],
    race_order: Iterable[str],
) -> str:
    """The board's text. A player queued with several races counts once in each race's line
    and once in the total."""
    entries = list(entries)
    if not entries:
        return "Nobody is queueing right now. Use /queue to play."
    counts: Counter[tuple[str, str]] = Counter()
    for e in entries:
        for race in e.races:
            counts[(race, e.region or NO_REGION)] += 1
    order = {race: i for i, race in enumerate(race_order)}
    lines = [f"**{len(entries)} queueing**" if len(entries) != 1 else "**1 queueing**"]
    for (race, region), count in sorted(
        counts.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0][1])
    ):
        lines.append(f"{race_names.get(race, race)} · {region}: {count}")
    longest = max(now - e.joined_at for e in entries).total_seconds()
    lines.append(f"Longest wait: {wait_text(longest)}")
    lines.append("Use /queue to play.")
    return "\n".join(lines)
