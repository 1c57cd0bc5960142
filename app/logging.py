"""Configure stdlib logging once, for the whole process."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str, log_file: Path | None = None) -> None:
    """Log to stderr, and to a rotating file when one is configured."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
            )
        )
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    # nextcord's DEBUG output includes every gateway payload: keep it at INFO unless asked.
    # nextcord's and aiosqlite's DEBUG output is every gateway payload and every SQL statement:
    # keep them at INFO whatever the level, so a DEBUG log stays readable.
    for noisy in ("nextcord", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.INFO))
