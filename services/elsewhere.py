"""What other bot processes on the same PostgreSQL changed, brought into this process.

Every player write sends its uid on `storage.players.PLAYERS_CHANNEL`, and every statement that
writes ratings sends their keys on `storage.ratings.RATINGS_CHANNEL` (a trigger, migration 0014),
both inside the writing transaction, so they arrive only for what committed. bot.py listens
(`storage.postgres.Listener`) and hands them here:

* a player: his cache entry goes at once, then his record is read again and published through
  `PlayerChanges` (the standings' name, country, region and ban flag);
* ratings: the rows are read again and handed to `on_ratings` (the standings' `apply`, as the
  writing process's own `LadderCore.on_ratings_changed` is);
* `missed()` (the listening connection was lost and is listening again): whatever was sent
  meanwhile is lost, so the cache is cleared and every rating and every rated player's fields
  are read again.

At start, bot.py listens before it reads the standings, through `Backlog`: what is heard while
start-up reads is kept and handed over once this object exists, so a start needs no full read
again (on a big ladder that read stalled the first seconds of commands).

The reads happen one after the other in one background task, always of the rows as they are
now (not of the payload), so the last notification of a key is followed by a read of its last
committed state, whatever the order in between. This process's own writes come back too: read
once more, harmlessly.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping

from ladder.errors import StorageBusyError
from ladder.rating import RatingKey
from ladder.records import RatingRow
from services.players import PlayerService
from storage.database import Database
from storage.ratings import RatingRepository, ratings_payload_keys
from storage.tasks import cancel_and_wait, start_logged

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # after a failed read, read everything again this much later
KEYS_PER_READ = 100
ROWS_PER_PAGE = 2000  # a full read goes page by page: no read or apply stalls the loop long
# More keys than this waiting (a write of many rows, one statement each): one read of all.
READ_ALL_ABOVE = 2000

type RatingsListener = Callable[[list[RatingRow]], None]
# Re-read these players' standings fields (name, country, region, ban) into the standings.
type PlayersRefresher = Callable[[Iterable[int]], Awaitable[None]]


class ChangesElsewhere:
    """Follows other processes' player and rating writes (wired by bot.py)."""

    def __init__(
        self,
        db: Database,
        players: PlayerService,
        on_ratings: RatingsListener,
        refresh_players: PlayersRefresher,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._db = db
        self._players = players
        self._on_ratings = on_ratings
        self._refresh_players = refresh_players
        self._ratings = RatingRepository()
        self.retry_seconds = retry_seconds
        # Insertion-ordered sets: a key changed again before its turn is read once.
        self._pending_players: dict[int, None] = {}
        self._pending_keys: dict[RatingKey, None] = {}
        self._all_ratings = False  # a '*' notification: read every rating again
        self._everything = False  # notifications were lost: ratings and players again
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # For tests and /admin: what was done.
        self.published = 0  # players read again and published
        self.rows_applied = 0  # ratings rows read again and applied
        self.reloads = 0  # full reloads finished
        self.idle = asyncio.Event()  # set while nothing is waiting to be read
        self.idle.set()

    def start(self) -> None:
        if self._task is None:
            self._task = start_logged(
                self._run(), "changes-elsewhere", log, "Following other processes' changes crashed"
            )

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def player_changed(self, payload: str) -> None:
        """A PLAYERS_CHANNEL notification: `payload` is the uid written (by any process)."""
        uid = int(payload)
        self._players.cache.invalidate(uid)
        self._pending_players[uid] = None
        self._poke()

    def ratings_changed(self, payload: str) -> None:
        """A RATINGS_CHANNEL notification: the keys written, or '*' for too many to name."""
        keys = ratings_payload_keys(payload)
        if keys is not None:
            self._pending_keys.update(dict.fromkeys(keys))
        if keys is None or len(self._pending_keys) > READ_ALL_ABOVE:
            self._all_ratings = True
            self._pending_keys.clear()
        self._poke()

    def missed(self) -> None:
        """Notifications may have been lost: drop the cache now, read everything again."""
        self._players.cache.clear()
        self._everything = True
        self._poke()

    def _poke(self) -> None:
        self.idle.clear()
        self._wake.set()

    def _has_work(self) -> bool:
        return bool(
            self._everything or self._all_ratings or self._pending_keys or self._pending_players
        )

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._has_work():
                try:
                    await self._step()
                except (sqlite3.Error, StorageBusyError) as exc:  # the database is away
                    log.warning("Reading other processes' changes failed: %s", exc)
                except Exception:
                    log.exception("Reading other processes' changes failed")
                else:
                    continue
                # What was to be read may now be anything: read everything once it answers.
                self._everything = True
                await asyncio.sleep(self.retry_seconds)
            if not self._wake.is_set():
                self.idle.set()

    async def _step(self) -> None:
        """Do the most comprehensive piece of work waiting (it covers the smaller ones)."""
        if self._everything:
            # Cleared before reading: whatever arrives during the read is read after it.
            self._everything = self._all_ratings = False
            self._pending_keys.clear()
            self._pending_players.clear()
            count = await self._read_all(players=True)
            self.reloads += 1
            log.info("Read all %d ratings and their players again (notifications were lost)", count)
        elif self._all_ratings:
            self._all_ratings = False
            self._pending_keys.clear()
            await self._read_all(players=False)
        elif self._pending_keys:
            keys = list(self._pending_keys)[:KEYS_PER_READ]
            for key in keys:
                del self._pending_keys[key]
            self._apply(await self._ratings.rows(self._db.reader, keys))
        else:
            uid = next(iter(self._pending_players))
            del self._pending_players[uid]
            player = await self._players.get(uid)
            if player is not None:
                self._players.changes.publish(player)
                self.published += 1

    async def _read_all(self, *, players: bool) -> int:
        """Read every rating again (and its player's fields), page by page; return how many.
        Not one snapshot: a row written meanwhile is notified, and read again after this."""
        count = 0
        after: RatingKey | None = None
        while rows := await self._ratings.page_after(self._db.reader, after, ROWS_PER_PAGE):
            self._apply(rows)
            if players:
                await self._refresh_players({row.uid for row in rows})
            count += len(rows)
            after = rows[-1].key
        return count

    def _apply(self, rows: list[RatingRow]) -> None:
        if not rows:
            return
        try:
            self._on_ratings(rows)
        except Exception:  # one broken view must not stop the others' updates
            log.exception("Applying ratings another process changed failed")
        self.rows_applied += len(rows)


type Handlers = Mapping[str, Callable[[str], None]]


class Backlog:
    """What the listener hears before `ChangesElsewhere` exists, handed over by `attach`.

    bot.py starts listening, calls `reading()`, then reads the standings and builds the bot.
    Every change committed after LISTEN began is heard; one committed before it is in what
    start-up reads after it. So the notifications kept here are all that start-up may have
    missed, and are replayed at `attach` (read again: harmless when already read). Only if
    listening started again after `reading()` (the connection lost meanwhile) may something be
    lost, and `attach` then reads everything again (`missed`).
    """

    def __init__(self, channels: Iterable[str]) -> None:
        self._channels = tuple(channels)
        self._held: list[tuple[str, str]] = []
        self._reading = False
        self._missed = False
        self._handlers: Handlers | None = None
        self._on_missed: Callable[[], None] | None = None

    @property
    def channels(self) -> Handlers:
        """The handlers to listen with, one per channel."""
        return {channel: functools.partial(self._heard, channel) for channel in self._channels}

    def reading(self) -> None:
        """Start-up's reads begin: a reset from now on means something may have been missed."""
        self._reading = True

    def reset(self) -> None:
        """The listener's `on_reset`: listening (re)started; notifications may have been lost."""
        if self._on_missed is not None:
            self._on_missed()
        elif self._reading:
            self._missed = True

    def attach(self, handlers: Handlers, on_missed: Callable[[], None]) -> None:
        """Hand over: replay what was heard, then pass everything on as it comes."""
        held, self._held = self._held, []
        self._handlers, self._on_missed = handlers, on_missed
        if self._missed:
            on_missed()
        for channel, payload in held:
            handlers[channel](payload)

    def _heard(self, channel: str, payload: str) -> None:
        if self._handlers is None:
            self._held.append((channel, payload))
        else:
            self._handlers[channel](payload)
