"""services.elsewhere.Backlog: what bot.py hears from other processes while it starts.

bot.py listens before it reads the standings; what is heard meanwhile is kept and handed over,
so a start needs no full read again, unless listening restarted while start-up read.
"""

from __future__ import annotations

from collections.abc import Callable

from services.elsewhere import Backlog


class Follower:
    """Stands for ChangesElsewhere: records what it is handed, in order."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []

    def handlers(self) -> dict[str, Callable[[str], None]]:
        return {
            "players": lambda payload: self.got.append(("players", payload)),
            "ratings": lambda payload: self.got.append(("ratings", payload)),
        }

    def missed(self) -> None:
        self.got.append(("missed", ""))


def test_what_is_heard_before_the_hand_over_is_replayed_in_order_then_passed_on() -> None:
    backlog = Backlog(("players", "ratings"))
    heard = backlog.channels
    assert set(heard) == {"players", "ratings"}
    backlog.reset()  # the first LISTEN, before start-up reads: nothing to have missed
    backlog.reading()
    heard["ratings"]("1:bw_zerg")
    heard["players"]("7")
    follower = Follower()
    backlog.attach(follower.handlers(), follower.missed)
    assert follower.got == [("ratings", "1:bw_zerg"), ("players", "7")]
    heard["players"]("8")
    backlog.reset()  # a reconnect after the hand-over: a full read at once
    assert follower.got[2:] == [("players", "8"), ("missed", "")]


def test_listening_again_while_start_up_reads_means_a_full_read_at_the_hand_over() -> None:
    backlog = Backlog(("players",))
    backlog.reset()
    backlog.reading()
    backlog.channels["players"]("7")
    backlog.reset()  # the connection was lost and came back while the standings were read
    follower = Follower()
    backlog.attach(follower.handlers(), follower.missed)
    assert follower.got == [("missed", ""), ("players", "7")]


def test_a_listener_that_had_not_started_before_start_up_read_counts_as_missed() -> None:
    # listener.start() gave up waiting (the server slow): its first LISTEN comes later.
    backlog = Backlog(("players",))
    backlog.reading()
    backlog.reset()
    follower = Follower()
    backlog.attach(follower.handlers(), follower.missed)
    assert follower.got == [("missed", "")]
