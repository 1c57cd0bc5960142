"""Read a replay file's facts in a separate process with a time and a memory limit.

`ReplayParser.parse(data)` starts `python -m storage.replay_worker` (see that module), hands it
the bytes on standard input and waits at most `timeout` seconds. Whatever the file does to the
child (a parser exception, a decompression bomb meeting the memory limit, a loop meeting the
time limit, a crash), the bot gets either `ReplayFacts` or `ReplayUnreadableError` with a
message for the player, and the next upload starts a fresh child. At most `concurrency` children
run at once, so a burst of uploads cannot take every core from the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ladder.replays import ReplayFacts, ReplayUnreadableError, facts_from_dict

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
WORKER = (sys.executable, "-s", "-m", "storage.replay_worker")
OUTPUT_MAX = 64 * 1024  # the facts are a few hundred bytes; more is not our worker talking


class ReplayParser:
    """Runs the worker once per file; see the module docstring."""

    def __init__(
        self,
        *,
        timeout: float = 10,
        memory_mb: int = 512,
        concurrency: int = 1,
        command: Sequence[str] = WORKER,
    ) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.command = tuple(command)
        self._slots = asyncio.Semaphore(concurrency)

    async def parse(self, data: bytes) -> ReplayFacts:
        """Return the replay's facts, or raise ReplayUnreadableError saying why not."""
        async with self._slots:
            status, out = await self._run(data)
        try:
            answer: Any = json.loads(out) if out else None
        except ValueError:
            answer = None
        if status == 0 and isinstance(answer, dict) and isinstance(answer.get("facts"), dict):
            try:
                return facts_from_dict(answer["facts"])
            except (KeyError, TypeError, ValueError) as e:
                log.warning("Replay worker answered facts in an unknown shape: %r", e)
                raise ReplayUnreadableError("unreadable") from None
        if isinstance(answer, dict) and answer.get("error") == "memory":
            raise ReplayUnreadableError("memory")
        if isinstance(answer, dict) and answer.get("error") == "unreadable":
            raise ReplayUnreadableError("unreadable")
        log.warning("Replay worker died (status %s)", status)
        raise ReplayUnreadableError("crashed")

    async def _run(self, data: bytes) -> tuple[int | None, bytes]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "LADDERBOT_REPLAY_MEMORY_MB": str(self.memory_mb),
            "LADDERBOT_REPLAY_CPU_SECONDS": str(max(1, int(self.timeout) + 1)),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
        )
        try:
            async with asyncio.timeout(self.timeout):
                out = await self._talk(proc, data)
                status = await proc.wait()
        except TimeoutError:
            log.warning("Replay worker took longer than %ss; killed", self.timeout)
            raise ReplayUnreadableError("timeout") from None
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        return status, out

    async def _talk(self, proc: asyncio.subprocess.Process, data: bytes) -> bytes:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(data)
            await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died before reading everything: its status says so
        out = await proc.stdout.read(OUTPUT_MAX + 1)
        return out[:OUTPUT_MAX] if len(out) <= OUTPUT_MAX else b""
