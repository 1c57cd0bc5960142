"""The notification sender writes each notification in its recipient's language, since nobody
asked for it; a plain text goes out as it is, and a language it cannot look up means English."""

from __future__ import annotations

from datetime import UTC, datetime

import i18n
from cogs.notification_sender import NotificationSender
from ladder.errors import StorageBusyError
from ladder.notifications import Notice
from services.notifications import Due

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
LANGUAGES = {1: "ko", 2: "es", 3: "ru"}


class Outcomes:
    """The notification service's side of the sender: every notification is still useful."""

    def __init__(self) -> None:
        self.finished: dict[int, str] = {}

    async def still_useful(self, due: Due) -> bool:
        return True

    async def finish(self, due: Due, outcome: str) -> None:
        self.finished[due.id] = outcome

    async def drop_unfinished(self) -> int:
        return 0


def due(notification_id: int, uid: int) -> Due:
    return Due(notification_id, Notice(uid, 99, NOW, "bw_zerg", "EU", 1500), NOW)


async def language_of(uid: int) -> str:
    if uid not in LANGUAGES:
        raise StorageBusyError()
    return LANGUAGES[uid]


async def test_each_notification_is_written_in_its_recipients_language() -> None:
    sent: dict[int, list[str]] = {}

    async def send(uid: int, text: str) -> None:
        sent.setdefault(uid, []).append(text)

    outcomes = Outcomes()
    sender = NotificationSender(send, outcomes, workers=2, language_of=language_of)
    sender.start()
    for n, uid in enumerate((1, 2, 3, 4), start=1):
        sender.submit(due(n, uid), i18n.current)  # "written" as the language it is written in
    sender.submit(due(5, 1), "as it is")
    await sender.idle()
    await sender.close(0.5)

    # 4 has no language the sender could look up (the database was busy): English.
    by_uid = {uid: sorted(texts) for uid, texts in sent.items()}
    assert by_uid == {1: ["as it is", "ko"], 2: ["es"], 3: ["ru"], 4: ["en"]}
    assert outcomes.finished == {n: "sent" for n in range(1, 6)}
    assert i18n.current() == "en"  # the sender's language does not leak
