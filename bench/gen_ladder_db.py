"""Build a big ladder database for bench_ladder.py: players × races ratings and finished matches.

    python bench/gen_ladder_db.py [--players 100000] [--races 2] [--matches 1000000]
                                  [--path /tmp/ladderbot-bench/ladder.db] [--seed 1]

The schema comes from the real migrations (`storage.database.Database.open`); rows are then
written with plain sqlite3 `executemany` in big transactions. Every number is consistent:
each match's `player*_mmr` and `mmr_change` come from `ladder.rating.replay` over the finished
matches in id order (= the order they ended), and `ratings` holds the replay's final ratings
with W/L/D, games and last_played_at counted from the same matches. Matches end over the last
120 days, so about a third of the entries have no game in the last 14 days (unranked). About
2% more matches end aborted, cancelled or invalidated (no rating change), and those players'
aborts this month are in `aborts`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ladder.config import DEFAULT_RACES, RatingConfig
from ladder.rating import replay
from storage.database import Database, format_time

DEFAULT_PATH = Path("/tmp/ladderbot-bench/ladder.db")
MAPS = ("Fighting Spirit", "Circuit Breaker", "Polypoid", "Eclipse", "Vermeer", "Radeon")
# A long tail of countries, most players in a few of them (Zipf-like weights).
_COUNTRY_TEXT = (
    "US KR DE FR GB BR RU CN PL CA SE ES UA IT NL AU FI NO DK BE AT CH CZ PT AR MX CL JP TW "
    "HU RO BG GR TR IL IN SG MY TH VN PH ID NZ IE IS EE LV LT SK SI HR RS BY KZ ZA EG MA PE CO"
)
COUNTRIES = tuple(_COUNTRY_TEXT.split())
DAYS = 120
OTHER_SHARE = 0.02  # aborted / cancelled / invalidated on top of the finished matches


class Clock:
    """Formats epoch milliseconds like storage.database.format_time, fast (day prefix cached)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        day, rest = divmod(ms, 86_400_000)
        prefix = self._days.get(day)
        if prefix is None:
            stamp = datetime.fromtimestamp(day * 86_400, UTC)
            prefix = self._days[day] = stamp.strftime("%Y-%m-%d ")
        seconds, millis = divmod(rest, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def generate(path: Path, players: int, races_each: int, matches: int, seed: int) -> dict:
    rng = random.Random(seed)
    rating = RatingConfig()
    race_codes = [race.code for race in DEFAULT_RACES]
    now = datetime.now(UTC).replace(microsecond=0)
    now_ms = int(now.timestamp() * 1000)
    clock = Clock()
    assert clock(now_ms) == format_time(now)

    t0 = time.perf_counter()
    # --- players and the (player, race) entries they play -----------------------------------
    uids = sorted(rng.sample(range(10**17, 10**18), players))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(COUNTRIES))]
    countries = rng.choices(COUNTRIES, weights, k=players)
    created = clock(now_ms - (DAYS + 30) * 86_400_000)
    player_rows = []
    for i, uid in enumerate(uids):
        country = None if rng.random() < 0.04 else countries[i]
        banned = 1 if rng.random() < 0.002 else 0
        player_rows.append(
            (uid, f"user{i}", f"P{i:06d}", f"P{i:06d}#{1000 + i % 9000}", country, "EU",
             1, created, 1, created, banned, created, created)
        )  # fmt: skip
    entries = [(uid, race) for uid in uids for race in rng.sample(race_codes, races_each)]
    skill = {key: rng.gauss(0, 1) for key in entries}

    # --- matches: random pairs of entries of two different players, sorted by end time ------
    total = int(matches * (1 + OTHER_SHARE))
    ends = sorted(rng.randrange(now_ms - DAYS * 86_400_000, now_ms - 60_000) for _ in range(total))
    finished_mask = [True] * matches + [False] * (total - matches)
    rng.shuffle(finished_mask)
    log = []  # (match id, key 1, key 2, result) of finished matches, in id order
    others = []  # (match id, key 1, key 2, status, ended ms)
    n_entries = len(entries)
    for match_id, finished in enumerate(finished_mask, start=1):
        while True:
            a = entries[rng.randrange(n_entries)]
            b = entries[rng.randrange(n_entries)]
            if a[0] != b[0]:
                break
        if finished:
            p = 1 / (1 + math.exp(skill[b] - skill[a]))
            roll = rng.random()
            result = "draw" if roll < 0.02 else ("p1_win" if roll < 0.02 + 0.98 * p else "p2_win")
            log.append((match_id, a, b, result))
        else:
            status = rng.choice(("aborted", "cancelled", "invalidated"))
            others.append((match_id, a, b, status))
    t_pick = time.perf_counter()
    replayed = replay(log, rating.start, rating.k_factor, rating.divisor)
    t_replay = time.perf_counter()

    # --- rows -------------------------------------------------------------------------------
    stats = {key: [0, 0, 0, 0] for key in entries}  # wins, losses, draws, last ended ms
    steps = replayed.steps
    match_rows: list[tuple[object, ...]] = []
    for i, (match_id, a, b, result) in enumerate(log):
        end = ends[match_id - 1]
        start = end - rng.randrange(8, 40) * 60_000
        made = start - 20_000
        s_made, s_start, s_end = clock(made), clock(start), clock(end)
        report = {"p1_win": ("win", "loss"), "p2_win": ("loss", "win"), "draw": ("draw", "draw")}
        r1, r2 = report[result]
        match_rows.append(
            (match_id, "finished", a[0], a[1], steps.before_1[i], b[0], b[1], steps.before_2[i],
             MAPS[match_id % len(MAPS)], s_made, clock(made + 60_000), s_start, s_start, s_start,
             clock(start + 3_600_000), r1, s_end, r2, s_end, result, "agreement",
             steps.deltas[i], s_end, None)
        )  # fmt: skip
        sa, sb = stats[a], stats[b]
        if result == "p1_win":
            sa[0] += 1
            sb[1] += 1
        elif result == "p2_win":
            sa[1] += 1
            sb[0] += 1
        else:
            sa[2] += 1
            sb[2] += 1
        sa[3] = max(sa[3], end)
        sb[3] = max(sb[3], end)
    month = format_time(now)[:7]
    aborts: dict[int, int] = {}
    for match_id, a, b, status in others:
        end = ends[match_id - 1]
        s_made = clock(end - 60_000)
        aborted_by = a[0] if status == "aborted" else None
        if aborted_by is not None and clock(end)[:7] == month:
            aborts[aborted_by] = aborts.get(aborted_by, 0) + 1
        match_rows.append(
            (match_id, status, a[0], a[1], rating.start, b[0], b[1], rating.start,
             MAPS[match_id % len(MAPS)], s_made, clock(end), None, None, None, None, None, None,
             None, None, None, None, None, clock(end), aborted_by)
        )  # fmt: skip
    match_rows.sort()
    rating_rows = []
    for key in entries:
        w, losses, d, last = stats[key]
        rating_rows.append(
            (key[0], key[1], replayed.ratings.get(key, rating.start), w + losses + d, w, losses, d,
             clock(last) if last else None)
        )  # fmt: skip
    t_rows = time.perf_counter()

    # --- write --------------------------------------------------------------------------------
    if path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    async def migrate() -> None:
        db = await Database.open(path)
        await db.close()

    asyncio.run(migrate())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # a bulk load needs no WAL; restored below
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB: the random-uid indexes fit
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO players (discord_uid, discord_name, player_name, battletag, country, region,"
        " accepted_tos, accepted_tos_at, completed_setup, completed_setup_at, banned, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        player_rows,
    )
    conn.executemany(
        "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws, last_played_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rating_rows,
    )
    conn.execute("COMMIT")
    for lo in range(0, len(match_rows), 250_000):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr,"
            " player2_uid, player2_race, player2_mmr, map, created_at, confirm_deadline,"
            " player1_confirmed_at, player2_confirmed_at, started_at, report_deadline,"
            " player1_report, player1_reported_at, player2_report, player2_reported_at, result,"
            " decided_by, mmr_change, ended_at, aborted_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            match_rows[lo : lo + 250_000],
        )
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO rating_log (seq, match_id) VALUES (?, ?)",
        [(seq, entry[0]) for seq, entry in enumerate(log, start=1)],
    )
    conn.executemany(
        "INSERT INTO aborts (discord_uid, month, used) VALUES (?, ?, ?)",
        [(uid, month, used) for uid, used in sorted(aborts.items())],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    t_write = time.perf_counter()
    return {
        "path": str(path),
        "players": players,
        "entries": len(entries),
        "finished": len(log),
        "other": len(others),
        "now": format_time(now),
        "size_mb": path.stat().st_size / 2**20,
        "seconds": {
            "pick": t_pick - t0,
            "replay": t_replay - t_pick,
            "rows": t_rows - t_replay,
            "write": t_write - t_rows,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--races", type=int, default=2, help="races each player plays")
    parser.add_argument("--matches", type=int, default=1_000_000, help="finished matches")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    info = generate(args.path, args.players, args.races, args.matches, args.seed)
    secs = ", ".join(f"{k} {v:.1f}s" for k, v in info["seconds"].items())
    print(
        f"{info['path']}: {info['players']:,} players, {info['entries']:,} ratings, "
        f"{info['finished']:,} finished + {info['other']:,} other matches, "
        f"{info['size_mb']:.0f} MB, now={info['now']} "
        f"({time.perf_counter() - started:.1f}s: {secs})"
    )


if __name__ == "__main__":
    main()
