"""app.event_loop: uvloop when installed, the standard loop when asked or when it is not there."""

from __future__ import annotations

import asyncio
import builtins
import logging

import pytest
import uvloop

from app.event_loop import SWITCH, loop_factory, loop_name


def test_uvloop_by_default() -> None:
    assert loop_factory({}) is uvloop.new_event_loop
    assert loop_factory({SWITCH: " UVLOOP "}) is uvloop.new_event_loop


def test_the_standard_loop_when_asked() -> None:
    assert loop_factory({SWITCH: "asyncio"}) is None


def test_an_unknown_choice_warns_and_keeps_uvloop(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.event_loop"):
        assert loop_factory({SWITCH: "trio"}) is uvloop.new_event_loop
    assert "'trio'" in caplog.text


def test_the_standard_loop_where_uvloop_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_uvloop(name: str, *args: object, **kwargs: object) -> object:
        if name == "uvloop":
            raise ModuleNotFoundError("No module named 'uvloop'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", without_uvloop)
    assert loop_factory({}) is None


def test_loop_name_tells_them_apart() -> None:
    assert asyncio.run(_name(), loop_factory=uvloop.new_event_loop) == "uvloop"
    assert asyncio.run(_name()) == "asyncio"


async def _name() -> str:
    return loop_name()
