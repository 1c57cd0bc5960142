"""The replay parser's child process: `python -m storage.replay_worker` reads one replay file on
standard input and writes what verification needs, as one JSON object, on standard output.

It runs in its own process because the file is hostile input for a binary parser: a truncated
or forged file, random bytes or a decompression bomb must cost this process, never the bot.
Before it reads a byte it limits itself (`resource.setrlimit`): its address space
(`LADDERBOT_REPLAY_MEMORY_MB`, default 512), its CPU time (`LADDERBOT_REPLAY_CPU_SECONDS`,
default 10) and the files it may write (none). The parent (`storage.replay_parser`) also keeps a
wall-clock limit and kills it.

The parser is sc2reader (pinned in pyproject.toml) at `load_level=2`: the replay's header,
details, init data and attribute events, which name the players, their races, their results,
the map, the start time, the game type and the release, and nothing of the game's events.

Exit status: 0 with `{"facts": {...}}`, or 2 with `{"error": CODE, "detail": TEXT}` where CODE
is "unreadable" (not a replay sc2reader can read) or "memory" (it needed more memory than the
limit). Any other death (a signal, the CPU limit) is the parent's to report.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from datetime import UTC, datetime
from typing import Any

DEFAULT_MEMORY_MB = 512
DEFAULT_CPU_SECONDS = 10
EXIT_REFUSED = 2


def limit_self(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's memory, CPU time and file writes (soft = hard: no raising them)."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _text(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    return str(value)[:limit]


def _time(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def read_facts(data: bytes) -> dict[str, Any]:
    """Parse the replay in `data` and return its facts as plain JSON values."""
    import io

    import sc2reader  # type: ignore[import-untyped]

    replay = sc2reader.load_replay(io.BytesIO(data), load_level=2)
    players = []
    for p in replay.players[:16]:
        players.append(
            {
                "name": _text(getattr(p, "name", None), 64),
                "race": _text(getattr(p, "play_race", None), 32),
                "result": _text(getattr(p, "result", None), 16),
                "human": bool(getattr(p, "is_human", False)),
                "team": getattr(p, "team_id", None),
            }
        )
    length = getattr(replay, "game_length", None)
    return {
        "release": _text(getattr(replay, "release_string", None), 32),
        "map": _text(getattr(replay, "map_name", None), 100),
        "game_type": _text(getattr(replay, "real_type", None), 16),
        "category": _text(getattr(replay, "category", None), 32),
        "start_time": _time(getattr(replay, "start_time", None)),
        "length_seconds": int(length.seconds) if length is not None else None,
        "players": players,
        "player_count": len(replay.players),
    }


def main() -> int:
    limit_self(
        int(os.environ.get("LADDERBOT_REPLAY_MEMORY_MB", DEFAULT_MEMORY_MB)),
        int(os.environ.get("LADDERBOT_REPLAY_CPU_SECONDS", DEFAULT_CPU_SECONDS)),
    )
    data = sys.stdin.buffer.read()
    try:
        out: dict[str, Any] = {"facts": read_facts(data)}
        status = 0
    except MemoryError:
        out, status = {"error": "memory", "detail": "needed more memory than allowed"}, 2
    except Exception as e:  # anything the parser raises means: not a replay it can read
        out, status = {"error": "unreadable", "detail": type(e).__name__}, 2
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
