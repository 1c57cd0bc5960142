"""Dispute and match records for the admin views' tests (shared by test_admin_ui and
test_admin_text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ladder.records import DisputeRecord, EvidenceRecord, MatchRecord
from ladder.reports import MatchStatus, Outcome

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
P1, P2 = 111111111111111111, 222222222222222222
NAMES = {P1: "_Erin_", P2: "**Bob**\n**Opponent:** x"}


def match(match_id: int = 1, **changes) -> MatchRecord:
    fields: dict[str, Any] = dict(
        id=match_id,
        status=MatchStatus.DISPUTED,
        player1_uid=P1,
        player1_race="bw_terran",
        player1_mmr=1500,
        player2_uid=P2,
        player2_race="bw_zerg",
        player2_mmr=1500,
        map="Eclipse",
        created_at=T0,
        confirm_deadline=T0 + timedelta(minutes=5),
        player1_report=Outcome.WIN,
        player2_report=Outcome.WIN,
    )
    fields.update(changes)
    return MatchRecord(**fields)


def evidence(uid: int, count: int, note: str = "note", url: str | None = None) -> list:
    return [EvidenceRecord(1000 * uid + i, uid, f"{note} {i}", url, T0) for i in range(count)]


def dispute(match_id: int = 1, items=(), **match_changes) -> DisputeRecord:
    return DisputeRecord(
        id=match_id,
        match_id=match_id,
        status="open",
        player1_report=Outcome.WIN,
        player2_report=Outcome.WIN,
        opened_at=T0,
        evidence=tuple(items),
        match=match(match_id, **match_changes),
    )
