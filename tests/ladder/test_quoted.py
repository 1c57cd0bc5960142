"""ladder.errors.quoted: player text inside an error message is shown literally."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ladder.errors import NameTakenError, quoted


def test_markdown_mentions_and_newlines_are_inert() -> None:
    assert quoted("_Erin_") == "`_Erin_`"  # inline code: no italics
    assert quoted("a\nb\r\nc") == "`a b c`"
    assert quoted("x`y") == "`xˋy`"  # a backtick cannot close the code span
    assert quoted("") == "` `"
    assert quoted("a" * 100, limit=10) == "`" + "a" * 9 + "…`"
    assert "**" not in NameTakenError("player_name", "_Erin_").user_message


@given(st.text(max_size=300))
def test_always_one_closed_code_span(value: str) -> None:
    shown = quoted(value)
    assert shown.startswith("`") and shown.endswith("`") and shown.count("`") == 2
    assert "\n" not in shown and "\r" not in shown
