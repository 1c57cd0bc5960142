"""Who may run which command: the guard checks every command passes before its handler.

`check_access` is pure: the pipeline hands it the player (read through the cache) and where the
command came from, and it raises a GuardRefusal whose `guard` becomes the logged outcome.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from i18n import N_
from ladder.errors import GuardRefusal
from ladder.players import Player


class Access(enum.IntEnum):
    """What a command requires of the caller; each level includes the ones before it."""

    ANYONE = 0  # only "not banned"
    TERMS = 1  # accepted the terms of service
    SETUP = 2  # finished /setup
    ADMIN = 9  # a configured admin


@dataclass(frozen=True, slots=True)
class CommandRule:
    """A command's guard settings: its access level and whether DM-only applies to it."""

    access: Access
    dm_only: bool = True


# English message ids; GuardRefusal carries one and the pipeline shows it translated.
REFUSALS = {
    "banned": N_("You are banned from this ladder. If you think this is a mistake, ask an admin."),
    "admin": N_("Only ladder admins can use this command."),
    "dm_only": N_(
        "Please use this command in a direct message with me: click my name, "
        "choose **Message**, and run it there."
    ),
    "terms": N_("Please accept the terms of service first: use `/termsofservice`."),
    "setup": N_("Please set up your profile first: use `/setup`."),
}


def check_access(
    rule: CommandRule,
    player: Player | None,
    *,
    is_admin: bool,
    in_dm: bool,
    dm_only_enabled: bool,
) -> None:
    """Raise GuardRefusal for the first guard the caller fails; return if all pass."""
    if player is not None and player.banned and not is_admin:
        _refuse("banned")
    if rule.access is Access.ADMIN:
        if not is_admin:
            _refuse("admin")
        return
    if dm_only_enabled and rule.dm_only and not in_dm and not is_admin:
        _refuse("dm_only")
    if rule.access >= Access.TERMS and (player is None or not player.accepted_tos):
        _refuse("terms")
    if rule.access >= Access.SETUP and (player is None or not player.completed_setup):
        _refuse("setup")


def _refuse(guard: str) -> None:
    raise GuardRefusal(guard, REFUSALS[guard])
