"""Read and validate the bot's settings once, at start, from the environment and a `.env` file.

A bad setting stops start-up with one line naming it (`SettingsError`); `bot.py` prints that
line and exits with status 2. The token is kept out of `repr()` so it never reaches a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage.files import database_file_kind

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the host can configure."""

    token: str = field(repr=False)
    database_path: Path = REPO_ROOT / "data" / "ladder.db"
    # A postgresql:// URL (DATABASE_URL) selects PostgreSQL; None: the SQLite file above.
    database_url: str | None = field(default=None, repr=False)
    admin_ids: frozenset[int] = frozenset()
    dm_only: bool = True
    log_level: str = "INFO"
    log_file: Path | None = None
    api_base: str | None = None
    command_guild_ids: tuple[int, ...] = ()
    admin_channel_id: int | None = None
    data_dir: Path = REPO_ROOT / "data"
    web_enabled: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_base_url: str | None = None  # the site's public address, for links from Discord
    queue_channel_id: int | None = None  # the live queue board's channel, if any
    # SHARD_COUNT / SHARD_IDS: this process runs Discord gateway shards SHARD_IDS of SHARD_COUNT
    # (several processes on one PostgreSQL; docs/operations.md). None and (): one process, no
    # shards. SHARD_ID is the one-shard spelling of SHARD_IDS.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()

    @property
    def ladder_config_path(self) -> Path:
        """The ladder's TOML settings (races, maps, rating, ...)."""
        return self.data_dir / "ladder.toml"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a .env file; blank lines and # comments are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = REPO_ROOT / ".env",
    *,
    require_token: bool = True,
) -> Settings:
    """Build Settings from a .env file overlaid by the environment (the environment wins).

    `require_token=False` is for the host commands (stats, backup) that only read the file.
    """
    env = read_dotenv(dotenv) if dotenv else {}
    env.update(os.environ if environ is None else environ)

    def get(name: str) -> str:
        return env.get(name, "").strip()

    token = get("DISCORD_TOKEN")
    if not token and require_token:
        raise SettingsError(
            "DISCORD_TOKEN is not set: put your bot token in .env or the environment "
            "(see .env.example)."
        )
    data_dir = Path(get("DATA_DIR") or REPO_ROOT / "data")
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    api_base = get("DISCORD_API_BASE") or None
    if api_base and not api_base.startswith(("http://", "https://")):
        raise SettingsError("DISCORD_API_BASE must be an http(s) URL")
    admin_channel = _ids("ADMIN_CHANNEL_ID", get("ADMIN_CHANNEL_ID"))
    queue_channel = _ids("QUEUE_CHANNEL_ID", get("QUEUE_CHANNEL_ID"))
    database_path, database_url = _database(get("DATABASE_URL"), get("DATABASE_PATH"), data_dir)
    shard_count, shard_ids = _shards(
        get("SHARD_COUNT"), get("SHARD_IDS"), get("SHARD_ID"), postgres=database_url is not None
    )
    log_file = Path(get("LOG_FILE")) if get("LOG_FILE") else None
    if log_file is not None:
        kind = database_file_kind(log_file, database_path)
        if kind is not None:
            # Log lines appended to the database (or its -wal), then rotated away, lose data.
            own = f"the database's own {kind} file" if kind else "the database itself"
            raise SettingsError(f"LOG_FILE must not be {own} ({database_path})")
    return Settings(
        token=token,
        database_path=database_path,
        database_url=database_url,
        admin_ids=frozenset(_ids("ADMIN_IDS", get("ADMIN_IDS"))),
        dm_only=_flag("DM_ONLY", get("DM_ONLY"), default=True),
        log_level=level,
        log_file=log_file,
        api_base=api_base.rstrip("/") if api_base else None,
        command_guild_ids=tuple(_ids("COMMAND_GUILD_IDS", get("COMMAND_GUILD_IDS"))),
        admin_channel_id=admin_channel[0] if admin_channel else None,
        data_dir=data_dir,
        web_enabled=_flag("WEB_ENABLED", get("WEB_ENABLED"), default=True),
        web_host=get("WEB_HOST") or "127.0.0.1",
        web_port=_port("WEB_PORT", get("WEB_PORT"), default=8080),
        web_base_url=_base_url("WEB_BASE_URL", get("WEB_BASE_URL")),
        queue_channel_id=queue_channel[0] if queue_channel else None,
        shard_count=shard_count,
        shard_ids=shard_ids,
    )


def _shards(
    count: str, ids: str, single: str, postgres: bool
) -> tuple[int | None, tuple[int, ...]]:
    """SHARD_COUNT and SHARD_IDS (or SHARD_ID, one id): both or neither; each id a whole number
    from 0 to SHARD_COUNT - 1, none twice; PostgreSQL unless this process runs every shard (the
    others run in other processes, and one SQLite file has one process)."""
    if ids and single:
        raise SettingsError("Set SHARD_IDS or SHARD_ID (one id), not both")
    name, text = ("SHARD_ID", single) if single else ("SHARD_IDS", ids)
    if not count and not text:
        return None, ()
    if not (count and text):
        raise SettingsError(f"SHARD_COUNT and {name} go together: set both or neither")
    if not count.isdigit() or int(count) < 1:
        raise SettingsError(f"SHARD_COUNT must be a whole number from 1 up, not {count!r}")
    total = int(count)
    parts = [part.strip() for part in text.split(",")]
    if single and len(parts) > 1:
        raise SettingsError(f"SHARD_ID is one id, not {text!r}: several go in SHARD_IDS")
    own: list[int] = []
    for part in parts:
        if not part.isdigit():
            raise SettingsError(
                f"{name} must be whole numbers separated by commas, such as 0,1, not {part!r}"
            )
        shard = int(part)
        if shard >= total:
            raise SettingsError(
                f"{name}: each id must be from 0 to SHARD_COUNT - 1 ({total - 1}), not {shard}"
            )
        if shard in own:
            raise SettingsError(f"{name} names shard {shard} twice")
        own.append(shard)
    if len(own) < total and not postgres:
        raise SettingsError(
            f"Shards {name}={text} of SHARD_COUNT={total} leave the others to other processes,"
            " which need DATABASE_URL=postgresql://... (one SQLite file has one bot process)"
        )
    return total, tuple(own)


def _database(url: str, path: str, data_dir: Path) -> tuple[Path, str | None]:
    """DATABASE_URL (sqlite:///file or postgresql://...) or DATABASE_PATH: the SQLite file and
    the PostgreSQL URL (None for SQLite)."""
    default = Path(path) if path else data_dir / "ladder.db"
    if not url:
        return default, None
    if url.startswith("sqlite:///"):
        file = Path(url.removeprefix("sqlite:///"))
        if path and Path(path) != file:
            raise SettingsError("DATABASE_URL and DATABASE_PATH name different SQLite files")
        return file, None
    if url.startswith(("postgresql://", "postgres://")):
        return default, url
    raise SettingsError("DATABASE_URL must be sqlite:///<file> or postgresql://user:pass@host/db")


def _ids(name: str, text: str) -> list[int]:
    ids = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise SettingsError(f"{name} must be Discord ids separated by commas, not {part!r}")
        ids.append(int(part))
    return ids


def _port(name: str, text: str, *, default: int) -> int:
    if not text:
        return default
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise SettingsError(f"{name} must be a port number from 0 to 65535, not {text!r}")
    return int(text)


def _base_url(name: str, text: str) -> str | None:
    if not text:
        return None
    if not text.startswith(("http://", "https://")) or len(text) < len("http://x"):
        raise SettingsError(f"{name} must be an http(s) URL, such as https://ladder.example.org")
    return text.rstrip("/")


def _flag(name: str, text: str, *, default: bool) -> bool:
    if not text:
        return default
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {text!r}")
