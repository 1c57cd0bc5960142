"""through_429s: a call nextcord gave up on for 429s is made again; other errors are not."""

from __future__ import annotations

from types import SimpleNamespace

import nextcord
import pytest

from cogs.rate_limits import RETRIES, retry_after, through_429s


def http_error(status: int, retry: str = "0", body: object = "") -> nextcord.HTTPException:
    response = SimpleNamespace(status=status, reason="Refused", headers={"Retry-After": retry})
    return nextcord.HTTPException(response, body)  # type: ignore[arg-type]


class Calls:
    """A call that fails with `errors` in turn, then returns "sent"."""

    def __init__(self, *errors: nextcord.HTTPException) -> None:
        self.errors = list(errors)
        self.made = 0

    async def __call__(self) -> str:
        self.made += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


async def test_429s_are_waited_out_and_the_call_made_again() -> None:
    call = Calls(*(http_error(429) for _ in range(RETRIES)))
    assert await through_429s(call, "a DM") == "sent"
    assert call.made == RETRIES + 1


async def test_one_429_more_than_the_retries_is_raised() -> None:
    call = Calls(*(http_error(429) for _ in range(RETRIES + 1)))
    with pytest.raises(nextcord.HTTPException) as raised:
        await through_429s(call, "a DM")
    assert raised.value.status == 429 and call.made == RETRIES + 1


async def test_other_errors_are_raised_at_once() -> None:
    call = Calls(http_error(403), http_error(429))
    with pytest.raises(nextcord.HTTPException) as raised:
        await through_429s(call, "a DM")
    assert raised.value.status == 403 and call.made == 1


def test_retry_after_reads_the_header_and_stays_within_a_minute() -> None:
    assert retry_after(http_error(429, "2")) == 2.0
    assert retry_after(http_error(429, "3600")) == 60.0
    assert retry_after(http_error(429, "soon")) == 1.0  # unreadable: a second
