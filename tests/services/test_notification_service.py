"""NotificationService on a real SQLite file: /notify's inputs are all checked before anything
is written; the notifications due are decided once per queue entry and logged."""

from __future__ import annotations

from datetime import time

import pytest

from ladder.errors import ValidationError
from ladder.notifications import NotifySettings, QuietHours
from services.notifications import NotificationService


async def test_a_bad_input_writes_nothing_and_good_ones_are_kept(ladder, svc) -> None:
    service = NotificationService(svc.core)
    assert await service.settings_of(1) == (NotifySettings(), None)
    saved = await service.update(
        1, enabled=True, races="bw_zerg", regions="all", quiet_hours="23:00-07:00",
        time_zone="Europe/Berlin",
    )  # fmt: skip
    expected = NotifySettings(
        True, frozenset({"bw_zerg"}), frozenset(), QuietHours(time(23), time(7)), "Europe/Berlin"
    )
    assert saved == expected
    for bad in (
        {"time_zone": "Nowhere/Land"},
        {"races": "bw_zerg, zerg rush"},
        {"regions": "MARS"},
        {"quiet_hours": "soon"},
        {"enabled": False, "time_zone": "Nowhere/Land"},  # a good change with a bad one
    ):
        with pytest.raises(ValidationError):
            await service.update(1, **bad)  # type: ignore[arg-type]
        assert (await service.settings_of(1))[0] == expected


async def test_each_queue_entry_is_announced_once(ladder, svc, clock) -> None:
    service = NotificationService(svc.core)
    await service.update(1, enabled=True)
    await svc.queue.join_queue(2, ["bw_zerg"], [])
    assert await service.due() == []  # not waited long enough
    clock.advance(seconds=21)
    (due,) = await service.due()
    assert (due.notice.uid, due.notice.about_uid, due.notice.race) == (1, 2, "bw_zerg")
    assert await service.still_useful(due)
    assert await service.due() == []  # announced already
    await svc.queue.leave_queue(2)
    assert not await service.still_useful(due)  # he left: stale
    await service.finish(due, "dropped")
    assert (await service.settings_of(1))[1] is None  # nothing was delivered
