"""The playground's page in Debian's Chromium: one person plays both sides of a match against the
real bot, and what the bot sends shows up live in each player's DM."""

from __future__ import annotations

import re
import sqlite3

import aiohttp
from playwright.async_api import expect

from localdiscord.protocol import APPLICATION_COMMAND
from playground.app import PlaygroundSite
from tests.playground.flows import (
    click,
    join_queue,
    message_with,
    messages,
    onboard,
    open_page,
    run,
    switch,
    with_button,
)
from tests.support.browser import Tab

HOSTILE = '<img src=x onerror="alert(1)"> **not bold**'


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


async def test_conflicting_reports_become_a_dispute_the_admin_rules_on(
    playground: PlaygroundSite, tab: Tab
) -> None:
    page = tab.page
    await open_page(page, playground.url)
    await onboard(page, "Alice")
    await join_queue(page, "bw_terran")
    await switch(page, "bob")
    await onboard(page, "Bob")
    await join_queue(page, "bw_zerg")
    for name in ("bob", "alice"):
        await switch(page, name)
        match = message_with(page, "Match #1")
        await click(page, "Confirm", match)
    await expect(match.get_by_role("button", name="I won")).to_be_enabled()
    await click(page, "I won", match)
    await switch(page, "bob")
    match = message_with(page, "Match #1")
    await click(page, "I won", match)  # both say they won
    # Bob adds evidence through the button's modal: player text, hostile on purpose.
    await click(page, "Add evidence", match)
    await page.locator('#modal [name="evidence:note"]').fill(HOSTILE)
    await page.locator('#modal [name="evidence:url"]').fill("https://replays.example/b.rep")
    await page.click("#modal-submit")
    await expect(message_with(page, "Evidence added")).to_be_visible()

    # The admin is told by DM, lists the dispute, and rules for player 1.
    await switch(page, "admin")
    await expect(message_with(page, "Dispute on match #1")).to_be_visible()
    await run(page, "admin disputes")
    listed = message_with(page, "Open disputes (1)")
    await expect(listed).to_contain_text("win / win")
    await expect(listed).to_contain_text(HOSTILE)  # shown as text, never as markup
    assert await page.locator("#messages img").count() == 0
    await tab.shot("admin-dispute")
    await run(page, "admin resolve", match_id=1, ruling="p1_win", reason="the replay shows it")
    question = message_with(page, "Please confirm")
    await click(page, "Confirm", question)
    ruled = message_with(page, "Match #1: p1_win")
    await expect(ruled).to_contain_text("1500 → 1520")
    await tab.shot("admin-ruled")

    # Both players see the ruling on their match message.
    for name in ("alice", "bob"):
        await switch(page, name)
        await expect(message_with(page, "Match #1")).to_contain_text("Match finished")


async def test_simulated_players_play_on_their_own_and_reset_starts_afresh(
    playground: PlaygroundSite, tab: Tab
) -> None:
    page = tab.page
    await open_page(page, playground.url)
    await page.fill("#sim-count", "2")
    await page.locator("#add-simulated").get_by_role("button", name="Add").click()
    simulated = page.locator("button.player", has=page.locator(".badge.sim"))
    await expect(simulated).to_have_count(2)
    name = await simulated.first.get_attribute("data-player")
    await simulated.first.click()
    await expect(page.locator("#dm-title")).to_contain_text(f"you are {name}")
    # They set up, queue, are matched, confirm and report by themselves.
    await expect(message_with(page, "Match #1")).to_contain_text("Match finished", timeout=60_000)
    await tab.shot("simulated-match")

    reset = page.locator("#reset")
    await reset.click()
    await expect(reset).to_have_text("Click again: delete everything")
    await reset.click()
    await expect(simulated).to_have_count(0)
    await expect(page.locator("button.player")).to_have_count(3)  # admin, alice, bob
    await expect(page.locator("#dm-title")).to_contain_text("you are alice")
    await expect(messages(page)).to_have_count(0)
    running = playground.playground
    assert running.generation == 2
    # The new run registers its commands once it has started (a bot start: seconds, more on a
    # loaded machine); then it answers. Its database is read after that: the page shows the new
    # run (generation 2) as soon as it begins, before the bot made the new file's tables.
    await page.fill("#command-input", "/termsofservice")
    await expect(page.locator('button.suggestion[data-command="termsofservice"]')).to_be_visible(
        timeout=60_000
    )
    with sqlite3.connect(running.options.database_path) as db:
        assert db.execute("SELECT COUNT(*) FROM players").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM matches").fetchone() == (0,)
    await run(page, "termsofservice")
    await expect(with_button(page, "Accept")).to_be_visible()


async def test_a_broken_discord_rule_is_shown_with_its_name(
    playground: PlaygroundSite, tab: Tab
) -> None:
    page = tab.page
    await open_page(page, playground.url)
    await expect(page.locator("#violations")).to_be_hidden()
    fake = playground.fake
    fake.response_deadline = 0.0  # as if the bot answered too late: every answer now is
    await run(page, "termsofservice")
    notice = page.locator("#violations")
    await expect(notice).to_be_visible()
    await expect(notice.locator(".rule").first).to_have_text("late-response")
    await expect(notice).to_contain_text("limit 0.0s")
    await tab.shot("violation")
    fake.response_deadline = 3.0
    taken = fake.take_violations()
    assert {v.rule for v in taken} == {"late-response"}



async def test_the_command_box_offers_commands_their_options_and_live_autocomplete(
    playground: PlaygroundSite, tab: Tab
) -> None:
    page = tab.page
    await open_page(page, playground.url)
    await page.fill("#new-player", "carol")  # a player added on the page
    await page.locator("#add-player").get_by_role("button", name="Add").click()
    await expect(page.locator("#dm-title")).to_contain_text("you are carol")
    await run(page, "termsofservice")
    terms = message_with(page, "carol used /termsofservice")
    await expect(terms).to_have_class(re.compile(r"\bephemeral\b"))
    await expect(terms).to_contain_text("Only you can see this")
    await click(page, "Accept")
    await expect(terms).to_contain_text("(edited)")

    await page.fill("#command-input", "/set")
    offered = page.locator("button.suggestion")
    await expect(offered.filter(has_text="/setcountry")).to_have_count(1)
    await expect(offered.filter(has_text="/setup")).to_have_count(1)
    await expect(page.locator('button.suggestion[data-command="queue"]')).to_have_count(0)
    await page.locator('button.suggestion[data-command="setcountry"]').click()
    country = page.locator('#command-options [data-option="country"]')
    await country.fill("fr")
    choice = page.locator(".autocomplete button.choice").first
    await expect(choice).to_have_text("France")  # answered by the bot, as the player types
    await tab.shot("autocomplete")
    await choice.click()
    await page.click("#command-send")
    await expect(message_with(page, "is now")).to_contain_text("France")

    # The bot deletes its reply (as it may, through the interaction's webhook): shown so.
    fake = playground.fake
    answered = [i for i in fake.interactions.values() if i.data.get("name") == "setcountry"
                and i.type == APPLICATION_COMMAND]
    reply = answered[-1].original
    url = f"{fake.api_base}/webhooks/{fake.application_id}/{answered[-1].token}/messages/@original"
    async with aiohttp.ClientSession() as http, http.delete(url) as response:
        assert response.status == 204
    shown = page.locator(f'li.message[data-id="{reply.id}"]')
    await expect(shown).to_contain_text("This message was deleted.")
    await expect(shown).not_to_contain_text("France")
