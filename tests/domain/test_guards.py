"""The guard order and every refusal."""

import pytest

from ladder.errors import GuardRefusal
from ladder.guards import Access, CommandRule, check_access
from ladder.players import Player

NEW = None
TERMS = Player(1, "p", accepted_tos=True)
READY = Player(1, "p", accepted_tos=True, completed_setup=True)
BANNED = Player(1, "p", accepted_tos=True, completed_setup=True, banned=True)


def refusal(rule, player, *, admin=False, dm=True, dm_only=True):
    try:
        check_access(rule, player, is_admin=admin, in_dm=dm, dm_only_enabled=dm_only)
    except GuardRefusal as refused:
        assert refused.user_message
        return refused.guard
    return None


@pytest.mark.parametrize(
    ("access", "player", "expected"),
    [
        (Access.ANYONE, NEW, None),
        (Access.TERMS, NEW, "terms"),
        (Access.TERMS, Player(1, "p", accepted_tos=False), "terms"),
        (Access.TERMS, TERMS, None),
        (Access.SETUP, TERMS, "setup"),
        (Access.SETUP, READY, None),
        (Access.ANYONE, BANNED, "banned"),
        (Access.SETUP, BANNED, "banned"),
        (Access.ADMIN, READY, "admin"),
    ],
)
def test_levels(access, player, expected):
    assert refusal(CommandRule(access), player) == expected


def test_dm_only_refuses_guild_use_of_player_commands_but_not_admins():
    rule = CommandRule(Access.TERMS)
    assert refusal(rule, TERMS, dm=False) == "dm_only"
    assert refusal(rule, TERMS, dm=False, admin=True) is None
    assert refusal(rule, TERMS, dm=False, dm_only=False) is None
    assert refusal(CommandRule(Access.ANYONE, dm_only=False), NEW, dm=False) is None


def test_admin_commands_work_in_guilds_for_admins_only():
    rule = CommandRule(Access.ADMIN)
    assert refusal(rule, NEW, dm=False, admin=True) is None
    assert refusal(rule, NEW, dm=False) == "admin"


def test_banned_comes_before_every_other_guard():
    assert refusal(CommandRule(Access.SETUP), BANNED, dm=False) == "banned"
