"""What admins and /notify show goes through the translation function: under a pseudo-language
every label, title, heading and line is the catalog's, every placeholder is filled, and the
English stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from babel.support import NullTranslations

import i18n
from app import status
from cache.players import CacheStats
from cogs.admin import STATUS_HEADINGS, _lookup_embed, confirm_buttons
from cogs.admin_ui import dispute_notice_embed, disputes_page, report_word
from cogs.notify import settings_embed
from i18n import speaking
from ladder.notifications import NotifySettings, QuietHours
from ladder.players import Player
from ladder.records import AdminAction, PlayerLookup, RatingRow
from storage.command_log import CommandLogStats

from .admin_records import NAMES, P1, P2, T0, dispute, evidence, match

PSEUDO = "ko"  # stands for any translated language in these tests


class Pseudo(NullTranslations):
    """A catalog that marks every text it translates: «text»."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"«{singular if n == 1 else plural}»"

    def pgettext(self, context: str, message: str) -> str:
        return f"«{message}»"


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        i18n, "catalog", lambda language: Pseudo() if language == PSEUDO else NullTranslations()
    )
    with speaking(PSEUDO):
        yield


def translated(text: str | None) -> bool:
    return text is not None and text.startswith("«") and "»" in text


def test_every_status_heading_is_marked_for_translation() -> None:
    log = CommandLogStats(1, 1, 0, 0, 0, 0, 0, None, "OperationalError: locked")
    report = status.build_status(
        now=T0, started_at=T0 - timedelta(hours=1), gateway_latency=0.05,
        commands_last_hour=3, p95_ms_last_hour=12.0, command_log=log,
        player_cache=CacheStats(hits=1, misses=1, size=1, invalidations=0),
        database_bytes=10, wal_bytes=0,
    )  # fmt: skip
    names = [name for name, _ in status.render_lines(report)]
    assert "Command log: last error" in names
    assert set(names) <= set(STATUS_HEADINGS), set(names) - set(STATUS_HEADINGS)


async def test_the_dispute_views_are_written_in_the_current_language(pseudo: None) -> None:
    notice = dispute_notice_embed(match(4), NAMES)
    assert translated(notice.title) and translated(notice.description)
    assert "`/admin resolve match_id:4`" in (notice.description or "")
    assert "**«win»**" in (notice.description or "")  # the report, in its context "report"

    many = [dispute(n, evidence(P1, 3, "z" * 900)) for n in range(1, 21)]
    page = disputes_page(many, NAMES, 2)
    assert translated(page.embed.title) and translated(page.embed.footer.text)
    assert page.view is not None
    assert all(translated(button.label) for button in page.view.children)  # type: ignore[attr-defined]
    lines = (page.embed.description or "").splitlines()
    heads = [line for line in lines if line.startswith("«__**Match #")]
    assert heads and all("«win» / «win»" in line for line in heads)
    counted = [line for line in lines if "piece" in line]
    assert counted and all(translated(line) for line in counted)
    assert any(line == "· «+1 more»" for line in lines)
    assert translated(disputes_page([], NAMES).embed.description)


async def test_the_confirm_buttons_are_written_in_the_current_language(pseudo: None) -> None:
    labels = [button.label for button in confirm_buttons(7).children]  # type: ignore[attr-defined]
    assert labels == ["«Confirm»", "«Cancel»"]


def test_the_player_lookup_is_written_in_the_current_language(pseudo: None) -> None:
    found = PlayerLookup(
        player=Player(P1, "erin", player_name="_Erin_", battletag="Erin#1234", banned=True),
        ratings=[RatingRow(P1, "bw_zerg", 1520, 3, 2, 1, 0)],
        queue=None,
        open_match=None,
        aborts_left=2,
        recent_actions=[
            AdminAction(1, P2, "adjust_mmr", f"player:{P1}", {}, "typo", T0),
        ],
    )
    embed = _lookup_embed(found)
    assert translated(embed.title)
    parts = (embed.description or "").split(" · ")
    assert parts[0] == f"<@{P1}>" and all(translated(part) for part in parts[1:])
    fields = {field.name: field.value for field in embed.fields}
    assert all(translated(name) for name in fields)
    assert fields["«Ratings»"] == "bw_zerg: 1520 (2-1-0)"  # numbers and codes as they are
    assert fields["«Open match»"] == "«none»" and fields["«Queue»"] == "«not queued»"
    assert fields["«Admin actions»"] == f"«2025-03-10 adjust_mmr by <@{P2}>: typo»"


@pytest.mark.parametrize("language", i18n.LOCALES)
def test_notify_settings_render_in_every_language(language: str) -> None:
    quiet = NotifySettings(True, frozenset({"bw_zerg"}), frozenset(), QuietHours(*_times()), "UTC")
    with speaking(language):
        for settings, interval in ((quiet, 30), (NotifySettings(), 1), (NotifySettings(), 0.5)):
            embed = settings_embed(settings, "—", interval, {"bw_zerg": "BW Zerg"})
            assert embed.title and embed.description and "{" not in embed.description
        assert report_word(None) == "—"


def test_notify_settings_in_english_are_as_before() -> None:
    quiet = NotifySettings(True, frozenset({"bw_zerg"}), frozenset(), QuietHours(*_times()), "UTC")
    text = settings_embed(quiet, "none yet", 30, {"bw_zerg": "BW Zerg"}).description or ""
    assert text.splitlines() == [
        "Queue notifications are **on**.",
        "Races: BW Zerg",
        "Regions: all",
        "Quiet hours: 23:00-07:00 (UTC)",
        "At most one every 30 minutes.",
        "Last notification: none yet",
    ]
    off = settings_embed(NotifySettings(), "none yet", 1, {}).description or ""
    assert "**off**" in off and "Quiet hours: none (time zone UTC)" in off
    assert "At most one every 1 minute." in off


def test_notify_settings_are_written_in_the_current_language(pseudo: None) -> None:
    embed = settings_embed(NotifySettings(), "—", 30, {})
    assert translated(embed.title)
    assert all(translated(line) for line in (embed.description or "").splitlines())


def _times() -> tuple:
    start = datetime(2025, 1, 1, 23, 0, tzinfo=UTC)
    return start.time(), (start + timedelta(hours=8)).time()
