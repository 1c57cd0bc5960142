"""/activity through the real bot: the busiest hours from the counts the website's heatmap
uses, in the player's time zone (an option, else his /notify zone), and a link to the page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ladder.activity import BusyHour

from .flows import command_reply, ladder_with, matched_pair
from .harness import BotFactory


async def test_activity_shows_the_best_hours_in_the_players_zone_and_links_the_heatmap(
    bot_process: BotFactory, tmp_path: Path
) -> None:
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    await matched_pair(bot.fake, alice, bob)
    fake = bot.fake
    now = datetime.now(UTC)

    def hour_in(tz: str) -> str:
        local = now.astimezone(ZoneInfo(tz))
        return str(BusyHour(local.weekday(), local.hour, 1, 2))

    text = (await command_reply(fake, alice, "activity")).text
    assert "Best hours to queue (UTC, last 4 weeks):" in text
    assert f"{hour_in('UTC')}: 1 match, 2 queue joins" in text, text
    assert "heatmap" not in text  # no WEB_BASE_URL: no link

    text = (await command_reply(fake, alice, "activity", {"time_zone": "Asia/Tokyo"})).text
    assert "Best hours to queue (Asia/Tokyo, last 4 weeks):" in text
    assert hour_in("Asia/Tokyo") in text, text

    await command_reply(fake, bob, "notify", {"time_zone": "America/New_York"})
    text = (await command_reply(fake, bob, "activity")).text
    assert "(America/New_York, last 4 weeks)" in text and hour_in("America/New_York") in text, text

    bad = (await command_reply(fake, bob, "activity", {"time_zone": "Mars/Base"})).text
    assert "is not a time zone" in bad

    await bot.stop()
    bot.extra_env["WEB_BASE_URL"] = "https://ladder.example"
    await bot.start()
    text = (await command_reply(fake, bob, "activity")).text
    assert "heatmap: https://ladder.example/activity?tz=America%2FNew_York" in text, text
