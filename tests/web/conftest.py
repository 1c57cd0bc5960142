"""Fixtures: one seeded ladder file per test session worker, copied for each test, and the
website on it through aiohttp's test client."""

from __future__ import annotations

import shutil

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.web.seed import Seeded, open_site, seed_ladder
from web.app import create_app


@pytest.fixture(scope="session")
def seed_cache(tmp_path_factory) -> dict:
    return {}


@pytest.fixture
async def seeded(tmp_path, seed_cache) -> Seeded:
    """The seed ladder, made once per worker and copied for each test."""
    if "seeded" not in seed_cache:
        folder = tmp_path.parent / "seed-master"
        folder.mkdir(exist_ok=True)
        seed_cache["seeded"] = await seed_ladder(folder / "ladder.db")
    master: Seeded = seed_cache["seeded"]
    path = tmp_path / "ladder.db"
    shutil.copyfile(master.path, path)
    copy = Seeded(**{**master.__dict__, "path": path})
    return copy


@pytest.fixture
async def site(seeded):
    opened = await open_site(seeded.path)
    yield opened
    await opened.close()


@pytest.fixture
async def client(site):
    async with TestClient(TestServer(create_app(site.services))) as test_client:
        yield test_client
