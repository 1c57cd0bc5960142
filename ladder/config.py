"""Ladder settings, read from a TOML file (`data/ladder.toml`) into frozen dataclasses.

Every setting except the season's map pool has a default, documented next to it in
`data/ladder.toml`; a missing optional key takes its default. The map pool is required
because it changes every season and no default pool would be right for a real ladder.

A malformed file raises `ConfigError` naming the file and the key, for example
`data/ladder.toml: rating.k_factor must be a positive number`. Unknown keys are errors too,
so a typo (`k_facor = 32`) is reported instead of silently leaving the default in place.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from i18n import LOCALES, current
from ladder.errors import NotFoundError, ValidationError


class ConfigError(ValidationError):
    """The ladder settings file is unreadable or breaks a rule; `field` is the key at fault.

    For the host at start-up, so in English (not marked for translation)."""

    title = "Bad ladder settings"

    def __init__(self, source: str, key: str, detail: str) -> None:
        super().__init__(key, f"{source}: {detail}")
        self.source = source


# A name per language: ((locale, name), ...), a tuple so that settings stay hashable.
type LocalNames = tuple[tuple[str, str], ...]


def _in_language(name: str, names: LocalNames, language: str) -> str:
    for locale, local in names:
        if locale == language:
            return local
    return name


@dataclass(frozen=True, slots=True)
class Race:
    """A race (faction) players queue with; `code` is stored, `name` is shown (English), and
    `names` holds its name in other languages (i18n locales)."""

    code: str
    name: str
    names: LocalNames = ()

    @property
    def local_name(self) -> str:
        """The name in the current language (i18n), else `name`."""
        return _in_language(self.name, self.names, current())


@dataclass(frozen=True, slots=True)
class Region:
    """A region players pick in their profile; `code` is stored, `name` is shown (English), and
    `names` holds its name in other languages (i18n locales)."""

    code: str
    name: str
    names: LocalNames = ()

    @property
    def local_name(self) -> str:
        """The name in the current language (i18n), else `name`."""
        return _in_language(self.name, self.names, current())


class NamesByCode(Mapping[str, str]):
    """code → name, each read in the current language when looked up (i18n), in file order.

    Build it once at start-up and keep it: `names[code]`, `names.get(code, code)` and
    `names.items()` give the current language's names wherever they are read. (A `dict()` of
    it is a snapshot in one language: keep the mapping itself instead.)"""

    __slots__ = ("_items",)

    def __init__(self, items: tuple[Race, ...] | tuple[Region, ...]) -> None:
        self._items: dict[str, Race | Region] = {item.code: item for item in items}

    def __getitem__(self, code: str) -> str:
        return self._items[code].local_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def english(self) -> dict[str, str]:
        """code → English name (for logs and hosts)."""
        return {code: item.name for code, item in self._items.items()}

    def __repr__(self) -> str:
        return f"NamesByCode({self.english()!r})"


@dataclass(frozen=True, slots=True)
class MatchmakingConfig:
    """How often waves run and how wide the MMR window is after a number of waves."""

    wave_interval_seconds: float = 45
    window_base: float = 100
    window_growth: float = 50
    # Two players who met this recently meet again only if neither has anyone else in reach.
    rematch_minutes: float = 30

    @property
    def wave_interval(self) -> timedelta:
        """Return the time between two matchmaking waves."""
        return timedelta(seconds=self.wave_interval_seconds)

    def window(self, waves_waited: int) -> float:
        """Return the MMR window of a player who has waited `waves_waited` waves."""
        return self.window_base + self.window_growth * waves_waited


@dataclass(frozen=True, slots=True)
class Glicko2Config:
    """Glicko-2 parameters (see docs/ratings.md): a new player's deviation and volatility,
    the system constant τ, the length of a rating period in days, and the deviation above
    which a rating is provisional."""

    deviation: float = 350
    volatility: float = 0.06
    tau: float = 0.5
    period_days: float = 1
    provisional_deviation: float = 110


@dataclass(frozen=True, slots=True)
class RatingConfig:
    """The rating system and its parameters; everyone starts at `start`.

    `system` is "elo" (integer ratings, K `k_factor`, `divisor`) or "glicko2". Elo's rating is
    provisional for a season's first `provisional_games` games, which move it with
    `provisional_k_factor`; `decay_after_days` > 0 turns on Elo decay (off by default).
    """

    start: int = 1500
    k_factor: float = 40
    divisor: float = 500
    system: str = "elo"
    provisional_games: int = 0
    provisional_k_factor: float | None = None
    decay_after_days: int = 0
    decay_per_week: float = 0
    decay_floor: int = 1500
    glicko2: Glicko2Config = Glicko2Config()


@dataclass(frozen=True, slots=True)
class SeasonConfig:
    """How a new season starts from the last one: `soft_reset` keep, reset or pull (toward the
    start rating by `pull_fraction`)."""

    soft_reset: str = "keep"
    pull_fraction: float = 0.5


@dataclass(frozen=True, slots=True)
class LeaderboardConfig:
    """What `/leaderboard` requires by default of the entries it lists."""

    require_settled: bool = False
    min_games: int = 0


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Deadlines of a match and how many aborts a player has per calendar month."""

    confirmation_window_seconds: float = 60
    report_deadline_minutes: float = 60
    aborts_per_month: int = 3

    @property
    def confirmation_window(self) -> timedelta:
        """Return how long both players have to confirm a new match."""
        return timedelta(seconds=self.confirmation_window_seconds)

    @property
    def report_window(self) -> timedelta:
        """Return how long after the match starts (both confirmed) reports are accepted."""
        return timedelta(minutes=self.report_deadline_minutes)


DEFAULT_REPLAY_RACES: tuple[tuple[str, str], ...] = (
    ("terran", "sc2_terran"), ("zerg", "sc2_zerg"), ("protoss", "sc2_protoss"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """Replay uploads (see docs/replays.md): what a verified replay does (`mode`: "evidence",
    "report" or "decides"), the largest file, where files are kept, the parser's limits, and
    the mappings from a replay's map and race names to the ladder's (keys normalised)."""

    mode: str = "report"
    max_bytes: int = 5 * 1024 * 1024
    folder: str = "replays"  # relative: beside the database file (data/replays)
    parse_timeout_seconds: float = 10
    parse_memory_mb: int = 512
    download_timeout_seconds: float = 15
    maps: tuple[tuple[str, str], ...] = ()
    races: tuple[tuple[str, str], ...] = DEFAULT_REPLAY_RACES


# Defaults of data/ladder.toml's [cooldowns.commands], in seconds.
DEFAULT_COMMAND_COOLDOWNS: tuple[tuple[str, float], ...] = (
    ("leaderboard", 2),
    ("setup", 10),
    ("queue", 3),
    ("queue_view:join", 3),
    ("queue:leave", 3),
)


@dataclass(frozen=True, slots=True)
class CooldownConfig:
    """Seconds between two uses of a command, per command; the per-player global budget."""

    commands: tuple[tuple[str, float], ...] = DEFAULT_COMMAND_COOLDOWNS
    budget_calls: int = 20
    budget_seconds: float = 10


@dataclass(frozen=True, slots=True)
class NotificationConfig:
    """Queue notifications (/notify): how long a player waits before subscribers hear of him,
    the least time between two notifications to one player, and when one is too old to send."""

    wait_seconds: float = 20
    interval_minutes: float = 30
    max_age_seconds: float = 120

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.interval_minutes)


@dataclass(frozen=True, slots=True)
class QueueBoardConfig:
    """The live queue board (QUEUE_CHANNEL_ID): the least time between two of its edits."""

    edit_interval_seconds: float = 10


DEFAULT_RANK_SHARES: tuple[tuple[str, float], ...] = (
    ("S", 1), ("A", 7), ("B", 21), ("C", 21), ("D", 21), ("E", 21), ("F", 8),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RankConfig:
    """Letter ranks, best first, with the percentage of ranked entries each one covers."""

    shares: tuple[tuple[str, float], ...] = DEFAULT_RANK_SHARES
    inactive_days: int = 14


def _names(es: str, ko: str, ru: str, zh_cn: str) -> LocalNames:
    return (("es", es), ("ko", ko), ("ru", ru), ("zh_CN", zh_cn))


# The same as data/ladder.toml ships (a test keeps them equal).
DEFAULT_RACES: tuple[Race, ...] = (
    Race(
        "bw_terran",
        "BW Terran",
        _names("BW Terran", "브루드워 테란", "BW Терраны", "母巢之战 人族"),
    ),
    Race("bw_zerg", "BW Zerg", _names("BW Zerg", "브루드워 저그", "BW Зерги", "母巢之战 虫族")),
    Race(
        "bw_protoss",
        "BW Protoss",
        _names("BW Protoss", "브루드워 프로토스", "BW Протоссы", "母巢之战 神族"),
    ),
    Race(
        "sc2_terran", "SC2 Terran", _names("SC2 Terran", "스타2 테란", "SC2 Терраны", "星际2 人族")
    ),
    Race("sc2_zerg", "SC2 Zerg", _names("SC2 Zerg", "스타2 저그", "SC2 Зерги", "星际2 虫族")),
    Race(
        "sc2_protoss",
        "SC2 Protoss",
        _names("SC2 Protoss", "스타2 프로토스", "SC2 Протоссы", "星际2 神族"),
    ),
)

DEFAULT_REGIONS: tuple[Region, ...] = (
    Region("NA", "North America", _names("Norteamérica", "북미", "Северная Америка", "北美")),
    Region("SA", "South America", _names("Sudamérica", "남미", "Южная Америка", "南美")),
    Region("EU", "Europe", _names("Europa", "유럽", "Европа", "欧洲")),
    Region(
        "CIS",
        "Russia and CIS",
        _names("Rusia y la CEI", "러시아 및 CIS", "Россия и СНГ", "俄罗斯及独联体"),
    ),
    Region("KR", "Korea", _names("Corea", "한국", "Корея", "韩国")),
    Region("CN", "China", _names("China", "중국", "Китай", "中国")),
    Region(
        "SEA",
        "Southeast Asia",
        _names("Sudeste Asiático", "동남아시아", "Юго-Восточная Азия", "东南亚"),
    ),
    Region("OCE", "Oceania", _names("Oceanía", "오세아니아", "Океания", "大洋洲")),
)

DEFAULT_MAX_VETOES = 4


@dataclass(frozen=True, slots=True)
class LadderConfig:
    """Every ladder setting, as loaded from `data/ladder.toml`."""

    map_pool: tuple[str, ...]
    max_vetoes: int = DEFAULT_MAX_VETOES
    # Optional names of pool maps in other languages: ((map, ((locale, name), ...)), ...).
    map_names: tuple[tuple[str, LocalNames], ...] = ()
    races: tuple[Race, ...] = DEFAULT_RACES
    regions: tuple[Region, ...] = DEFAULT_REGIONS
    matchmaking: MatchmakingConfig = MatchmakingConfig()
    rating: RatingConfig = RatingConfig()
    matches: MatchConfig = MatchConfig()
    ranks: RankConfig = RankConfig()
    season: SeasonConfig = SeasonConfig()
    leaderboard: LeaderboardConfig = LeaderboardConfig()
    cooldowns: CooldownConfig = CooldownConfig()
    notifications: NotificationConfig = NotificationConfig()
    queue_board: QueueBoardConfig = QueueBoardConfig()
    replay: ReplayConfig = ReplayConfig()

    @property
    def race_codes(self) -> tuple[str, ...]:
        """Return the race codes in file order."""
        return tuple(r.code for r in self.races)

    @property
    def region_codes(self) -> tuple[str, ...]:
        """Return the region codes in file order."""
        return tuple(r.code for r in self.regions)

    def race(self, code: str) -> Race:
        """Return the race with this code, or raise NotFoundError."""
        for race in self.races:
            if race.code == code:
                return race
        raise NotFoundError("race", code)

    def region(self, code: str) -> Region:
        """Return the region with this code, or raise NotFoundError."""
        for region in self.regions:
            if region.code == code:
                return region
        raise NotFoundError("region", code)

    @property
    def race_names(self) -> NamesByCode:
        """code → race name in the current language (read at each look-up), in file order."""
        return NamesByCode(self.races)

    @property
    def region_names(self) -> NamesByCode:
        """code → region name in the current language (read at each look-up), in file order."""
        return NamesByCode(self.regions)

    def race_name(self, code: str) -> str:
        """The race's name in the current language; the code itself if there is no such race."""
        for race in self.races:
            if race.code == code:
                return race.local_name
        return code

    def region_name(self, code: str) -> str:
        """The region's name in the current language; the code itself if there is none."""
        for region in self.regions:
            if region.code == code:
                return region.local_name
        return code

    def map_name(self, name: str) -> str:
        """A pool map's name as shown in the current language (most maps keep their name)."""
        for pool_name, names in self.map_names:
            if pool_name == name:
                return _in_language(name, names, current())
        return name


_RACE_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_REGION_CODE = re.compile(r"[A-Z][A-Z0-9]{1,7}")
_REQUIRED: Any = object()


class _Table:
    """Reads one TOML table, remembering which keys were used so leftovers can be reported."""

    def __init__(self, data: Any, prefix: str, source: str) -> None:
        self.prefix = prefix
        self.source = source
        if not isinstance(data, dict):
            self.fail_self("must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, detail: str) -> NoReturn:
        key = self.key(name)
        raise ConfigError(self.source, key, f"{key} {detail}")

    def fail_self(self, detail: str) -> NoReturn:
        raise ConfigError(self.source, self.prefix, f"{self.prefix or 'the file'} {detail}")

    def get(self, name: str, default: Any) -> Any:
        self.used.add(name)
        if name in self.data:
            return self.data[name]
        if default is _REQUIRED:
            self.fail(name, "is required")
        return default

    def has(self, name: str) -> bool:
        return name in self.data

    def number(self, name: str, default: Any, *, positive: bool) -> float:
        value = self.get(name, default)
        # bool is an int subclass; `true` is never a sensible number here.
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
        if positive and not (ok and value > 0):
            self.fail(name, "must be a positive number")
        if not positive and not (ok and value >= 0):
            self.fail(name, "must be a number that is not negative")
        return value

    def integer(self, name: str, default: Any, *, positive: bool) -> int:
        value = self.get(name, default)
        ok = isinstance(value, int) and not isinstance(value, bool)
        if positive and not (ok and value > 0):
            self.fail(name, "must be a positive whole number")
        if not positive and not (ok and value >= 0):
            self.fail(name, "must be a whole number that is not negative")
        return value

    def string(self, name: str, default: Any) -> str:
        value = self.get(name, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty string")
        return value.strip()

    def table(self, name: str) -> _Table:
        return _Table(self.get(name, {}), self.key(name), self.source)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(unknown[0], "is not a known setting")


def _coded_list(
    root: _Table, name: str, default: tuple[Any, ...], cls: type, pattern: re.Pattern[str]
) -> tuple[Any, ...]:
    # Races and regions share a shape: an array of {code, name} tables with unique codes.
    if not root.has(name):
        root.used.add(name)
        return default
    items = root.get(name, default)
    if not isinstance(items, list) or not items:
        root.fail(name, "must be a non-empty array of tables with a code and a name")
    out = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        t = _Table(item, f"{name}[{i}]", root.source)
        code = t.string("code", _REQUIRED)
        if not pattern.fullmatch(code):
            t.fail("code", f"{code!r} must match {pattern.pattern}")
        if code in seen:
            t.fail("code", f"{code!r} is listed twice")
        seen.add(code)
        out.append(cls(code, t.string("name", _REQUIRED), _local_names(t, "names")))
        t.finish()
    return tuple(out)


def _local_names(t: _Table, name: str) -> LocalNames:
    """An optional table of names per language: `{ ko = "...", ru = "..." }`, whose keys must
    be the bot's languages (i18n.LOCALES) and whose values non-empty strings."""
    if not t.has(name):
        t.used.add(name)
        return ()
    table = t.table(name)
    out = []
    for locale in table.data:
        if locale not in LOCALES:
            table.fail(locale, f"is not one of the bot's languages ({', '.join(LOCALES)})")
        out.append((locale, table.string(locale, _REQUIRED)))
    table.finish()
    return tuple(out)


def parse_ladder_config(data: Mapping[str, Any], source: str = "ladder.toml") -> LadderConfig:
    """Build a LadderConfig from parsed TOML; `source` names the file in error messages."""
    root = _Table(dict(data), "", source)
    races = _coded_list(root, "races", DEFAULT_RACES, Race, _RACE_CODE)
    regions = _coded_list(root, "regions", DEFAULT_REGIONS, Region, _REGION_CODE)

    season = root.table("season")
    pool = season.get("map_pool", _REQUIRED)
    if not isinstance(pool, list) or not pool:
        season.fail("map_pool", "must be a non-empty array of map names")
    maps: list[str] = []
    for i, m in enumerate(pool):
        if not isinstance(m, str) or not m.strip():
            season.fail(f"map_pool[{i}]", "must be a non-empty string")
        if m.strip() in maps:
            season.fail(f"map_pool[{i}]", f"{m.strip()!r} is listed twice")
        maps.append(m.strip())
    map_names = []
    names_table = season.table("map_names")
    for map_name in names_table.data:
        if map_name not in maps:
            names_table.fail(repr(map_name), "must be a map of season.map_pool")
        map_names.append((map_name, _local_names(names_table, map_name)))
    names_table.finish()
    max_vetoes = season.integer("max_vetoes", DEFAULT_MAX_VETOES, positive=False)
    d_se = SeasonConfig()
    soft_reset = season.get("soft_reset", d_se.soft_reset)
    if soft_reset not in ("keep", "reset", "pull"):
        season.fail("soft_reset", 'must be "keep", "reset" or "pull"')
    pull_fraction = season.number("pull_fraction", d_se.pull_fraction, positive=False)
    if pull_fraction > 1:
        season.fail("pull_fraction", "must be between 0 and 1")
    season_config = SeasonConfig(soft_reset, pull_fraction)
    # At least one map must survive one player's vetoes; see matchmaking's map rule.
    if max_vetoes >= len(maps):
        season.fail(
            "max_vetoes",
            f"must be less than the number of maps in season.map_pool ({len(maps)})",
        )
    season.finish()

    mm = root.table("matchmaking")
    d_mm = MatchmakingConfig()
    matchmaking = MatchmakingConfig(
        wave_interval_seconds=mm.number(
            "wave_interval_seconds", d_mm.wave_interval_seconds, positive=True
        ),
        window_base=mm.number("window_base", d_mm.window_base, positive=False),
        window_growth=mm.number("window_growth", d_mm.window_growth, positive=False),
        rematch_minutes=mm.number("rematch_minutes", d_mm.rematch_minutes, positive=False),
    )
    mm.finish()

    rt = root.table("rating")
    d_rt = RatingConfig()
    rating = RatingConfig(
        start=rt.integer("start", d_rt.start, positive=False),
        k_factor=rt.number("k_factor", d_rt.k_factor, positive=True),
        divisor=rt.number("divisor", d_rt.divisor, positive=True),
        system=_system(rt),
        provisional_games=rt.integer("provisional_games", d_rt.provisional_games, positive=False),
        provisional_k_factor=(
            rt.number("provisional_k_factor", _REQUIRED, positive=True)
            if rt.has("provisional_k_factor")
            else None
        ),
        decay_after_days=rt.integer("decay_after_days", d_rt.decay_after_days, positive=False),
        decay_per_week=rt.number("decay_per_week", d_rt.decay_per_week, positive=False),
        decay_floor=rt.integer("decay_floor", d_rt.decay_floor, positive=False),
        glicko2=_glicko2(rt.table("glicko2")),
    )
    rt.used.add("provisional_k_factor")
    rt.finish()

    lb = root.table("leaderboard")
    d_lb = LeaderboardConfig()
    require_settled = lb.get("require_settled", d_lb.require_settled)
    if not isinstance(require_settled, bool):
        lb.fail("require_settled", "must be true or false")
    leaderboard = LeaderboardConfig(
        require_settled=require_settled,
        min_games=lb.integer("min_games", d_lb.min_games, positive=False),
    )
    lb.finish()

    mt = root.table("matches")
    d_mt = MatchConfig()
    matches = MatchConfig(
        confirmation_window_seconds=mt.number(
            "confirmation_window_seconds", d_mt.confirmation_window_seconds, positive=True
        ),
        report_deadline_minutes=mt.number(
            "report_deadline_minutes", d_mt.report_deadline_minutes, positive=True
        ),
        aborts_per_month=mt.integer("aborts_per_month", d_mt.aborts_per_month, positive=False),
    )
    mt.finish()

    rk = root.table("ranks")
    d_rk = RankConfig()
    shares = d_rk.shares
    if rk.has("shares"):
        st = rk.table("shares")
        if not st.data:
            rk.fail("shares", "must list at least one rank")
        for letter in st.data:
            if not letter.strip():
                st.fail(repr(letter), "must be a non-empty rank name")
        # Table order is rank order, best first (tomllib keeps the file's order).
        shares = tuple((letter, st.number(letter, _REQUIRED, positive=False)) for letter in st.data)
        total = sum(share for _, share in shares)
        if abs(total - 100) > 1e-9:
            rk.fail("shares", f"must add up to 100 (they add up to {total:g})")
    else:
        rk.used.add("shares")
    ranks = RankConfig(
        shares=shares, inactive_days=rk.integer("inactive_days", d_rk.inactive_days, positive=True)
    )
    rk.finish()
    cooldowns = _cooldowns(root.table("cooldowns"))
    nt = root.table("notifications")
    d_nt = NotificationConfig()
    notifications = NotificationConfig(
        wait_seconds=nt.number("wait_seconds", d_nt.wait_seconds, positive=False),
        interval_minutes=nt.number("interval_minutes", d_nt.interval_minutes, positive=False),
        max_age_seconds=nt.number("max_age_seconds", d_nt.max_age_seconds, positive=True),
    )
    nt.finish()
    qb = root.table("queue_board")
    queue_board = QueueBoardConfig(
        edit_interval_seconds=qb.number(
            "edit_interval_seconds", QueueBoardConfig().edit_interval_seconds, positive=True
        )
    )
    qb.finish()
    replay = _replay(root.table("replay"), {r.code for r in races})
    root.finish()

    return LadderConfig(
        map_pool=tuple(maps),
        max_vetoes=max_vetoes,
        map_names=tuple(map_names),
        races=races,
        regions=regions,
        matchmaking=matchmaking,
        rating=rating,
        matches=matches,
        ranks=ranks,
        season=season_config,
        leaderboard=leaderboard,
        cooldowns=cooldowns,
        notifications=notifications,
        queue_board=queue_board,
        replay=replay,
    )


def _system(rt: _Table) -> str:
    system = rt.get("system", RatingConfig().system)
    if system not in ("elo", "glicko2"):
        rt.fail("system", 'must be "elo" or "glicko2"')
    return str(system)


def _glicko2(g2: _Table) -> Glicko2Config:
    d = Glicko2Config()
    config = Glicko2Config(
        deviation=g2.number("deviation", d.deviation, positive=True),
        volatility=g2.number("volatility", d.volatility, positive=True),
        tau=g2.number("tau", d.tau, positive=True),
        period_days=g2.number("period_days", d.period_days, positive=True),
        provisional_deviation=g2.number(
            "provisional_deviation", d.provisional_deviation, positive=True
        ),
    )
    g2.finish()
    return config


def _replay(rp: _Table, race_codes: set[str]) -> ReplayConfig:
    # Keys of the mappings are compared normalised (ladder.replays.map_key, casefold).
    from ladder.replays import map_key

    d = ReplayConfig()
    mode = rp.get("mode", d.mode)
    if mode not in ("evidence", "report", "decides"):
        rp.fail("mode", 'must be "evidence", "report" or "decides"')
    maps: list[tuple[str, str]] = []
    for name, pool_name in rp.table("maps").data.items():
        if not isinstance(pool_name, str) or not pool_name.strip() or not map_key(name):
            rp.fail(f"maps.{name}", "must map a replay's map name to a map name")
        maps.append((map_key(name), pool_name.strip()))
    races = d.races
    if rp.has("races"):
        table = rp.table("races")
        races = ()
        for name, code in table.data.items():
            if code not in race_codes:
                table.fail(name, f"must be one of the ladder's race codes, not {code!r}")
            races += ((name.casefold().strip(), code),)
    else:
        rp.used.add("races")
    config = ReplayConfig(
        mode=str(mode),
        max_bytes=rp.integer("max_bytes", d.max_bytes, positive=True),
        folder=rp.string("folder", d.folder),
        parse_timeout_seconds=rp.number(
            "parse_timeout_seconds", d.parse_timeout_seconds, positive=True
        ),
        parse_memory_mb=rp.integer("parse_memory_mb", d.parse_memory_mb, positive=True),
        download_timeout_seconds=rp.number(
            "download_timeout_seconds", d.download_timeout_seconds, positive=True
        ),
        maps=tuple(maps),
        races=races,
    )
    rp.finish()
    return config


def _cooldowns(cd: _Table) -> CooldownConfig:
    d = CooldownConfig()
    commands = d.commands
    if cd.has("commands"):
        table = cd.table("commands")
        commands = tuple(
            (name.strip(), table.number(name, _REQUIRED, positive=False)) for name in table.data
        )
        if any(not name for name, _ in commands):
            cd.fail("commands", "must name commands with non-empty keys")
    else:
        cd.used.add("commands")
    config = CooldownConfig(
        commands=commands,
        budget_calls=cd.integer("budget_calls", d.budget_calls, positive=True),
        budget_seconds=cd.number("budget_seconds", d.budget_seconds, positive=True),
    )
    cd.finish()
    return config


def load_ladder_config(path: str | os.PathLike[str]) -> LadderConfig:
    """Read and validate the ladder settings file, raising ConfigError if it is malformed."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(source, "", f"cannot be read ({e.strerror or e})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(source, "", f"is not valid TOML ({e})") from e
    return parse_ladder_config(data, source)
