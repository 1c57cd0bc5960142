"""What waits between two clicks, in real SQLite: /setup drafts and admin confirmations.

Both are what makes their components stateless (routed by custom_id, nothing in memory), so
each must survive a reopened database, belong to its player or admin only, expire, and (for a
confirmation) be answered once however many answers race.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from cache.players import PlayerCache
from ladder.players import SetupDraft
from services.confirmations import AdminConfirmations
from services.setup_drafts import SetupDraftService
from storage.database import Database
from storage.players import PlayerRepository

from .conftest import Clock

ANN, BOB = 11, 22
DRAFT = SetupDraft("Ann", "Ann#1234", ("Annie",), None, None)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "ladder.db")
    players = PlayerRepository(database, PlayerCache())
    for uid in (ANN, BOB):
        await players.record_terms(uid, f"user{uid}", accepted=True)
    yield database
    await database.close()


async def test_a_draft_is_kept_per_player_and_replaced_by_a_new_setup(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    drafts = SetupDraftService(db, clock=clock)
    first = await drafts.start(ANN, DRAFT)
    assert await drafts.get(first, ANN) == DRAFT
    assert await drafts.get(first, BOB) is None  # someone else's id: not found
    assert (await drafts.pick(first, ANN, "country", "FR")).country == "FR"
    picked = await drafts.pick(first, ANN, "region", "EU")
    assert (picked.country, picked.region, picked.complete) == ("FR", "EU", True)
    renamed = await drafts.rename(first, ANN, "Ann2", "Ann#2222", ())
    assert renamed == SetupDraft("Ann2", "Ann#2222", (), "FR", "EU")  # the picks are kept

    second = await drafts.start(ANN, DRAFT)  # a new /setup: the older preview is expired
    assert second > first
    assert await drafts.get(first, ANN) is None
    assert await drafts.pick(first, ANN, "country", "DE") is None
    assert await drafts.get(second, ANN) == DRAFT

    with pytest.raises(ValueError, match="pickable"):
        await drafts.pick(second, ANN, "battletag", "x")

    # Another connection to the file (a restarted bot) finds it as it was.
    reopened = await Database.open(tmp_path / "ladder.db")
    try:
        drafts = SetupDraftService(reopened, clock=clock)
        assert await drafts.get(second, ANN) == DRAFT
        assert await drafts.discard(second, ANN)
        assert not await drafts.discard(second, ANN)
        assert await drafts.get(second, ANN) is None
        # Ids are never given again, even after the newest draft is gone.
        assert await drafts.start(ANN, DRAFT) > second
    finally:
        await reopened.close()


async def test_a_draft_expires_after_its_time(db: Database) -> None:
    clock = Clock()
    drafts = SetupDraftService(db, clock=clock)
    draft_id = await drafts.start(ANN, DRAFT)
    clock.advance(minutes=59)
    assert await drafts.get(draft_id, ANN) == DRAFT
    clock.advance(minutes=2)
    assert await drafts.get(draft_id, ANN) is None
    assert await drafts.rename(draft_id, ANN, "Ann", "Ann#1234", ()) is None
    await drafts.start(BOB, DRAFT)  # a new draft removes the expired ones
    rows = await db.fetchall("SELECT discord_uid FROM setup_drafts")
    assert [r[0] for r in rows] == [BOB]


async def test_a_confirmation_is_answered_once_by_its_admin_in_time(db: Database) -> None:
    clock = Clock()
    confirmations = AdminConfirmations(db, clock=clock)
    asked = await confirmations.ask(1, "mmr", {"uid": ANN, "amount": 5}, {"mmr": None})
    found = await confirmations.get(asked)
    assert found is not None
    assert (found.admin_uid, found.action, found.used) == (1, "mmr", False)
    assert (dict(found.arguments), dict(found.expected)) == (
        {"uid": ANN, "amount": 5},
        {"mmr": None},
    )
    assert not confirmations.expired(found)

    # Many answers at once: exactly one wins.
    wins = await asyncio.gather(*(confirmations.claim(found) for _ in range(8)))
    assert sorted(wins) == [False] * 7 + [True]
    assert (await confirmations.get(asked)).used

    # Another admin's id cannot claim it; a question two minutes old is expired.
    other = await confirmations.get(await confirmations.ask(2, "ban", {"uid": BOB}))
    assert other is not None
    forged = replace(other, admin_uid=1)
    assert not await confirmations.claim(forged)
    clock.advance(minutes=2, seconds=1)
    assert confirmations.expired(other)
    assert not await confirmations.claim(other)
    assert not (await confirmations.get(other.id)).used
    assert await confirmations.get(999) is None

    # A day later, asking again clears out the old questions.
    clock.advance(days=1)
    await confirmations.ask(1, "clearqueue", {"reason": "x"})
    rows = await db.fetchall("SELECT action FROM admin_confirmations")
    assert [r[0] for r in rows] == ["clearqueue"]
