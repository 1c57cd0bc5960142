"""Replays as evidence: the facts a replay file holds and the rules that check it against a match.

A replay names the two players, their races, the map, when it was played and who won. The
parser (`storage.replay_parser`) turns a file into `ReplayFacts`; `verify` checks the facts
against the match, one rule at a time, each with its own message:

1. a 1v1 between two people: no co-op mission (`coop`), no team game (`not_1v1`), no computer
   player (`computer`);
2. someone won (`no_result`): a replay without a winner settles nothing;
3. the in-game names are the match's two players, in either slot: a player's battletag name
   (`Name` of `Name#1234`) or one of his alt names, compared case-insensitively (`names`);
4. the map is the match's map: names are compared normalised (case, spaces and punctuation
   ignored, a trailing season tag `LE`/`TE`/`CE` dropped), after `replay.maps` in
   `data/ladder.toml` maps a replay's map name to a pool name (`map`);
5. each player played the race he queued with, through `replay.races`, which maps a replay's
   race name (`Terran`) to a ladder race code (`sc2_terran`) (`race`). A race the mapping does
   not name cannot be told apart from the others, so it is not checked: a ladder whose codes the
   replay cannot distinguish (BW races, or an SC2 race picked as Random) checks players, map,
   time and result only;
6. the game started after the match was created and before its report deadline (`too_early`,
   `too_late`);
7. the file (its SHA-256) was never uploaded before, for any match (`duplicate`); the service
   checks this one before parsing, as it needs no facts.

The verdict carries the result the replay proves, from player 1's side of the match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from i18n import N_, Text, _, lazy
from ladder.errors import ValidationError, quoted
from ladder.rating import Result

REPLAY_SUFFIX = ".sc2replay"
# A game may start a little before the match shows as created (clocks differ): this much slack.
CLOCK_SLACK = timedelta(minutes=5)


class ReplayMode(StrEnum):
    """What a verified replay does (`replay.mode` in data/ladder.toml)."""

    EVIDENCE = "evidence"  # stored and shown; players still report
    REPORT = "report"  # counts as the uploader's report of the replay's result
    DECIDES = "decides"  # finishes the match with its result, overriding reports


class Refusal(StrEnum):
    """Why a replay does not verify; stored with it and counted by `bot.py stats`."""

    COOP = "coop"
    NOT_1V1 = "not_1v1"
    COMPUTER = "computer"
    NO_RESULT = "no_result"
    NAMES = "names"
    MAP = "map"
    RACE = "race"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"


_UNREADABLE = {
    "unreadable": N_(
        "That file is not a StarCraft II replay the bot can read (damaged, cut short, "
        "or another kind of file)."
    ),
    "memory": N_("That file needs far more memory to read than a replay does, so it was not read."),
    "timeout": N_(
        "Reading that file took too long, so it was stopped. If it is a real replay, "
        "please try once more."
    ),
    "crashed": N_(
        "The replay reader stopped unexpectedly on that file. If it is a real replay, "
        "please try once more."
    ),
}


class ReplayUnreadableError(ValidationError):
    """The file could not be read as a replay; `reason` is one of the codes above."""

    title = N_("Replay not read")

    def __init__(self, reason: str) -> None:
        super().__init__("file", _UNREADABLE.get(reason, _UNREADABLE["unreadable"]))
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReplayPlayer:
    """One player slot of a replay, as the game recorded it."""

    name: str
    race: str
    result: str | None  # "Win", "Loss", "Tie" or None (no result recorded)
    human: bool
    team: int | None = None


@dataclass(frozen=True, slots=True)
class ReplayFacts:
    """What a replay file says about its game."""

    release: str | None
    map_name: str
    game_type: str | None  # "1v1", "2v2", "3v4", ...
    start_time: datetime | None
    length_seconds: int | None
    players: tuple[ReplayPlayer, ...]
    category: str | None = None  # "Ladder", "Private", ...

    @property
    def humans(self) -> tuple[ReplayPlayer, ...]:
        return tuple(p for p in self.players if p.human)

    def to_dict(self) -> dict[str, Any]:
        """The facts as JSON values (stored with the replay)."""
        return {
            "release": self.release,
            "map": self.map_name,
            "game_type": self.game_type,
            "category": self.category,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "length_seconds": self.length_seconds,
            "players": [
                {"name": p.name, "race": p.race, "result": p.result, "human": p.human,
                 "team": p.team}
                for p in self.players
            ],
        }  # fmt: skip


def facts_from_dict(data: Mapping[str, Any]) -> ReplayFacts:
    """Build facts from `ReplayFacts.to_dict()`'s shape (the worker's answer, a stored row);
    KeyError, TypeError or ValueError if it is not that shape."""

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("expected text")
        return value

    start = text(data.get("start_time"))
    length = data.get("length_seconds")
    if length is not None and not isinstance(length, int):
        raise TypeError("length_seconds")
    players = []
    for p in data["players"]:
        team = p.get("team")
        players.append(
            ReplayPlayer(
                name=text(p["name"]) or "",
                race=text(p["race"]) or "",
                result=text(p.get("result")),
                human=bool(p["human"]),
                team=team if isinstance(team, int) else None,
            )
        )
    return ReplayFacts(
        release=text(data.get("release")),
        map_name=text(data["map"]) or "",
        game_type=text(data.get("game_type")),
        start_time=datetime.fromisoformat(start) if start else None,
        length_seconds=length,
        players=tuple(players),
        category=text(data.get("category")),
    )


@dataclass(frozen=True, slots=True)
class MatchFacts:
    """What verification needs of a match: who played which race on which map, and when."""

    match_id: int
    player1_names: tuple[str, ...]
    player2_names: tuple[str, ...]
    player1_race: str
    player2_race: str
    map_name: str
    created_at: datetime
    report_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `verify`: verified with the proven result, or the first broken rule."""

    refusal: Refusal | None
    message: Text  # shown in the current language when rendered (str(), an f-string)
    result: Result | None = None  # player 1's side of the match
    player1_slot: int | None = None  # which replay slot is the match's player 1

    @property
    def verified(self) -> bool:
        return self.refusal is None


def battletag_name(battletag: str | None) -> str | None:
    """Return the name part of a battletag (`Name` of `Name#1234`)."""
    if not battletag:
        return None
    return battletag.split("#", 1)[0] or None


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SEASON_TAG = re.compile(r"\s+(le|te|ce)$")


def map_key(name: str) -> str:
    """Normalise a map name: case-folded, NFKC, a trailing LE/TE/CE dropped, only letters and
    digits kept (`Abyssal Reef LE` and `abyssal-reef` give the same key)."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = _SEASON_TAG.sub("", text)
    return _NOT_WORD.sub("", text)


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def verify(
    facts: ReplayFacts,
    match: MatchFacts,
    *,
    maps: Mapping[str, str] | None = None,
    races: Mapping[str, str] | None = None,
) -> Verdict:
    """Check the replay against the match (rules 1–6 of the module docstring)."""
    players = facts.players
    computers = [p for p in players if not p.human]
    if len(players) > 2 and computers:
        return Verdict(
            Refusal.COOP,
            lazy(
                "This replay is a co-op or custom game with {slots} slots, some played by "
                "the computer, not a 1v1 between two people.",
                slots=len(players),
            ),
        )
    if len(players) != 2:
        return Verdict(
            Refusal.NOT_1V1,
            lazy(
                "This replay has {count} players, not a 1v1 between two people.",
                count=len(players),
            ),
        )
    if computers:
        return Verdict(
            Refusal.COMPUTER,
            lazy(
                "This replay is a game against the computer ({name}), not against your opponent.",
                name=quoted(computers[0].name),
            ),
        )
    first, second = players
    results = {first.result, second.result}
    if results not in ({"Win", "Loss"}, {"Tie"}):
        return Verdict(Refusal.NO_RESULT, lazy("This replay does not record who won the game."))

    slot = _slot_of_player1(facts, match)
    if slot is None:
        return Verdict(
            Refusal.NAMES,
            lazy(
                "The players in this replay ({name1} and {name2}) are not the two players of "
                "match #{match}: the names must be their battletag names or alt names.",
                name1=quoted(first.name),
                name2=quoted(second.name),
                match=match.match_id,
            ),
        )
    p1, p2 = (first, second) if slot == 0 else (second, first)

    pool_name = (maps or {}).get(map_key(facts.map_name), facts.map_name)
    if map_key(pool_name) != map_key(match.map_name):
        return Verdict(
            Refusal.MAP,
            lazy(
                "This replay was played on {replay_map}, but match #{match} is on {match_map}.",
                replay_map=quoted(facts.map_name),
                match=match.match_id,
                match_map=quoted(match.map_name),
            ),
        )

    race_codes = races or {}
    for player, expected in ((p1, match.player1_race), (p2, match.player2_race)):
        played = race_codes.get(player.race.casefold())
        if played is not None and expected in race_codes.values() and played != expected:
            return Verdict(
                Refusal.RACE,
                lazy(
                    # Translators: {race} is the replay's race name (`Terran`), {code} the
                    # ladder's race code (`sc2_zerg`).
                    "In this replay {name} played {race}, but queued for match #{match} as "
                    "`{code}`.",
                    name=quoted(player.name),
                    race=quoted(player.race),
                    match=match.match_id,
                    code=expected,
                ),
            )

    start = facts.start_time
    if start is None or start < match.created_at - CLOCK_SLACK:
        if start is None:
            early = lazy(
                "This game was played before match #{match} was made.", match=match.match_id
            )
        else:
            early = lazy(
                "This game was played before match #{match} was made (it started {time} UTC).",
                match=match.match_id,
                time=f"{start:%Y-%m-%d %H:%M}",
            )
        return Verdict(Refusal.TOO_EARLY, early)
    if match.report_deadline is not None and start > match.report_deadline:
        return Verdict(
            Refusal.TOO_LATE,
            lazy("This game started after match #{match}'s report deadline.", match=match.match_id),
        )

    if p1.result == "Tie":
        result = Result.DRAW
    else:
        result = Result.P1_WIN if p1.result == "Win" else Result.P2_WIN
    return Verdict(None, lazy("The replay matches the match."), result, slot)


def _slot_of_player1(facts: ReplayFacts, match: MatchFacts) -> int | None:
    """Return which replay slot (0 or 1) holds the match's player 1, or None if the two names
    are not the two players."""
    one = {_name_key(n) for n in match.player1_names if n}
    two = {_name_key(n) for n in match.player2_names if n}
    a, b = (_name_key(p.name) for p in facts.players)
    if a in one and b in two:
        return 0
    if a in two and b in one:
        return 1
    return None


def describe(facts: ReplayFacts) -> str:
    """One line of what the replay shows, player text quoted (for messages and the admin), in
    the current language."""
    people = []
    for p in facts.players[:4]:
        name, race = quoted(p.name, 32), quoted(p.race, 16)
        if p.result == "Win":
            people.append(_("{name} ({race}, won)", name=name, race=race))
        else:
            people.append(_("{name} ({race})", name=name, race=race))
    # Translators: between the players of a replay: "`A` (`Zerg`) vs `B` (`Terran`)".
    shown = _(" vs ").join(people)
    if facts.start_time:
        return _(
            "{players} on {map}, {time} UTC",
            players=shown,
            map=quoted(facts.map_name, 48),
            time=f"{facts.start_time:%Y-%m-%d %H:%M}",
        )
    return _("{players} on {map}", players=shown, map=quoted(facts.map_name, 48))


# What a refusal means, short: for the admin's dispute view and the match page.
# English message ids: translate where shown, `_(REFUSAL_TEXT[refusal])`.
REFUSAL_TEXT: dict[Refusal, str] = {
    Refusal.COOP: N_("a co-op or custom game, not a 1v1"),
    Refusal.NOT_1V1: N_("not a 1v1"),
    Refusal.COMPUTER: N_("a game against the computer"),
    Refusal.NO_RESULT: N_("no winner recorded"),
    Refusal.NAMES: N_("the names are not the two players'"),
    Refusal.MAP: N_("another map"),
    Refusal.RACE: N_("another race"),
    Refusal.TOO_EARLY: N_("played before the match was made"),
    Refusal.TOO_LATE: N_("played after the match's report deadline"),
}


class ReplayEffect(StrEnum):
    """What an upload did to its match (stored with the replay)."""

    EVIDENCE = "evidence"  # stored and shown only (evidence mode, or not verified)
    REPORTED = "reported"  # counted as the uploader's report (report mode)
    DECIDED = "decided"  # finished the match with its result (decides mode)
    FLAGGED = "flagged"  # verified, but contradicts the uploader's own report: admins told
    ALREADY = "already"  # verified; the match already had this result
    LATE = "late"  # verified, but the match was no longer open to reports


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One uploaded replay as stored."""

    id: int
    match_id: int
    uploader: int
    sha256: str
    size: int
    facts: ReplayFacts
    refusal: Refusal | None
    result: Result | None
    effect: ReplayEffect
    uploaded_at: datetime

    @property
    def verified(self) -> bool:
        return self.refusal is None

    def proves(self) -> str:
        """One line: what the replay shows and whether it verified (player text quoted), in
        the current language."""
        if self.refusal is None:
            return _("{replay}; verified", replay=describe(self.facts))
        return _(
            "{replay}; not verified: {reason}",
            replay=describe(self.facts),
            reason=_(REFUSAL_TEXT[self.refusal]),
        )
