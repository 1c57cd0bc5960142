"""An admin action waiting for its Confirm, and how long a question stays open.

The question's Confirm and Cancel buttons carry only the confirmation's id; what was asked
(the action and its arguments) and the state the admin saw (`expected`) are stored, so the
answer does not depend on anything kept in memory and works after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# As long as a question stays open: long enough to read it, short enough that the state it
# shows is still the state the admin means.
CONFIRMATION_TTL = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class AdminConfirmation:
    """One admin action as asked: who asked, what, with which options, on which state."""

    id: int
    admin_uid: int
    action: str
    arguments: Mapping[str, Any]
    expected: Mapping[str, Any]
    created_at: datetime
    used: bool = False

    def expired(self, now: datetime, ttl: timedelta = CONFIRMATION_TTL) -> bool:
        """Whether the question has been open too long to be answered."""
        return now - self.created_at > ttl
