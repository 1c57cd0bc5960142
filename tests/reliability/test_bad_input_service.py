"""Hostile input through the validation and service layers, with many examples.

The same functions the cogs call with what a player typed or picked: ladder.players' validators
(the /setup fields, /setcountry), the country search (the autocomplete), and the ladder services'
use cases (evidence, admin rulings and MMR adjustments, the queue, match buttons) on a real SQLite
file with real players and matches. Inputs: arbitrary unicode, control and zero-width
characters, SQL-looking text, strings past every limit, negative and huge numbers, unknown player
and match ids.

Always: either a result that keeps the rules, or a LadderError whose message a player can read
(not empty, fits an embed, no raw control characters). Never another exception. A refusal
writes nothing (every state table compared); what is accepted is stored verbatim. Strings the
service echoes in a message (a race or map name) are drawn within Discord's option limits.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.settings import REPO_ROOT
from cache.players import PlayerCache
from ladder.config import load_ladder_config
from ladder.countries import search_countries
from ladder.errors import LadderError, ValidationError
from ladder.players import (
    NAME_MAX,
    NAME_MIN,
    ProfileDraft,
    validate_alt_names,
    validate_battletag,
    validate_country,
    validate_name,
    validate_region,
)
from services.admin import AdminService
from services.ladder_core import LadderCore
from services.matches import MatchService
from services.queue import QueueService
from storage.database import Database
from storage.players import PlayerRepository
from tests.reliability.e2e_helpers import STATE_TABLES
from tests.reliability.strategies import (
    SQLISH,
    any_text,
    discord_ints,
    nasty_text,
    readable,
)

IN_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the shared database's loop

CONFIG = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
REGIONS = {r.code: r.name for r in CONFIG.regions}
MANY = settings(max_examples=300, deadline=None)
SERVICE = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def refused_clearly(error: LadderError) -> None:
    assert not readable(error.user_message), (readable(error.user_message), error.user_message)


# --- the validators: pure, so hundreds of examples each ---------------------------------


def _name_rules(name: str) -> None:
    assert name == unicodedata.normalize("NFC", name)
    assert NAME_MIN <= len(name) <= NAME_MAX
    assert all(unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "Nd"
               or c in "_-" for c in name), name  # fmt: skip
    assert validate_name(name) == name  # a stored name is valid again as it is


@MANY
@given(value=any_text(40))
@example(value="\u200bBob")
@example(value="Bob\u200d")
@example(value="e\u0301e\u0301e\u0301")
@example(value="x" * 100_000)
def test_player_names(value: str) -> None:
    try:
        name = validate_name(value)
    except ValidationError as error:
        refused_clearly(error)
        assert error.field == "player_name"
    else:
        _name_rules(name)


@MANY
@given(value=any_text(40))
@example(value="Name#1234\u200b")
@example(value="Ｎａｍｅ#１２３４")
@example(value="Name#٣٣٣")
@example(value="#" * 50_000)
def test_battletags(value: str) -> None:
    try:
        tag = validate_battletag(value)
    except ValidationError as error:
        refused_clearly(error)
    else:
        name, digits = tag.split("#")
        assert digits.isascii() and digits.isdigit() and 3 <= len(digits) <= 12
        assert 1 <= len(name) <= 12 and validate_battletag(tag) == tag


@MANY
@given(main=st.sampled_from(["Bob", "Zoë", "ÅSA"]), alts=st.lists(
    st.one_of(st.none(), any_text(40)), max_size=2))  # fmt: skip
def test_alt_names(main: str, alts: list[str | None]) -> None:
    try:
        chosen = validate_alt_names(main, alts)
    except ValidationError as error:
        refused_clearly(error)
    else:
        assert len(chosen) <= 2
        for alt in chosen:
            _name_rules(alt)
        keys = [unicodedata.normalize("NFKC", n).casefold() for n in (main, *chosen)]
        assert len(set(keys)) == len(keys)


@MANY
@given(value=any_text(120))
@example(value="fr")
@example(value="🇫🇷")
@example(value="'; DROP TABLE players;--")
def test_countries_and_their_autocomplete(value: str) -> None:
    try:
        code = validate_country(value)
    except ValidationError as error:
        refused_clearly(error)
    else:
        assert len(code) == 2 and code.isascii() and code.isupper()
    found = search_countries(value)
    assert len(found) <= 25
    assert all(len(code) == 2 and name for code, name in found)


@MANY
@given(value=any_text(40))
def test_regions(value: str) -> None:
    try:
        code = validate_region(value, REGIONS)
    except ValidationError as error:
        refused_clearly(error)
    else:
        assert code in REGIONS


# --- the service, on a real database -----------------------------------------------------

A, B, C, D, E, STRANGER, ADMIN = 101, 102, 103, 104, 105, 999, 1


@dataclass
class World:
    db: Database
    queue: QueueService
    matches: MatchService
    admin: AdminService
    players: PlayerRepository
    disputed: int  # A vs B, both reported a win
    playing: int  # D vs E, in progress


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    path: Path = tmp_path_factory.mktemp("bad-input") / "ladder.db"
    db = await Database.open(path)
    players = PlayerRepository(db, PlayerCache())
    core = LadderCore(db, players, CONFIG)
    queue, matches = QueueService(core, rng=random.Random(5)), MatchService(core)
    for uid in (A, B, C, D, E):  # accepted the terms and finished /setup, as /queue requires
        await players.record_terms(uid, f"user{uid}", True)
        draft = ProfileDraft(f"user{uid}", f"User{uid}#1234", (), "US", "na")
        await players.save_profile(uid, f"user{uid}", draft)

    async def matched(x: int, y: int) -> int:
        await queue.join_queue(x, ["bw_terran"], [])
        await queue.join_queue(y, ["bw_zerg"], [])
        (made,) = await queue.run_wave()
        await matches.confirm(made.id, x)
        await matches.confirm(made.id, y)
        return made.id

    disputed = await matched(A, B)
    await matches.report(disputed, A, "win")
    await matches.report(disputed, B, "win")
    playing = await matched(D, E)
    yield World(db, queue, matches, AdminService(core), players, disputed, playing)
    await db.close()


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    return {
        t: sorted((tuple(r) for r in await db.fetchall(f"SELECT * FROM {t}")), key=repr)
        for t in STATE_TABLES
    }


async def attempt[T](world: World, call: Awaitable[T]) -> T | None:
    """Run one use case: a result, or a clear LadderError that changed nothing."""
    before = await snapshot(world.db)
    try:
        return await call
    except LadderError as error:
        refused_clearly(error)
        assert await snapshot(world.db) == before, "a refused action wrote something"
        return None


def match_ids(world_ids: tuple[str, ...] = ("disputed", "playing")) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(world_ids), discord_ints())


def uids() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([A, B, C, D, E, STRANGER]), discord_ints())


def pick(world: World, match: int | str) -> int:
    return getattr(world, match) if isinstance(match, str) else match


optional = st.one_of(st.none(), st.just(""), st.just("   "))
URLS = (
    "https://replays.example/1.rep", "http://x", "javascript:alert(1)", "https://",
    "https://a b", "file:///etc/passwd", "https://ex.com/" + "a" * 480,
    "https://ex.com/'; DROP TABLE disputes;--",
)  # fmt: skip


@IN_MODULE_LOOP
@SERVICE
@given(
    note=st.one_of(optional, any_text(1200)),
    url=st.one_of(optional, any_text(600), st.sampled_from(URLS)),
    uid=st.sampled_from([A, B, C, STRANGER]),
    match=match_ids(),
)
@example(note="'; DROP TABLE dispute_evidence;--", url=None, uid=A, match="disputed")
@example(note="gg\u200b\x00\n", url="https://ex.com/?q=' OR 1=1", uid=B, match="disputed")
async def test_evidence(world: World, note, url, uid, match) -> None:
    match_id = pick(world, match)
    dispute = await attempt(world, world.matches.add_evidence(match_id, uid, note, url))
    if dispute is None:
        return
    (row,) = await world.db.fetchall(
        "SELECT note, url, discord_uid FROM dispute_evidence ORDER BY id DESC LIMIT 1"
    )
    assert (row["note"], row["url"], row["discord_uid"]) == (
        note if note and note.strip() else None,
        url if url and url.strip() else None,
        uid,
    )
    # Keep under the ten-pieces-per-player cap, so that later examples are stored too.
    async with world.db.transaction() as conn:
        await conn.execute("DELETE FROM dispute_evidence")


@IN_MODULE_LOOP
@SERVICE
@given(
    match=match_ids(),
    ruling=st.one_of(st.sampled_from(["p1_win", "p2_win", "draw", "invalidate"]), nasty_text(40)),
    reason=st.one_of(st.none(), any_text(1200)),
)
@example(match="disputed", ruling="p1_win", reason="'; DROP TABLE admin_actions;--")
async def test_admin_rulings(world: World, match, ruling, reason) -> None:
    update = await attempt(world, world.admin.resolve_match(ADMIN, pick(world, match),
                                                              ruling, reason))  # fmt: skip
    if update is not None:
        (row,) = await world.db.fetchall(
            "SELECT reason FROM admin_actions ORDER BY id DESC LIMIT 1"
        )
        assert row["reason"] == (reason or None)


@IN_MODULE_LOOP
@SERVICE
@given(
    uid=uids(),
    race=st.one_of(st.sampled_from(CONFIG.race_codes), nasty_text(32)),
    mode=st.one_of(st.sampled_from(["set", "add", "subtract"]), nasty_text(20)),
    amount=discord_ints(),
    reason=st.one_of(st.none(), any_text(1200)),
)
async def test_admin_mmr_adjustments(world: World, uid, race, mode, amount, reason) -> None:
    change = await attempt(world, world.admin.adjust_mmr(ADMIN, uid, race, mode, amount, reason))
    if change is not None:
        assert change.new >= 0, change  # a rating never goes below zero


@IN_MODULE_LOOP
@SERVICE
@given(
    uid=st.sampled_from([C, STRANGER, A]),
    races=st.lists(st.one_of(st.sampled_from(CONFIG.race_codes), nasty_text(100)), max_size=8),
    vetoes=st.lists(st.one_of(st.sampled_from(CONFIG.map_pool), nasty_text(100)), max_size=8),
)
async def test_joining_the_queue(world: World, uid, races, vetoes) -> None:
    status = await attempt(world, world.queue.join_queue(uid, races, vetoes))
    if status is not None:
        assert set(status.races) <= set(CONFIG.race_codes)
        assert set(status.vetoes) <= set(CONFIG.map_pool)
        assert await world.queue.leave_queue(uid)


@IN_MODULE_LOOP
@SERVICE
@given(
    action=st.sampled_from(["confirm", "abort", "report"]),
    match=match_ids(),
    uid=uids(),
    outcome=st.one_of(st.sampled_from(["win", "loss", "draw"]), nasty_text(20)),
)
async def test_match_buttons(world: World, action, match, uid, outcome) -> None:
    matches = world.matches
    match_id = pick(world, match)
    if action == "report":
        # Only strangers and unknown matches: a real report by D or E would end the match.
        if uid in (D, E) and match_id == world.playing:
            uid = STRANGER
        await attempt(world, matches.report(match_id, uid, outcome))
    elif action == "abort":
        if uid in (D, E) and match_id == world.playing:
            uid = STRANGER
        await attempt(world, matches.abort(match_id, uid))
    else:
        await attempt(world, matches.confirm(match_id, uid))


@IN_MODULE_LOOP
async def test_the_file_is_whole_after_all_of_it(world: World) -> None:
    """SQL-looking notes and reasons were stored as text, never run: every table is there."""
    assert (await world.db.fetchone("PRAGMA integrity_check"))[0] == "ok"
    assert await world.db.fetchall("PRAGMA foreign_key_check") == []
    tables = {r[0] for r in await world.db.fetchall("SELECT name FROM sqlite_master")}
    assert set(STATE_TABLES) <= tables
    assert (await world.db.fetchone("SELECT count(*) FROM players"))[0] >= 5
    assert SQLISH  # (the texts the strategies mix in)
