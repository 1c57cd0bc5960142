"""The match page and its API show the match's replays: what each proves, player text escaped."""

from __future__ import annotations

import json
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer

from cache.players import PlayerCache
from ladder.config import load_ladder_config
from services.admin import AdminService
from services.ladder_core import LadderCore
from services.public import PublicLadder
from services.replays import ReplayService
from storage.players import PlayerRepository
from tests.web.seed import CONFIG_PATH, Seeded, open_site
from web.app import create_app

FACTS = {
    "release": "5.0.0.80949",
    "map": "Ever <b>Dream</b> LE",
    "game_type": "1v1",
    "category": "Ladder",
    "start_time": "2020-07-29T02:55:05+00:00",
    "length_seconds": 1111,
    "players": [
        {"name": "<script>alert(1)</script>", "race": "Terran", "result": "Loss", "human": True,
         "team": 1},
        {"name": "Rairden", "race": "Zerg", "result": "Win", "human": True, "team": 2},
    ],
}  # fmt: skip


async def test_the_match_page_lists_its_replays_escaped(seeded: Seeded) -> None:
    site = await open_site(seeded.path)
    try:
        db = site.db
        row = await db.fetchone("SELECT player1_uid FROM matches WHERE id = ?", (seeded.disputed,))
        assert row is not None
        uploader = row[0]
        for sha, reason, result in (("a" * 64, None, "p2_win"), ("b" * 64, "names", None)):
            await db.conn.execute(
                "INSERT INTO replays (match_id, uploader, sha256, size, facts, verdict, reason,"
                " result, effect, uploaded_at) VALUES (?, ?, ?, 10, ?, ?, ?, ?, 'evidence',"
                " '2026-01-01 00:00:00.000')",
                (seeded.disputed, uploader, sha, json.dumps(FACTS),
                 "refused" if reason else "verified", reason, result),
            )  # fmt: skip
        await db.conn.commit()
        config = load_ladder_config(CONFIG_PATH)
        core = LadderCore(db, PlayerRepository(db, PlayerCache()), config)
        old = site.services.public
        public = PublicLadder(
            config, old.standings, old._leaderboard, old._history,
            replays=ReplayService(core, AdminService(core)),
        )  # fmt: skip
        services = replace(site.services, public=public)
        async with TestClient(TestServer(create_app(services))) as client:
            page = await (await client.get(f"/matches/{seeded.disputed}")).text()
            api = await (await client.get(f"/api/matches/{seeded.disputed}")).json()
    finally:
        await site.close()
    assert "<h2>Replays</h2>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Ever &lt;b&gt;Dream&lt;/b&gt; LE" in page
    assert "verified:" in page and "not verified (the names are not the two players&#39;)" in page
    assert [r["refused"] for r in api["replays"]] == [None, "names"]
    assert api["replays"][0]["proves"] == "p2_win"
    assert api["replays"][0]["facts"]["players"][0]["name"] == "<script>alert(1)</script>"
