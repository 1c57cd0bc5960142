"""Start-up failures of the real ``bot.py``: each must stop with a clear line, not a traceback.

A host who gets a setting wrong reads one line naming what to fix and sees exit status 2 (1 when
Discord itself refuses). These runs never reach the gateway, so no fake Discord is needed except
for the refused token.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from localdiscord import FakeDiscord

from .harness import BOT_SCRIPT, REPO_ROOT

RUN_TIMEOUT = 60.0


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python bot.py`` to its end with every setting given (``env`` overrides)."""
    settings = {
        "DISCORD_TOKEN": "test-token",
        "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",  # never reached by these runs
        "DATABASE_PATH": str(tmp_path / "ladder.db"),
        "DATA_DIR": str(REPO_ROOT / "data"),
        "ADMIN_IDS": "",
        "DM_ONLY": "true",
        "LOG_LEVEL": "INFO",
        "LOG_FILE": "",
        "COMMAND_GUILD_IDS": "",
        "ADMIN_CHANNEL_ID": "",
        "WEB_PORT": "0",  # the website on a free port: bots run side by side
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(BOT_SCRIPT)],
        cwd=REPO_ROOT,
        env={**os.environ, **settings},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit status 2 and a ``ladderbot: ...`` line naming the problem; no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.startswith("ladderbot: ")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def copy_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db*"))
    return data


def test_missing_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DISCORD_TOKEN="")
    line = assert_clean_failure(result, "DISCORD_TOKEN")
    assert result.stderr.strip() == line  # nothing else on stderr
    assert result.stdout == ""
    assert not (tmp_path / "ladder.db").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "LOUD"),
        ("ADMIN_IDS", "12,alice"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, name: str, value: str) -> None:
    result = run_bot(tmp_path, **{name: value})
    assert_clean_failure(result, name)


def test_database_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "ladder.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute("PRAGMA user_version = 99")
    result = run_bot(tmp_path)
    assert_clean_failure(result, "schema version 99", "newer", str(db))
    with sqlite3.connect(db) as conn:  # left as it was: not migrated, not touched
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"future"}


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("k_factor = 40", "k_factor = -5", ["rating.k_factor"]),
        ("k_factor = 40", "k_factr = 40", ["k_factr"]),
        ("max_vetoes = 4", 'max_vetoes = "four"', ["season.max_vetoes"]),
        ("[rating]", "[rating", ["not valid TOML"]),
    ],
)
def test_a_malformed_ladder_toml_names_the_key(
    tmp_path: Path, old: str, new: str, words: list[str]
) -> None:
    data = copy_data_dir(tmp_path)
    toml = data / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run_bot(tmp_path, DATA_DIR=str(data))
    assert_clean_failure(result, "ladder.toml", *words)
    assert not (tmp_path / "ladder.db").exists()  # refused before anything was created


def test_missing_terms_file_is_named(tmp_path: Path) -> None:
    data = copy_data_dir(tmp_path)
    (data / "terms.md").unlink()
    result = run_bot(tmp_path, DATA_DIR=str(data))
    assert_clean_failure(result, "terms.md")


async def test_a_token_discord_refuses_exits_1_with_a_clear_line(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    result = await _run_async(
        tmp_path, DISCORD_TOKEN="not-the-token", DISCORD_API_BASE=fake_discord.api_base
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Discord refused the token (DISCORD_TOKEN)" in result.stderr
    refused = fake_discord.take_violations()  # the fake records the wrong token, as expected
    assert refused and {v.rule for v in refused} == {"unauthorized"}


async def _run_async(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """run_bot in a thread, so the fake Discord in this event loop can answer meanwhile."""
    return await asyncio.to_thread(run_bot, tmp_path, **env)
