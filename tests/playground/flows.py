"""What a person does on the playground's page, as Playwright steps (shared by the tests)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Locator, Page, expect

from ladder.countries import country_pages


def messages(page: Page) -> Locator:
    return page.locator("#messages li.message")


def message_with(page: Page, text: str) -> Locator:
    """The newest message of the current DM that shows ``text``."""
    return messages(page).filter(has_text=text).last


def with_button(page: Page, label: str) -> Locator:
    """The newest message with an enabled button ``label``."""
    button = page.get_by_role("button", name=label, exact=True)
    return messages(page).filter(has=button.and_(page.locator(":enabled"))).last


def select_named(scope: Locator | Page, name: str) -> Locator:
    """The select whose custom_id is ``name`` or ``name:<suffix>``."""
    return scope.locator(f'select[data-custom-id="{name}"], select[data-custom-id^="{name}:"]')


async def open_page(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator('button.player[data-player="alice"]')).to_be_visible()
    await expect(page.locator("#dm-title")).to_contain_text("you are alice")


async def switch(page: Page, name: str) -> None:
    await page.locator(f'button.player[data-player="{name}"]').click()
    await expect(page.locator("#dm-title")).to_contain_text(f"you are {name}")


async def run(page: Page, command: str, **options: Any) -> None:
    """Type ``/command``, pick it from the suggestions, fill its options, send."""
    await page.fill("#command-input", f"/{command.split()[0]}")
    await page.locator(f'button.suggestion[data-command="{command}"]').click()
    for name, value in options.items():
        field = page.locator(f'#command-options [data-option="{name}"]')
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(str(value))
        else:
            await field.fill(str(value))
    await page.click("#command-send")
    await expect(page.locator("#command-error")).to_be_hidden()


async def click(page: Page, label: str, in_message: Locator | None = None) -> None:
    scope = in_message if in_message is not None else with_button(page, label)
    await scope.get_by_role("button", name=label, exact=True).click()


async def onboard(page: Page, display: str, *, country: str = "FR", region: str = "EU") -> None:
    """Accept the terms, then /setup: the modal, country, region, Confirm."""
    await run(page, "termsofservice")
    await click(page, "Accept")
    await expect(with_button(page, "Accept")).to_have_count(0)
    await run(page, "setup")
    modal = page.locator("#modal")
    await expect(modal).to_be_visible()
    await modal.locator('[name="setup:player_name"]').fill(display)
    await modal.locator('[name="setup:battletag"]').fill(f"{display}#1234")
    await page.click("#modal-submit")
    await expect(modal).to_be_hidden()
    preview = messages(page).filter(has=select_named(page, "setup:country_page")).last
    page_index = next(str(i) for i, (_, codes) in enumerate(country_pages())
                      if country in dict(codes))
    await select_named(preview, "setup:country_page").select_option(page_index)
    country_menu = select_named(preview, "setup:country")
    await expect(country_menu.locator(f'option[value="{country}"]')).to_have_count(1)
    await country_menu.select_option(country)
    await expect(country_menu.locator(f'option[value="{country}"]:checked')).to_have_count(1)
    await select_named(preview, "setup:region").select_option(region)
    await expect(select_named(preview, "setup:region").locator(
        f'option[value="{region}"]:checked')).to_have_count(1)
    await click(page, "Confirm", preview)
    await expect(message_with(page, "Profile saved")).to_be_visible()


async def join_queue(page: Page, race: str) -> None:
    await run(page, "queue")
    offer = messages(page).filter(has=select_named(page, "queue_view:races")).last
    await select_named(offer, "queue_view:races").select_option(race)
    await offer.locator(".multi", has=select_named(page, "queue_view:races")).get_by_role(
        "button", name="Choose").click()  # a multi-select sends when it closes
    await expect(select_named(offer, "queue_view:races").locator(
        f'option[value="{race}"]:checked')).to_have_count(1)
    await click(page, "Join", offer)
    # The second player to join is matched at once, and the bot edits the
    # queue reply to say so before the page may ever show the first text.
    joined = messages(page).filter(
        has_text=re.compile("You are in the queue|A match was found: you left the queue")).last
    await expect(joined).to_be_visible()
