"""route_of: what command_calls.command (and the logs) hold for a component or modal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cogs.pipeline import route_of


def test_ids_are_dropped_and_the_action_kept() -> None:
    assert route_of("match:12:report:win") == "match:report:win"
    assert route_of("match:12:confirm") == "match:confirm"
    assert route_of("queue_view:join:" + "ab" * 16) == "queue_view:join"
    assert route_of("tos:accept") == "tos:accept"
    assert route_of("") == "unknown"


def test_a_forged_custom_id_cannot_break_a_log_line_or_carry_markup() -> None:
    assert route_of("match:1:\nINFO forged line") == "match:?INFO?forged?line"
    assert route_of("x:**bold**:<@1>") == "x:??bold??:??1?"


@given(st.text(max_size=200))
def test_a_route_is_short_and_plain(custom_id: str) -> None:
    route = route_of(custom_id)
    assert 0 < len(route) <= 100
    assert all(ch.isascii() and (ch.isalnum() or ch in "_:-?") for ch in route)
