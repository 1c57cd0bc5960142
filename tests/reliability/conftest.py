"""Fixtures for the reliability tests.

The end-to-end fixtures (``fake_discord``, ``bot_process``, ``ladder_bot``) are those of
tests/e2e/conftest.py, re-exported. ``module_fake`` and ``module_bot`` are their module-scoped
twins, for tests that share one running bot (property-based inputs, the authorisation
matrix): the bot starts once per module, in the module's event loop, and must stop cleanly at the
end. Tests using them need ``pytestmark = pytest.mark.asyncio(loop_scope="module")``.

A failing test gets the logs of every bot process it used attached to its report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from localdiscord import FakeDiscord
from tests.e2e.conftest import (  # noqa: F401  (fixtures, re-exported)
    BOT_PROCESSES,
    bot_process,
    fake_discord,
    ladder_bot,
)
from tests.e2e.harness import BotProcess

MODULE_BOTS = pytest.StashKey[list[BotProcess]]()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
        await fake.settle()
        assert not fake.unknown_routes, f"routes the fake does not serve: {fake.unknown_routes}"
        assert not fake.violations, "the bot broke Discord rules:\n" + "\n".join(
            f"  {v}" for v in fake.violations
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_bot_process(
    module_fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory, request
) -> AsyncIterator[Callable[..., BotProcess]]:
    """Like ``bot_process``, for the whole module."""
    made: list[BotProcess] = []
    request.module.__dict__.setdefault("__module_bots__", made)
    base = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])

    def make(**kwargs) -> BotProcess:
        kwargs.setdefault("name", f"bot{len(made) + 1}")
        process = BotProcess(module_fake, base / kwargs["name"], **kwargs)
        made.append(process)
        return process

    yield make
    errors = []
    for process in made:
        try:
            await process.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n\n".join(errors)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Attach each bot subprocess log to the report of a failed test."""
    report = yield
    if report.failed:
        processes = list(item.stash.get(BOT_PROCESSES, []))
        module = getattr(item, "module", None)
        processes += getattr(module, "__module_bots__", []) if module else []
        for process in processes:
            for n, path in enumerate(process.log_paths, start=1):
                text = (
                    path.read_text(encoding="utf-8", errors="replace")
                    if path.exists()
                    else "(no log)"
                )
                report.sections.append((f"{process.name} log, run {n} ({path})", text[-12_000:]))
    return report
