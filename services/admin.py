"""What admins do: rule on matches, adjust MMR, ban and unban, take players out of the queue,
give aborts back, and the reads /admin shows. Each action is one transaction (see
`services.ladder_core`) that also writes the action, with its reason, to `admin_actions`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from types import EllipsisType
from typing import Any

from i18n import N_
from ladder.config import LadderConfig
from ladder.errors import ConflictError, ValidationError
from ladder.players import Player
from ladder.rating import RatingChange, adjusted
from ladder.records import DisputeRecord, MatchRecord, MatchUpdate, PlayerLookup, RatingRow
from ladder.reports import AdminRuling, Ruling, month_key
from services.ladder_core import LadderCore, encodable, tell_left_queue
from services.players import LeftQueue, LeftQueueListener
from storage.admin import QUEUE_TARGET, match_target, player_target

log = logging.getLogger(__name__)


REASON_MAX = 1000
MMR_AMOUNT_MAX = 10_000


class AdminService:
    """The admins' actions and reads; every action is logged with its reason."""

    def __init__(self, core: LadderCore, *, on_left_queue: LeftQueueListener | None = None) -> None:
        self._core = core
        # Told (after the commit) who left the queue other than by their own Cancel, so that
        # their queue messages can say so.
        self.on_left_queue = on_left_queue
        self._players = core.players
        self._queue = core.queue
        self._matches = core.matches
        self._disputes = core.disputes
        self._aborts = core.aborts
        self._ratings = core.ratings
        self._admin = core.admin_actions

    @property
    def config(self) -> LadderConfig:
        """The settings in force (the current season's map pool), read from the core."""
        return self._core.config

    async def resolve_match(
        self,
        admin_uid: int,
        match_id: int,
        ruling: str,
        reason: str | None,
        *,
        expected: MatchRecord | Mapping[str, Any] | None = None,
    ) -> MatchUpdate:
        """Decide a match (a win, a draw or invalidate); a rated match is re-rated in place.

        `expected`: the match as the admin saw it when asked to confirm (or its `ruled_state`,
        as stored with the question). If its status, result or decision has changed since
        (another admin ruled), ConflictError and nothing changes.
        """
        try:
            value = Ruling(ruling)
        except ValueError:
            raise ValidationError(
                "ruling", N_("A ruling is **p1_win**, **p2_win**, **draw** or **invalidate**.")
            ) from None
        reason = _valid_reason(reason)
        async with self._core.write() as conn:
            now = self._core.now()
            before = await self._core.require_match(conn, match_id)
            if expected is not None and ruled_state(before) != ruled_state(expected):
                raise ConflictError(
                    # Translators: {state} is a status and result code, e.g. `finished (p1_win)`.
                    N_(
                        "Match #{match} changed since you asked: it is now {state}. Nothing was "
                        "changed; run the command again."
                    ),
                    match=match_id,
                    state=_describe_match_state(before),
                )
            ruled = AdminRuling(admin_uid, value)
            update, rows = await self._core.apply(conn, before, ruled, now)
            if await self._disputes.rule(conn, match_id, value.value, admin_uid, reason, now):
                update = replace(update, dispute=await self._core.dispute(conn, update.match))
            details = {
                "ruling": value.value,
                "before": {"status": before.status.value, "result": _value(before.result)},
                "after": {
                    "status": update.match.status.value,
                    "result": _value(update.match.result),
                },
                "rating_changes": [[*c.key, c.old, c.new] for c in update.rating_changes],
            }
            await self._admin.record(
                conn, admin_uid, "resolve_match", match_target(match_id), details, reason, now
            )
        self._core.ratings_changed(rows)
        log.info("Admin %s ruled %s on match %s", admin_uid, value.value, match_id)
        return update

    async def adjust_mmr(
        self,
        admin_uid: int,
        uid: int,
        race: str,
        mode: str,
        amount: int,
        reason: str | None,
        *,
        expected: int | EllipsisType | None = ...,
    ) -> RatingChange:
        """Set, add to or subtract from a player's MMR with one race; logged for replays.

        `expected`: the MMR the admin saw when asked to confirm (None: no rating yet). If the
        stored one differs (the same adjustment applied twice, or another admin's), ConflictError
        and nothing changes. Leave it out to adjust whatever the MMR is now.
        """
        self._core.valid_race(race)
        kind, signed = _valid_adjustment(mode, amount)
        reason = _valid_reason(reason)
        key = (uid, race)
        async with self._core.write() as conn:
            now = self._core.now()
            await self._require_player(uid)
            if expected is not ...:
                current = (await self._ratings.mmrs(conn, [key])).get(key)
                if current != expected:
                    if current is None:
                        raise ConflictError(
                            # Translators: {race} is a race code, e.g. `bw_zerg`.
                            N_(
                                "This player's {race} MMR changed since you asked: it is now "
                                "unrated (no rating yet). Nothing was changed; run the command "
                                "again."
                            ),
                            race=race,
                        )
                    raise ConflictError(
                        N_(
                            "This player's {race} MMR changed since you asked: it is now "
                            "{mmr}. Nothing was changed; run the command again."
                        ),
                        race=race,
                        mmr=current,
                    )
            await self._ratings.ensure(conn, uid, [race], self.config.rating.start)
            old = (await self._ratings.mmrs(conn, [key]))[key]
            new = adjusted(old, kind, signed)
            if new < 0:  # refused inside the transaction: the rating made by ensure() goes too
                raise ValidationError(
                    "amount", N_("That would take the MMR below 0: it is {mmr} now."), mmr=old
                )
            details = {"race": race, "mode": mode, "amount": amount, "old": old, "new": new}
            action_id = await self._admin.record(
                conn, admin_uid, "adjust_mmr", player_target(uid), details, reason, now
            )
            await self._ratings.log_adjustment(conn, key, kind, signed, action_id)
            await self._ratings.set_mmrs(conn, {key: new})
            rows = await self._ratings.rows(conn, [key])
        self._core.ratings_changed(rows)
        log.info("Admin %s adjusted %s/%s: %s -> %s", admin_uid, uid, race, old, new)
        return RatingChange(key, old, new)

    async def ban(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Ban the player and take him out of the queue; False if he was already banned."""
        return await self._set_banned(admin_uid, uid, True, reason)

    async def unban(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Lift the player's ban; False if he was not banned."""
        return await self._set_banned(admin_uid, uid, False, reason)

    async def remove_from_queue(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Take a player out of the queue; False if he was not in it."""
        reason = _valid_reason(reason)
        async with self._core.write() as conn:
            now = self._core.now()
            removed = await self._queue.remove(conn, uid)
            details = {"removed": removed is not None}
            await self._admin.record(
                conn, admin_uid, "remove_from_queue", player_target(uid), details, reason, now
            )
        tell_left_queue(self.on_left_queue, [removed] if removed else [], LeftQueue.DEQUEUED)
        return removed is not None

    async def clear_queue(self, admin_uid: int, reason: str | None) -> int:
        """Empty the queue; return how many players were in it."""
        reason = _valid_reason(reason)
        async with self._core.write() as conn:
            now = self._core.now()
            removed = await self._queue.clear(conn)
            details = {"removed": [s.uid for s in removed]}
            await self._admin.record(
                conn, admin_uid, "clear_queue", QUEUE_TARGET, details, reason, now
            )
        tell_left_queue(self.on_left_queue, removed, LeftQueue.CLEARED)
        return len(removed)

    async def reset_aborts(self, admin_uid: int, uid: int, reason: str | None) -> int:
        """Give the player all of this month's aborts back; return how many he has now."""
        reason = _valid_reason(reason)
        async with self._core.write() as conn:
            now = self._core.now()
            month = month_key(now)
            used = await self._aborts.reset(conn, uid, month)
            details = {"month": month, "used_before": used}
            await self._admin.record(
                conn, admin_uid, "reset_aborts", player_target(uid), details, reason, now
            )
        return self.config.matches.aborts_per_month

    async def lookup_player(self, uid: int) -> PlayerLookup:
        """Return what an admin needs to know about a player."""
        player = await self._require_player(uid)
        conn = self._core.reader
        return PlayerLookup(
            player=player,
            ratings=await self._ratings.of_player(conn, uid),
            queue=await self._queue.get(conn, uid),
            open_match=await self._matches.active_of(conn, uid),
            aborts_left=await self._core.aborts_left(conn, uid, self._core.now()),
            recent_actions=await self._admin.for_target(conn, player_target(uid)),
        )

    async def open_disputes(self) -> list[DisputeRecord]:
        """Return every open dispute with both reports, the evidence and the match."""
        conn = self._core.reader
        out = []
        for dispute in await self._disputes.open_ones(conn):
            out.append(replace(dispute, match=await self._matches.get(conn, dispute.match_id)))
        return out

    async def player_ratings(self, uid: int) -> list[RatingRow]:
        """Return the player's ratings, one per race he has queued with, best first."""
        return await self._ratings.of_player(self._core.reader, uid)

    async def _require_player(self, uid: int) -> Player:
        return await self._players.require(uid)

    async def _set_banned(self, admin_uid: int, uid: int, banned: bool, reason: str | None) -> bool:
        reason = _valid_reason(reason)
        # The flag, the queue removal and the admin log: one transaction, all or nothing.
        try:
            async with self._core.write() as conn:
                now = self._core.now()
                change = await self._players.set_banned_in(conn, uid, banned, admin_uid)
                removed = await self._queue.remove(conn, uid) if banned else None
                details = {
                    "changed": change is not None,
                    "removed_from_queue": removed is not None,
                }
                action = "ban" if banned else "unban"
                await self._admin.record(
                    conn, admin_uid, action, player_target(uid), details, reason, now
                )
        finally:
            self._players.cache.invalidate(uid)
        tell_left_queue(self.on_left_queue, [removed] if removed else [], LeftQueue.BANNED)
        log.info("Admin %s: %s %s", admin_uid, "ban" if banned else "unban", uid)
        player = await self._players.get(uid)
        if player is not None:
            self._core.player_changes.publish(player)
        return change is not None


def ruled_state(match: MatchRecord | Mapping[str, Any]) -> dict[str, Any]:
    """What a ruling is decided on, as plain values (JSON, kept with an admin's question).

    Every ruling that changes a match changes one of these, so a confirmation asked before
    another admin's ruling no longer matches.
    """
    if isinstance(match, Mapping):
        return {key: match.get(key) for key in _RULED}
    return {key: _value(getattr(match, key)) for key in _RULED}


_RULED = ("status", "result", "decided_by")


def _value(enum: Any) -> Any:
    return None if enum is None else enum.value


def _valid_reason(reason: str | None) -> str | None:
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationError(
            "reason", N_("A reason may be at most {max} characters long."), max=REASON_MAX
        )
    encodable("reason", reason)
    return reason or None


def _valid_adjustment(mode: str, amount: int) -> tuple[str, int]:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationError("amount", N_("The amount must be a whole number."))
    if not 0 <= amount <= MMR_AMOUNT_MAX:
        raise ValidationError(
            "amount", N_("The amount must be between 0 and {max}."), max=MMR_AMOUNT_MAX
        )
    if mode == "set":
        return "set", amount
    if amount == 0:
        raise ValidationError("amount", N_("Adding or subtracting 0 changes nothing."))
    if mode == "add":
        return "add", amount
    if mode == "subtract":
        return "add", -amount  # the log stores a subtraction as a negative add
    raise ValidationError("mode", N_("The mode is **set**, **add** or **subtract**."))


def _describe_match_state(match: MatchRecord) -> str:
    """The match's status and result as codes ("finished (p1_win)"), the same in every
    language."""
    status = _value(match.status)
    return f"{status} ({_value(match.result)})" if match.result is not None else status
