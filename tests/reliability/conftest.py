"""Fixtures for the reliability tests.

The end-to-end fixtures (``fake_discord``, ``bot_process``, ``ladder_bot``) are those of
tests/e2e/conftest.py, re-exported. ``module_fake`` and ``module_bot`` are their module-scoped
twins, for tests that share one running bot (property-based inputs, the authorisation
matrix): the bot starts once per module, in the module's event loop, and must stop cleanly at the
end. Tests using them need ``pytestmark = pytest.mark.asyncio(loop_scope="module")``.

A failing test gets the logs of every bot process it used attached to its report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from localdiscord import FakeDiscord
from tests.e2e.conftest import (  # noqa: F401  (fixtures and the report hook, re-exported)
    MODULE_BOTS,
    backend,  # not parametrized here: SQLite (PostgreSQL ones are named so)
    bot_process,
    fake_discord,
    ladder_bot,
    pytest_runtest_makereport,
)
from tests.e2e.harness import BotFactory, bot_factory, checked_fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_fake() -> AsyncIterator[FakeDiscord]:
    async with checked_fake() as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_bot_process(
    module_fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory, request
) -> AsyncIterator[BotFactory]:
    """Like ``bot_process``, for the whole module."""
    base = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    async with bot_factory(module_fake, base) as make:
        request.module.__dict__.setdefault(MODULE_BOTS, make.made)
        yield make
