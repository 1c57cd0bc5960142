"""The live queue board: how many players queue per race and region and how long the longest
has waited, never who. Pure: the cog edits the message only when this text changes, so the
wait is shown in whole minutes (a seconds counter would change it on every tick)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from i18n import N_, _, format_number, n_

# Translators: shown on the queue board for players who have not picked a region.
NO_REGION = N_("no region")


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """One queue entry as the board sees it: races, region, when it joined. No player."""

    races: tuple[str, ...]
    region: str | None
    joined_at: datetime


def wait_text(seconds: float) -> str:
    """A wait in whole minutes, in the current language: "under a minute", "1 minute",
    "12 minutes"."""
    minutes = int(max(seconds, 0) // 60)
    if minutes == 0:
        return _("under a minute")
    return n_("{count} minute", "{count} minutes", minutes)


def board_text(
    entries: Iterable[BoardEntry],
    now: datetime,
    race_names: Mapping[str, str],
    race_order: Iterable[str],
) -> str:
    """The board's text. A player queued with several races counts once in each race's line
    and once in the total. In the current language (the board's channel is shared: the cog
    leaves it in English)."""
    entries = list(entries)
    if not entries:
        return _("Nobody is queueing right now. Use /queue to play.")
    counts: Counter[tuple[str, str | None]] = Counter()
    for e in entries:
        for race in e.races:
            counts[(race, e.region)] += 1
    order = {race: i for i, race in enumerate(race_order)}
    lines = [n_("**{count} queueing**", "**{count} queueing**", len(entries))]
    for (race, region), count in sorted(
        # Players without a region come after every region.
        counts.items(),
        key=lambda item: (order.get(item[0][0], len(order)), item[0][1] is None, item[0][1] or ""),
    ):
        lines.append(
            # Translators: one line of the queue board: a race, a region, how many queue.
            _(
                "{race} · {region}: {count}",
                race=race_names.get(race, race),
                region=region or _(NO_REGION),
                count=format_number(count),
            )
        )
    longest = max(now - e.joined_at for e in entries).total_seconds()
    lines.append(_("Longest wait: {wait}", wait=wait_text(longest)))
    lines.append(_("Use /queue to play."))
    return "\n".join(lines)
