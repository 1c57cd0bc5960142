"""The seasons' Discord text: the provisional mark and /profile's inactivity notice, and
escaping of the names an admin or a player typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import i18n
from cogs.seasons import (
    archive_embed,
    escaped,
    profile_season_embed,
    rating_notes,
    started_embed,
    status_embed,
)
from i18n import speaking
from ladder.rating_systems import EloSystem, Glicko2System, RatingState
from ladder.seasons import ArchivedEntry, Record, Season
from services.seasons import SeasonStarted, SeasonStatus

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_glicko2_says_when_the_rating_becomes_provisional() -> None:
    system = Glicko2System()
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, NOW - timedelta(days=1), NOW)
    assert (shown, notice) == ("1623", "")  # played yesterday: nothing to say
    away = NOW - timedelta(days=20)
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, away, NOW)
    assert shown == "1623" and notice.startswith(f"inactive since <t:{int(away.timestamp())}:D>")
    assert "your rating becomes provisional on <t:" in notice
    long_gone = NOW - timedelta(days=400)
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, long_gone, NOW)
    assert shown == "1623?" and "became provisional on" in notice


def test_elo_decay_notice_and_provisional_games() -> None:
    decaying = EloSystem(decay_after_days=30, decay_per_week=10, decay_floor=1400)
    away = NOW - timedelta(days=10)
    shown, notice = rating_notes(decaying, 1700, 12, None, None, away, NOW)
    expected = int((away + timedelta(days=30)).timestamp())
    assert shown == "1700" and notice.endswith(f"your rating starts decaying on <t:{expected}:D>")
    assert rating_notes(EloSystem(), 1700, 12, None, None, away, NOW) == (
        "1700",
        f"inactive since <t:{int(away.timestamp())}:D>",
    )
    assert rating_notes(EloSystem(provisional_games=5), 1530, 2, None, None, NOW, NOW)[0] == "1530?"


def test_names_are_escaped() -> None:
    assert escaped("**Spring** @everyone") == "\\*\\*Spring\\*\\* @\u200beveryone"
    assert escaped("x" * 40).endswith("…") and len(escaped("x" * 40)) == 32


# --- the season texts counted, and in the reader's language ---------------------------------

SPRING = Season(1, "**Spring**", NOW - timedelta(days=90), NOW, None, "glicko2", "pull", 0.5)
SUMMER = Season(2, "Summer", NOW, None, None, "glicko2", "pull", 0.5)




def entry(place: int | None, provisional: bool = False) -> ArchivedEntry:
    record = Record(games=3, wins=1, losses=1, draws=1)
    return ArchivedEntry(
        7,
        "bw_zerg",
        RatingState(1480.0, games=3),
        record,
        place,
        "B" if place else None,
        provisional,
    )


def test_a_new_season_counts_in_the_singular_and_the_plural() -> None:
    one = started_embed(SeasonStarted(SPRING, SUMMER, archived=1, ranked=1, open_matches=1))
    text = one.description or ""
    assert "has ended: 1 rating archived (1 ranked)." in text, text
    assert "ratings pulled 50% of the way to the start" in text
    assert "1 match of season 1 is still being played: its result will count" in text
    many = started_embed(SeasonStarted(SPRING, SUMMER, archived=2, ranked=2, open_matches=3))
    assert "2 ratings archived (2 ranked)" in (many.description or "")
    assert "3 matches of season 1 are still being played" in (many.description or "")


def test_the_status_counts_and_lists_the_map_pool() -> None:
    status = SeasonStatus(SUMMER, ("Eclipse", "Polypoid"), 1, 0, 2, (SPRING,))
    text = status_embed(status).description or ""
    assert "1 rated match · 0 being played · 2 players with a game" in text, text
    assert "Map pool: Eclipse and Polypoid" in text
    assert "Past seasons: 1 (\\*\\*Spring\\*\\*)" in text  # an admin's name, escaped


def test_every_season_text_goes_through_the_catalog(pseudo) -> None:
    with speaking("ko"):
        started = started_embed(SeasonStarted(SPRING, SUMMER, 2, 1, 1))
        status = status_embed(SeasonStatus(SUMMER, ("Eclipse",), 4, 1, 3, (SPRING,)))
        archive = archive_embed(SPRING, [entry(1, True), entry(None)], {7: "Erin"}, {})
        nobody = archive_embed(SPRING, [], {}, {})
        own = profile_season_embed(SPRING, [], "Erin", {})
        _, notice = rating_notes(
            Glicko2System(), 1623, 40, 60.0, 0.06, NOW - timedelta(days=20), NOW
        )
    mark = re.compile(r"^⟪.*⟫$", re.DOTALL)
    assert all(mark.match(line) for line in (started.description or "").split("\n"))
    assert mark.match(started.title or "")
    assert all(mark.match(line) for line in (status.description or "").split("\n"))
    assert all(mark.match(line) for line in (archive.description or "").split("\n"))
    assert mark.match(archive.title or "") and mark.match(archive.footer.text or "")
    assert mark.match(nobody.description or "") and mark.match(own.description or "")
    assert mark.match(own.title or "") and mark.match(notice)
    # What an admin named the season stays as typed (escaped) inside the translated title.
    assert "\\*\\*Spring\\*\\*" in (archive.title or "")


@pytest.mark.parametrize("language", i18n.LOCALES)
def test_the_season_texts_render_in_every_language(language: str) -> None:
    """Every placeholder is filled whatever the catalog holds (a missing one would raise)."""
    with speaking(language):
        shown = [
            started_embed(SeasonStarted(SPRING, SUMMER, 1234, 1000, 2)).description,
            status_embed(SeasonStatus(SUMMER, ("Eclipse",), 1234, 1, 3, (SPRING,))).description,
            archive_embed(SPRING, [entry(1234)], {}, {"bw_zerg": "BW Zerg"}).description,
            archive_embed(SPRING, [entry(1)], {}, {}).footer.text,
            rating_notes(
                EloSystem(decay_after_days=30), 1700, 12, None, None, NOW - timedelta(days=10), NOW
            )[1],
        ]
    for text in shown:
        assert text and "{" not in text, text
