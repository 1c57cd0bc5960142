"""The log file: private when the bot creates it, rotated files included."""

import logging
import logging.handlers
import os
import stat

import pytest

from app.logging import configure_logging


@pytest.fixture
def restore_logging():
    """configure_logging replaces the root logger's handlers: put pytest's back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("nextcord", "aiosqlite")}
    previous_umask = os.umask(0o022)  # the usual default, which made the log 0644
    try:
        yield
    finally:
        os.umask(previous_umask)
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def file_handler():
    (handler,) = (
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    )
    return handler


def rotate(log_file):
    """Rotate through the handler's own size check, as a full file would."""
    handler = file_handler()
    handler.maxBytes = 1
    logging.getLogger("ladderbot").warning("this line rotates the file")
    assert (log_file.parent / f"{log_file.name}.1").exists()


def test_a_new_log_file_and_its_folders_are_private(tmp_path, restore_logging):
    tmp_path.chmod(0o755)
    log_file = tmp_path / "logs" / "ladderbot" / "ladderbot.log"
    configure_logging("INFO", log_file)
    logging.getLogger("ladderbot").info("started")
    file_handler().flush()
    assert "started" in log_file.read_text(encoding="utf-8")
    assert mode(log_file) == 0o600
    assert (mode(tmp_path / "logs"), mode(tmp_path / "logs" / "ladderbot")) == (0o700, 0o700)
    assert mode(tmp_path) == 0o755


def test_rotated_files_stay_private(tmp_path, restore_logging):
    log_file = tmp_path / "ladderbot.log"
    configure_logging("INFO", log_file)
    rotate(log_file)
    rotate(log_file)
    assert [mode(tmp_path / name) for name in ("ladderbot.log", "ladderbot.log.1")] == [0o600] * 2
    assert mode(tmp_path / "ladderbot.log.2") == 0o600


def test_a_log_file_the_host_made_keeps_its_mode_across_rotation(tmp_path, restore_logging):
    """A host that made the log 0640 for a group of log readers keeps that after rotation."""
    log_file = tmp_path / "ladderbot.log"
    log_file.write_text("earlier\n", encoding="utf-8")
    log_file.chmod(0o640)
    configure_logging("INFO", log_file)
    assert mode(log_file) == 0o640
    rotate(log_file)
    assert (mode(log_file), mode(tmp_path / "ladderbot.log.1")) == (0o640, 0o640)
    assert (tmp_path / "ladderbot.log.1").read_text(encoding="utf-8").startswith("earlier\n")


def test_a_stricter_umask_still_applies(tmp_path, restore_logging):
    os.umask(0o277)
    log_file = tmp_path / "logs" / "ladderbot.log"
    configure_logging("INFO", log_file)
    assert (mode(log_file), mode(tmp_path / "logs")) == (0o400, 0o500)
