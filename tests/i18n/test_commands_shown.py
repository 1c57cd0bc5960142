"""A message names a command as the reader's Discord shows it: `/cola` to a Spanish player,
`/대기열` to a Korean one, `/queue` where the catalog keeps the English name."""

from __future__ import annotations

import pytest

from i18n import _command_names, commands_shown, speaking, translate


def name_in(language: str, name: str) -> str:
    return _command_names(language).get(name, name)


@pytest.mark.parametrize("language", ["es", "ko", "zh_CN", "ru"])
def test_commands_subcommands_and_options_take_the_readers_names(language: str) -> None:
    text = "Run `/admin resolve match_id:{match}`, then /leaderboard season:{number}."
    admin, resolve, match_id = (name_in(language, n) for n in ("admin", "resolve", "match_id"))
    board, season = name_in(language, "leaderboard"), name_in(language, "season")
    assert commands_shown(language, text) == (
        f"Run `/{admin} {resolve} {match_id}:{{match}}`, then /{board} {season}:{{number}}."
    )


def test_english_words_after_a_command_are_left_alone() -> None:
    assert commands_shown("es", "Use /queue to play.") == f"Use /{name_in('es', 'queue')} to play."


def test_links_timestamps_and_unknown_commands_are_left_alone() -> None:
    text = "See https://example.org/queue, <t:1:R>/queue, a/queue and /nosuchcommand."
    assert commands_shown("ko", text) == text


def test_values_put_into_a_message_are_never_changed() -> None:
    typed = "/queue"  # a player named themselves "/queue"
    shown = translate("es", "Player {player} joined the queue.", player=typed)
    assert typed in shown


def test_the_real_catalog_messages_name_the_localised_command() -> None:
    with speaking("zh_CN"):
        shown = translate("zh_CN", "Use /queue to play.")
    assert f"/{name_in('zh_CN', 'queue')}" in shown and "/queue" not in shown
