"""The numbers of Discord's wire protocol that the local Discord speaks (API v10).

Only names, no behaviour: gateway opcodes, interaction and answer types, message flags, channel,
option and component types, and permission bits. Each group is named as in Discord's developer
documentation.
"""

from __future__ import annotations

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000  # snowflakes count milliseconds from 2015-01-01

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Intents a bot may only use when its owner switched them on in the developer portal;
# asking for one that is off closes the gateway with 4014.
PRIVILEGED_INTENTS = {"GUILD_MEMBERS": 1 << 1, "GUILD_PRESENCES": 1 << 8,
                      "MESSAGE_CONTENT": 1 << 15}

# Interaction types (what the player did).
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Interaction callback types (how the bot answers).
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7  # a deferred reply still "thinking"
IS_COMPONENTS_V2 = 1 << 15  # the newer layout, with other limits; not checked here

# Channel types.
GUILD_TEXT = 0
DM = 1

# Interaction contexts (where a command may be used).
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1

# Application command types.
CHAT_INPUT = 1

# Application command option types.
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_NUMBER = 10
OPT_ATTACHMENT = 11

# Component types (the "type" field).
ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
USER_SELECT = 5
ROLE_SELECT = 6
MENTIONABLE_SELECT = 7
CHANNEL_SELECT = 8
LABEL = 18  # newer modal layout: a label wrapping one input
SELECT_TYPES = frozenset(
    {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT})
LINK_BUTTON_STYLE = 5
PREMIUM_BUTTON_STYLE = 6

# Permissions.
ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = 0x0000_0006_4006_4C40  # Discord's defaults for @everyone, roughly
