"""Three e2e scenarios again, with the real bot on PostgreSQL (DATABASE_URL): the ladder flow
(queue, match, confirm, report, rated), a dispute ruled by an admin, and restarts mid-match.

The scenarios are the SQLite ones, unchanged: imported from their modules, they run here a
second time with this module's ``bot_process``, whose bots each get a fresh PostgreSQL database
(``backend`` is its parameter: the test ids end in ``[postgresql]``). What the tests read from
the database, ``state.db_rows`` reads from PostgreSQL for these bots. Only these three: each
e2e scenario costs seconds, and these cover the ladder's writes (queue, matches, reports,
ratings, disputes, admin actions, the command log) and a stop and start on one database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer

from .harness import BotFactory
from .test_admin import test_conflicting_reports_are_disputed_and_resolved_by_an_admin
from .test_ladder_flow import test_two_players_queue_confirm_report_and_are_rated
from .test_restart import test_old_match_buttons_work_after_restarts

__all__ = [
    "postgres_server",
    "test_conflicting_reports_are_disputed_and_resolved_by_an_admin",
    "test_old_match_buttons_work_after_restarts",
    "test_two_players_queue_confirm_report_and_are_rated",
]


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def bot_process(
    bot_process: BotFactory, backend: str, postgres_server: PostgresServer
) -> AsyncIterator[BotFactory]:
    """tests/e2e/conftest.py's factory, whose bots run on a fresh PostgreSQL database each."""
    assert backend == "postgresql"
    bot_process.new_database = postgres_databases(postgres_server).new_url
    yield bot_process
    for bot in bot_process.made:
        assert not bot.database_path.exists(), "a bot on PostgreSQL wrote an SQLite file"
