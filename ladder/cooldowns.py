"""Cooldowns: how often one player may use a command, and how many interactions of any kind
(commands, buttons, selects, modals) he may send in a sliding window.

Pure rules over an injected clock (`now`, in seconds of a monotonic clock): no I/O, no
nextcord. The pipeline asks `Cooldowns.check` before anything else, so a refused call costs
no database access; admins never reach it.

* Per command: a command configured with `s` seconds is refused until `s` seconds after the
  player's last accepted use of it. A configured name covers the routes under it, so
  "queue_view:join" covers "queue_view:join:<key>" and "admin" covers "admin season start".
* Budget: at most `budget_calls` accepted interactions in any `budget_seconds`.
* A refused call counts against neither, so waiting the time it names is always enough.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from i18n import SOURCE, n_, speaking
from ladder.config import CooldownConfig
from ladder.errors import GuardRefusal


@dataclass(frozen=True, slots=True)
class Cooldown:
    """A refused call: what it ran into ("budget" or a command) and the seconds to wait."""

    what: str
    retry_after: float

    def refusal(self) -> GuardRefusal:
        """The refusal the player sees (logged as outcome `refused:cooldown`)."""
        return CooldownRefusal(self.what == "budget", max(1, math.ceil(self.retry_after)))


class CooldownRefusal(GuardRefusal):
    """A cooldown's refusal: the seconds to wait, in the plural form the current language uses
    for that number (`n_` is called where the text is shown, so it is extracted as a plural)."""

    def __init__(self, budget: bool, seconds: int) -> None:
        self.budget = budget
        self.seconds = seconds
        with speaking(SOURCE):
            english = self.translated()
        super().__init__("cooldown", english)

    @property
    def user_message(self) -> str:
        with speaking(SOURCE):
            return self.translated()

    def translated(self) -> str:
        if self.budget:
            return n_(
                "You are sending commands too fast. Try again in {count} second.",
                "You are sending commands too fast. Try again in {count} seconds.",
                self.seconds,
            )
        return n_(
            "You just used this. Try again in {count} second.",
            "You just used this. Try again in {count} seconds.",
            self.seconds,
        )


def command_key(command: str, commands: Mapping[str, float]) -> str | None:
    """The configured name that covers `command` (itself, or the longest prefix that ends at
    a boundary), or None if no cooldown applies to it.

    A command's name ("setup", "admin") covers its subcommands ("admin season start") but not
    the buttons, menus and forms it shows ("setup:country"): a cooldown on /setup must not
    refuse the form /setup itself opened. A component's name ("queue_view:join") covers the
    state carried after it in the custom id ("queue_view:join:5:0:abc")."""
    if command in commands:
        return command
    best: str | None = None
    for name in commands:
        boundaries = ": " if ":" in name else " "
        if (
            command.startswith(name)
            and command[len(name)] in boundaries
            and (best is None or len(name) > len(best))
        ):
            best = name
    return best


@dataclass(slots=True)
class _Calls:
    last: dict[str, float] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=deque)


class Cooldowns:
    """The per-player state of the rules above; `check` records an accepted call."""

    # Forget players idle longer than every window, checked once per this many calls.
    SWEEP_EVERY = 4096

    def __init__(self, config: CooldownConfig) -> None:
        self.config = config
        self._commands = dict(config.commands)
        self._keys: dict[str, str | None] = {}
        self._players: dict[int, _Calls] = {}
        self._horizon = max([config.budget_seconds, *self._commands.values()])
        self._calls = 0

    def check(self, uid: int, command: str, now: float) -> Cooldown | None:
        """Return the cooldown `uid` runs into with `command` at `now`, or None (and count
        the call) if he may go ahead."""
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        key = self._keys.get(command, "")
        if key == "":
            key = self._keys[command] = command_key(command, self._commands)
        calls = self._players.get(uid)
        if calls is None:
            calls = self._players[uid] = _Calls()
        recent = calls.recent
        while recent and recent[0] <= now - self.config.budget_seconds:
            recent.popleft()
        if key is not None and key in calls.last:
            ready = calls.last[key] + self._commands[key]
            if now < ready:
                return Cooldown(command, ready - now)
        if len(recent) >= self.config.budget_calls:
            # At least a microsecond: the sum can round to 0.0 for a call just inside the window.
            wait = recent[0] + self.config.budget_seconds - now
            return Cooldown("budget", max(wait, 1e-6))
        recent.append(now)
        if key is not None:
            calls.last[key] = now
        return None

    def tracked(self) -> int:
        """How many players the state holds (for tests and the memory bound)."""
        return len(self._players)

    def _sweep(self, now: float) -> None:
        cutoff = now - self._horizon
        stale = [
            uid
            for uid, c in self._players.items()
            if (not c.recent or c.recent[-1] <= cutoff)
            and all(t <= cutoff for t in c.last.values())
        ]
        for uid in stale:
            del self._players[uid]
