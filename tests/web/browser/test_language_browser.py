"""The language switcher in a real browser: a click (or Enter on a focused link) changes the
page's language, the cookie keeps it on the next page, a browser set to Korean gets Korean
without a click, and the switcher fits a phone's width."""

from __future__ import annotations

import pytest

from tests.support.browser import watched_tab
from tests.web.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def html_lang(page) -> str:
    return await page.evaluate("document.documentElement.lang")


async def test_the_switcher_changes_the_language_and_the_next_page_keeps_it(served, tab):
    page = tab.page
    await page.goto(served.url + "/")
    assert await html_lang(page) == "en"
    current = page.locator("nav.languages a[aria-current]")
    assert await current.get_attribute("data-lang") == "en"

    await page.click("nav.languages a[data-lang=ko]")
    await page.wait_for_function("document.documentElement.lang === 'ko'")
    assert "lang=ko" in page.url
    assert await current.get_attribute("data-lang") == "ko"
    await tab.shot("switched-to-korean")

    # A link of the page itself (no ?lang=): the cookie keeps the choice.
    await page.click("nav.main a[href='/activity']")
    await page.wait_for_url(served.url + "/activity")
    assert await html_lang(page) == "ko"
    await tab.shot("activity-in-korean")

    # Keyboard: the switcher's links are reachable and work with Enter.
    await page.focus("nav.languages a[data-lang=zh_CN]")
    await page.keyboard.press("Enter")
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    await page.goto(served.url + "/players/Alice")
    assert await html_lang(page) == "zh-CN"


async def test_a_korean_browser_gets_korean_without_a_click(served, browser, request):
    context = await browser.new_context(locale="ko-KR", viewport={"width": 1200, "height": 900})
    try:
        tab = await watched_tab(context, request.node.name, ARTIFACTS)
        await tab.page.goto(served.url + "/")
        assert await html_lang(tab.page) == "ko"
        await tab.page.click("nav.languages a[data-lang=en]")
        await tab.page.wait_for_function("document.documentElement.lang === 'en'")
        await tab.page.goto(served.url + "/activity")
        assert await html_lang(tab.page) == "en"  # the choice beats the browser's language
        tab.assert_quiet()
    finally:
        await context.close()


async def test_the_switcher_fits_a_phone(served, tab):
    page = tab.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(served.url + "/")
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    links = page.locator("nav.languages a, nav.main a, header.site a.brand")
    for index in range(await links.count()):
        box = await links.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, index
    # The board's rating and rank are in sight without scrolling it sideways.
    for heading in ("MMR", "Rank"):
        cell = page.get_by_role("columnheader", name=heading, exact=True)
        box = await cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, heading
    await tab.shot("phone")
