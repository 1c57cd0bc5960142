"""Cooldowns as pure rules: per command, the per-player budget, what a refusal says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ladder.config import parse_ladder_config
from ladder.cooldowns import CooldownConfig, Cooldowns, command_key

CONFIG = CooldownConfig(
    commands=(("leaderboard", 2), ("setup", 10), ("queue_view:join", 3), ("admin", 1)),
    budget_calls=5,
    budget_seconds=10,
)


def test_a_command_is_refused_until_its_cooldown_has_passed() -> None:
    cd = Cooldowns(CONFIG)
    assert cd.check(1, "leaderboard", 100.0) is None
    hit = cd.check(1, "leaderboard", 101.5)
    assert hit is not None and hit.what == "leaderboard" and hit.retry_after == 0.5
    assert cd.check(1, "leaderboard", 102.0) is None


def test_cooldowns_are_per_player_and_per_command() -> None:
    cd = Cooldowns(CONFIG)
    assert cd.check(1, "leaderboard", 0.0) is None
    assert cd.check(2, "leaderboard", 0.1) is None  # another player
    assert cd.check(1, "setup", 0.2) is None  # another command
    assert cd.check(1, "profile", 0.3) is None  # no cooldown of its own
    assert cd.check(1, "profile", 0.4) is None


def test_a_name_covers_the_routes_and_subcommands_under_it() -> None:
    names = dict(CONFIG.commands)
    assert command_key("queue_view:join:5:0:abc", names) == "queue_view:join"
    assert command_key("admin season start", names) == "admin"
    assert command_key("leaderboards", names) is None  # not at a boundary
    assert command_key("queue_view:leave", names) is None


def test_a_command_does_not_cover_the_components_it_shows() -> None:
    names = {"setup": 10.0, "admin": 1.0, "queue_view:join": 3.0}
    # The /setup form's submit and its menus are part of one /setup, not a second use.
    assert command_key("setup:modal", names) is None
    assert command_key("setup:country:2", names) is None
    assert command_key("setup", names) == "setup"
    assert command_key("admin season start", names) == "admin"
    cd = Cooldowns(CONFIG)
    assert cd.check(1, "queue_view:join:5:0:abc", 0.0) is None
    hit = cd.check(1, "queue_view:join:6:0:abc", 1.0)
    assert hit is not None and hit.retry_after == 2.0


def test_the_budget_counts_every_interaction_in_a_sliding_window() -> None:
    cd = Cooldowns(CONFIG)
    for i in range(5):
        assert cd.check(1, f"match:report:{i}", float(i)) is None
    hit = cd.check(1, "profile", 5.0)
    assert hit is not None and hit.what == "budget" and hit.retry_after == 5.0
    assert cd.check(1, "profile", 10.0) is None  # the first call left the window


def test_a_refused_call_does_not_extend_the_wait() -> None:
    cd = Cooldowns(CONFIG)
    assert cd.check(1, "setup", 0.0) is None
    for t in range(1, 10):
        assert cd.check(1, "setup", float(t)) is not None
    assert cd.check(1, "setup", 10.0) is None


def test_the_refusal_says_when_to_retry_in_whole_seconds() -> None:
    cd = Cooldowns(CONFIG)
    cd.check(1, "setup", 0.0)
    hit = cd.check(1, "setup", 0.3)
    assert hit is not None
    refusal = hit.refusal()
    assert refusal.guard == "cooldown"
    assert str(refusal) == "You just used this. Try again in 10 seconds."
    cd2 = Cooldowns(CooldownConfig(commands=(), budget_calls=1, budget_seconds=1))
    cd2.check(1, "x", 0.0)
    hit2 = cd2.check(1, "y", 0.5)
    assert hit2 is not None
    assert str(hit2.refusal()) == "You are sending commands too fast. Try again in 1 second."


def test_idle_players_are_forgotten() -> None:
    cd = Cooldowns(CONFIG)
    for uid in range(Cooldowns.SWEEP_EVERY - 1):
        cd.check(uid, "profile", 0.0)
    assert cd.tracked() == Cooldowns.SWEEP_EVERY - 1
    cd.check(10**9, "profile", 100.0)  # the sweep runs: everyone else has been idle 100 s
    assert cd.tracked() == 1


@given(
    times=st.lists(st.floats(min_value=0, max_value=60, allow_nan=False), max_size=60),
    commands=st.lists(st.sampled_from(["leaderboard", "setup", "profile", "admin x"]), min_size=60),
)
def test_accepted_calls_never_break_a_rule_and_the_named_wait_is_enough(
    times: list[float], commands: list[str]
) -> None:
    cd = Cooldowns(CONFIG)
    accepted: list[tuple[float, str]] = []
    names = dict(CONFIG.commands)
    for now, command in zip(sorted(times), commands, strict=False):
        hit = cd.check(1, command, now)
        if hit is None:
            accepted.append((now, command))
        else:
            assert hit.retry_after > 0
    for i, (now, command) in enumerate(accepted):
        window = [t for t, _ in accepted[: i + 1] if t > now - CONFIG.budget_seconds]
        assert len(window) <= CONFIG.budget_calls
        key = command_key(command, names)
        if key is not None:
            earlier = [t for t, c in accepted[:i] if command_key(c, names) == key]
            assert not earlier or now - earlier[-1] >= names[key]


def test_ladder_toml_reads_the_cooldowns_and_rejects_bad_ones() -> None:
    base = {"season": {"map_pool": ["A", "B"], "max_vetoes": 1}}
    config = parse_ladder_config(
        {**base, "cooldowns": {"budget_calls": 3, "commands": {"profile": 1.5}}}
    )
    assert config.cooldowns.commands == (("profile", 1.5),)
    assert config.cooldowns.budget_calls == 3 and config.cooldowns.budget_seconds == 10
    assert parse_ladder_config(base).cooldowns == CooldownConfig()
    for bad, key in (
        ({"budget_calls": 0}, "cooldowns.budget_calls"),
        ({"commands": {"profile": -1}}, "cooldowns.commands.profile"),
        ({"budget": 3}, "cooldowns.budget"),
    ):
        try:
            parse_ladder_config({**base, "cooldowns": bad})
        except Exception as error:
            assert key in str(error), error
        else:
            raise AssertionError(f"{bad} was accepted")
