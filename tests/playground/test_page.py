"""The playground's page in Debian's Chromium: one person plays both sides of a match against the
real bot, and what the bot sends shows up live in each player's DM."""

from __future__ import annotations

import re

from playwright.async_api import expect

from playground.app import PlaygroundSite
from tests.playground.conftest import Tab
from tests.playground.flows import (
    click,
    join_queue,
    message_with,
    messages,
    onboard,
    open_page,
    run,
    switch,
)


async def test_alice_and_bob_play_a_match_and_the_leaderboard_shows_them(
    playground: PlaygroundSite, tab: Tab
) -> None:
    page = tab.page
    await open_page(page, playground.url)
    await tab.shot("start")

    await onboard(page, "Alice")
    await join_queue(page, "bw_terran")
    await switch(page, "bob")
    await expect(messages(page)).to_have_count(0)  # bob's own DM, not alice's
    await onboard(page, "Bob", country="DE")
    await join_queue(page, "bw_zerg")

    # A wave pairs them: the match DM arrives live, with its buttons.
    match = message_with(page, "Match #1")
    await expect(match).to_be_visible()
    await expect(match).to_contain_text("Alice")
    await tab.shot("bob-match-found")
    await click(page, "Confirm", match)
    waiting = match.get_by_role("button", name="Confirmed — waiting for opponent")
    await expect(waiting).to_be_disabled()

    # Alice was told too: an unread mark on her name, then her copy of the match.
    await expect(page.locator('button.player[data-player="alice"] .badge.unread')).to_be_visible()
    await switch(page, "alice")
    match = message_with(page, "Match #1")
    await click(page, "Confirm", match)
    await expect(match.get_by_role("button", name="I won")).to_be_enabled()
    await click(page, "I won", match)
    await switch(page, "bob")
    match = message_with(page, "Match #1")
    await click(page, "I lost", match)
    await expect(match).to_contain_text("Match finished")
    await expect(match).to_contain_text("your MMR -20")
    await tab.shot("bob-match-finished")

    # The leaderboard, in Discord and on the website, shows both with their new ratings.
    await run(page, "leaderboard")
    board = message_with(page, "1480")
    await expect(board).to_contain_text("Alice")
    await expect(board).to_contain_text("1520")
    text = await board.inner_text()
    assert text.index("Alice") < text.index("Bob"), text
    await tab.shot("leaderboard")
    web_url = await page.locator("#web-link").get_attribute("href")
    assert web_url == playground.playground.web_url
    # The website has no favicon yet (a 404 Chromium logs as a console error): not this test's.
    await page.route(f"{web_url}favicon.ico", lambda route: route.fulfill(status=204))
    await page.goto(web_url)
    await expect(page.locator("body")).to_contain_text("Alice")
    await expect(page.locator("body")).to_contain_text("Bob")
    body = await page.locator("body").inner_text()
    assert re.search(r"Alice[\s\S]*1520[\s\S]*Bob[\s\S]*1480", body), body
    await tab.shot("website")
