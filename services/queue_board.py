"""The live queue board's use cases: its text now, and where its message is."""

from __future__ import annotations

from ladder.queue_board import board_text
from services.ladder_core import LadderCore
from storage.queue_board import QueueBoardRepository


class QueueBoardService:
    """Reads the queue for the board and remembers the board's message across restarts."""

    def __init__(self, core: LadderCore) -> None:
        self._core = core
        self._repo = QueueBoardRepository()
        config = core.config
        self._race_names = config.race_names  # read in the current language
        self._race_order = config.race_codes

    async def text(self) -> str:
        """What the board shows now (counts and the longest wait, no names)."""
        entries = await self._repo.entries(self._core.reader)
        return board_text(entries, self._core.now(), self._race_names, self._race_order)

    async def message(self, channel_id: int) -> tuple[int, str] | None:
        return await self._repo.message(self._core.reader, channel_id)

    async def save(self, channel_id: int, message_id: int, shown: str) -> None:
        async with self._core.write() as conn:
            await self._repo.save(conn, channel_id, message_id, shown)
