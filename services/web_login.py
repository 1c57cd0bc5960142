"""Logging in to the host dashboard without passwords.

`/admin web` asks `issue(admin_uid)` for a one-time link token: 32 random bytes, URL-safe; only
its SHA-256 is stored (`web_logins`), so neither a backup nor a leaked database holds a link that
works. `redeem(token)` uses it at most once (a conditional UPDATE in one write transaction: of
two clicks at once, one wins) and within `LINK_TTL` of its making, and returns the admin's id.

The browser then holds a session cookie signed here: "<admin uid>.<expires, unix s>.<HMAC>",
HMAC-SHA256 under a key made once and kept in the database (`web_secrets`, name 'session'), so
sessions survive a restart and travel with a backup. Deleting that row logs every browser out.
Nothing in the cookie is secret; it cannot be forged or extended without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.transactions import write_transaction
from storage.database import Database
from storage.web_logins import WebLoginRepository

log = logging.getLogger(__name__)

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)
# Used and expired links are kept this long, then removed when a new link is made.
KEPT = timedelta(days=1)
SESSION_SECRET = "session"
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters, no padding
_SESSION = re.compile(r"([1-9][0-9]{0,19})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    """What is stored of a link's token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class WebLoginService:
    """Make and use one-time login links; sign and check session cookies."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = _now,
        link_ttl: timedelta = LINK_TTL,
        session_ttl: timedelta = SESSION_TTL,
    ) -> None:
        self._db = db
        self._logins = WebLoginRepository()
        self._clock = clock
        self.link_ttl = link_ttl
        self.session_ttl = session_ttl
        self._key: bytes | None = None

    async def issue(self, admin_uid: int) -> str:
        """A new one-time link token for `admin_uid` (the caller checked it is an admin)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with write_transaction(self._db, "Web login") as conn:
            now = self._clock()
            await self._logins.purge(conn, now - KEPT)
            await self._logins.add(conn, token_hash(token), admin_uid, now)
        log.info("Dashboard login link made for admin %s", admin_uid)
        return token

    async def usable(self, token: str) -> bool:
        """True if the link would log in now (made in time, not used); uses nothing."""
        if not _TOKEN.fullmatch(token):
            return False
        since = self._clock() - self.link_ttl
        return await self._logins.usable(self._db.reader, token_hash(token), since)

    async def redeem(self, token: str) -> int | None:
        """Use the link: the admin's id the first time, in time; None ever after."""
        if not _TOKEN.fullmatch(token):
            return None
        async with write_transaction(self._db, "Web login") as conn:
            now = self._clock()
            admin_uid = await self._logins.claim(conn, token_hash(token), now - self.link_ttl, now)
        if admin_uid is None:
            log.debug("A used, expired or unknown dashboard login link was refused")
        else:
            log.info("Admin %s logged in to the dashboard", admin_uid)
        return admin_uid

    async def session_cookie(self, admin_uid: int) -> str:
        """The signed cookie value for a session of `admin_uid`, valid for `session_ttl`."""
        expires = int((self._clock() + self.session_ttl).timestamp())
        payload = f"{admin_uid}.{expires}"
        return f"{payload}.{_sign(await self._signing_key(), payload)}"

    async def session_admin(self, cookie: str | None) -> int | None:
        """The admin's id if the cookie is one we signed and it has not expired; else None."""
        if not cookie:
            return None
        match = _SESSION.fullmatch(cookie)
        if match is None:
            return None
        uid, expires, signature = match.groups()
        expected = _sign(await self._signing_key(), f"{uid}.{expires}")
        if not hmac.compare_digest(signature, expected):
            return None
        if int(expires) <= self._clock().timestamp():
            return None
        return int(uid)

    async def _signing_key(self) -> bytes:
        """The cookie-signing key: made once, kept in the database, read once per process."""
        if self._key is None:
            async with write_transaction(self._db, "Web secret") as conn:
                self._key = await self._logins.secret(
                    conn, SESSION_SECRET, secrets.token_bytes(32), self._clock()
                )
        return self._key


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
