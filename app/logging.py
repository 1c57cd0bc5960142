"""Configure stdlib logging once, for the whole process."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from pathlib import Path

from storage.files import PRIVATE_FILE_MODE, create_private_file, make_private_dir

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose new files are 0600 (less the umask), not 0644.

    A log file that already exists keeps the mode the host gave it, and the file that replaces
    it at each rotation gets that same mode (a host that made it 0640 for a group of log
    readers keeps it so). Rotated files keep their mode: rotation only renames them.
    """

    _new_file_mode = PRIVATE_FILE_MODE

    def _open(self):  # called by FileHandler for the first file and after each rotation
        create_private_file(self.baseFilename, self._new_file_mode)
        return super()._open()

    def doRollover(self) -> None:
        try:
            self._new_file_mode = stat.S_IMODE(os.stat(self.baseFilename).st_mode)
        except OSError:  # removed meanwhile: a new file is private
            self._new_file_mode = PRIVATE_FILE_MODE
        super().doRollover()


def configure_logging(level: str, log_file: Path | None = None) -> None:
    """Log to stderr, and to a rotating file when one is configured."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        make_private_dir(log_file.parent)
        handlers.append(
            PrivateRotatingFileHandler(
                log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
            )
        )
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    # nextcord's and aiosqlite's DEBUG output is every gateway payload and every SQL statement:
    # keep them at INFO whatever the level, so a DEBUG log stays readable.
    for noisy in ("nextcord", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.INFO))
