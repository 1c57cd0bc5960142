"""One-time dashboard login links and signed session cookies, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from services.web_login import LINK_TTL, SESSION_TTL, WebLoginService, token_hash
from storage.database import Database

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ADMIN = 4242


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def logins(db, clock):
    return WebLoginService(db, clock=clock)


async def test_a_link_logs_in_once(logins):
    token = await logins.issue(ADMIN)
    assert await logins.usable(token)
    assert await logins.redeem(token) == ADMIN
    assert not await logins.usable(token)
    assert await logins.redeem(token) is None


async def test_two_uses_at_once_log_in_once(logins):
    token = await logins.issue(ADMIN)
    results = await asyncio.gather(*(logins.redeem(token) for _ in range(5)))
    assert sorted(results, key=str) == [ADMIN, None, None, None, None]


async def test_a_link_expires_after_ten_minutes(logins, clock):
    token = await logins.issue(ADMIN)
    clock.now = T0 + LINK_TTL + timedelta(milliseconds=1)
    assert not await logins.usable(token)
    assert await logins.redeem(token) is None


async def test_a_link_in_its_last_moment_still_works(logins, clock):
    token = await logins.issue(ADMIN)
    clock.now = T0 + LINK_TTL
    assert await logins.redeem(token) == ADMIN


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "../" * 15, "A" * 42 + "=", "é" * 43])
async def test_unknown_or_malformed_tokens_are_refused(logins, token):
    await logins.issue(ADMIN)
    assert not await logins.usable(token)
    assert await logins.redeem(token) is None


async def test_only_the_hash_is_stored(logins, db):
    token = await logins.issue(ADMIN)
    with sqlite3.connect(db.path) as conn:
        rows = conn.execute("SELECT token_hash, admin_uid, used_at FROM web_logins").fetchall()
    assert rows == [(token_hash(token), ADMIN, None)]
    assert token not in repr(rows)


async def test_old_links_are_removed_when_a_new_one_is_made(logins, clock, db):
    await logins.issue(ADMIN)
    clock.now = T0 + timedelta(days=2)
    await logins.issue(ADMIN)
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT count(*) FROM web_logins").fetchone()[0] == 1


async def test_a_session_cookie_names_its_admin_until_it_expires(logins, clock):
    cookie = await logins.session_cookie(ADMIN)
    assert await logins.session_admin(cookie) == ADMIN
    clock.now = T0 + SESSION_TTL - timedelta(seconds=1)
    assert await logins.session_admin(cookie) == ADMIN
    clock.now = T0 + SESSION_TTL
    assert await logins.session_admin(cookie) is None


async def test_a_forged_or_altered_cookie_is_refused(logins):
    cookie = await logins.session_cookie(ADMIN)
    uid, expires, signature = cookie.split(".")
    later = int(expires) + 86_400
    for forged in (
        f"{uid}1.{expires}.{signature}",  # another admin
        f"{uid}.{later}.{signature}",  # a longer session
        f"{uid}.{expires}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{uid}.{expires}",
        "",
        None,
        cookie + ".",
    ):
        assert await logins.session_admin(forged) is None


async def test_the_signing_key_survives_a_restart(tmp_path, clock):
    first = await Database.open(tmp_path / "ladder.db")
    try:
        cookie = await WebLoginService(first, clock=clock).session_cookie(ADMIN)
    finally:
        await first.close()
    again = await Database.open(tmp_path / "ladder.db")
    try:
        assert await WebLoginService(again, clock=clock).session_admin(cookie) == ADMIN
    finally:
        await again.close()


async def test_another_database_does_not_accept_the_cookie(tmp_path, logins, clock):
    cookie = await logins.session_cookie(ADMIN)
    other = await Database.open(tmp_path / "other.db")
    try:
        assert await WebLoginService(other, clock=clock).session_admin(cookie) is None
    finally:
        await other.close()
