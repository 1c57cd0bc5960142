"""A wave that pairs a player between his Join and the bot's answer to it.

The Join commits the queue entry, then the bot answers by turning the /queue menu into "You are
in the queue". A wave in between used to find the entry without its message (recorded after the
join, in a second transaction): the wave edited nobody's message, the answer then showed a
player in a match as queued, with a Cancel button (seen once in a full run, on PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localdiscord import FakeDiscord

from .flows import join_queue, match_dm, onboard, wait_text
from .harness import in_process_bot, running_client


async def test_a_player_paired_before_his_join_is_answered_is_told_of_the_match(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_discord
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        ann, ben = await onboard(fake, "Ann", "Ben")
        ann_queued = await join_queue(fake, ann)
        real_join = bot.queue.join_queue

        async def join_then_a_wave(*args, **kwargs):  # the wave lands before the answer
            status = await real_join(*args, **kwargs)
            await bot.loops.run_wave()
            return status

        monkeypatch.setattr(bot.queue, "join_queue", join_then_a_wave)
        ben_queued = await join_queue(fake, ben, ("bw_zerg",))
        await match_dm(fake, ben, 1)
        for queued in (ann_queued, ben_queued):
            await wait_text(fake, queued, "A match was found")
            assert not queued.buttons(), queued.text  # no Cancel left on a matched player
