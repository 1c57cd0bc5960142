"""A local Discord: the part of Discord a bot talks to, on 127.0.0.1, with Discord's rules.

The real nextcord client connects to it as it would to Discord: point
``nextcord.http.Route.BASE`` (the bot's ``DISCORD_API_BASE``) at ``fake.api_base`` and log in
with ``fake.token``. A driver (the end-to-end tests, the playground) makes users and guilds, acts
as the players, and reads what the bot did::

    async with FakeDiscord() as fake:
        alice = fake.user("alice")
        ...start the bot with DISCORD_API_BASE=fake.api_base...
        inter = await fake.slash(alice, "termsofservice")
        terms = await inter.reply()               # the message alice sees
        click = await fake.click(alice, terms, label="Accept")
        assert (await click.response()).type == UPDATE_MESSAGE

What is where:

=================  ===========================================================================
``server.py``      ``FakeDiscord``: start and stop, the route table, guilds, "the bot is ready"
``gateway.py``     the websocket: HELLO, IDENTIFY, READY, RESUME, heartbeats, dispatching events
``rest.py``        the REST routes: start-up, application commands, DMs and channel messages
``answers.py``     answering interactions: the callback, followups, ``@original`` and webhooks
``rules.py``       Discord's rules: 3 s deadline, one first answer, message, embed, component,
                   modal, autocomplete and command limits, as pure checks
``driver.py``      the players' side: slash commands, autocomplete, clicks, selects, modals
``world.py``       the shared state, the records of what happened, and waiting on them
``objects.py``     users, guilds, channels and the records (their Discord JSON payloads)
``protocol.py``    the wire numbers: opcodes, interaction, callback, component types, flags
``replies.py``     Discord-shaped HTTP replies (errors, rate-limit headers, JSON)
=================  ===========================================================================

It knows nothing of the bot it serves: it imports no module of the bot.
"""

from __future__ import annotations

from .objects import (
    DEFAULT_WAIT,
    Callback,
    FakeChannel,
    FakeFile,
    FakeGuild,
    FakeRole,
    FakeUser,
    RecordedMessage,
    RecordedRequest,
    SentInteraction,
    Violation,
)
from .rules import RESPONSE_DEADLINE
from .server import FakeDiscord

__all__ = [
    "DEFAULT_WAIT",
    "RESPONSE_DEADLINE",
    "Callback",
    "FakeChannel",
    "FakeDiscord",
    "FakeFile",
    "FakeGuild",
    "FakeRole",
    "FakeUser",
    "RecordedMessage",
    "RecordedRequest",
    "SentInteraction",
    "Violation",
]
