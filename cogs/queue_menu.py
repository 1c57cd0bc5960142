"""The /queue menu: races, map vetoes, Join and Cancel, with its state in its custom_ids.

Nothing is kept in memory per menu: every component's custom_id says whose menu it is and
what it shows, so a click is answered from the custom_id alone, also after a restart:

    queue_view:<action>:<owner uid>:<races>:<vetoes>:<ladder key>

<races> and <vetoes> are bitmasks over the ladder's races and the vetoable maps (the first 25
of the map pool, as the select offers them), written as decimal digits; <ladder key> is a
checksum of those two lists, so a menu drawn before data/ladder.toml changed them is refused
as expired instead of picking other races or maps. All digits: the log's route of a click is
"queue_view:<action>". A client can send any custom_id or value, so each is checked on the
way back in; Join goes through QueueService.join_queue, which checks everything again.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import nextcord

from cogs.components import EXPIRED, custom_id, frozen_view
from cogs.responses import INFO_COLOUR
from i18n import N_, _, n_
from ladder.config import LadderConfig
from ladder.errors import ValidationError

PREFIX = "queue_view"
ACTIONS = ("races", "vetoes", "join", "cancel")
MAX_OPTIONS = 25  # Discord's limit per select
_NUMBER = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True, slots=True)
class QueueMenu:
    """What one /queue menu shows: whose it is, the races picked and the maps vetoed."""

    owner: int
    races: tuple[str, ...]
    vetoes: tuple[str, ...]


def vetoable(config: LadderConfig) -> tuple[str, ...]:
    """The maps the veto select offers."""
    return config.map_pool[:MAX_OPTIONS]


def ladder_key(config: LadderConfig) -> int:
    """A checksum of the races and vetoable maps a menu's bitmasks index."""
    text = "\x00".join(config.race_codes) + "\x01" + "\x00".join(vetoable(config))
    return zlib.crc32(text.encode())


def _mask(chosen: Iterable[str], items: Sequence[str]) -> int:
    picked = set(chosen)
    return sum(1 << i for i, item in enumerate(items) if item in picked)


def _unmask(mask: int, items: Sequence[str]) -> tuple[str, ...]:
    return tuple(item for i, item in enumerate(items) if mask >> i & 1)


def encode(menu: QueueMenu, action: str, config: LadderConfig) -> str:
    """The custom_id of `action` on `menu`."""
    return custom_id(
        PREFIX,
        action,
        menu.owner,
        _mask(menu.races, config.race_codes),
        _mask(menu.vetoes, vetoable(config)),
        ladder_key(config),
    )


def decode(parts: Sequence[str], config: LadderConfig) -> tuple[QueueMenu, str]:
    """Read the parts after "queue_view:" back into (menu, action); EXPIRED if any is off
    (an older release's "queue_view:join:<view id>", a changed ladder, a forged id)."""
    if len(parts) != 5 or parts[0] not in ACTIONS:
        raise EXPIRED
    if not all(_NUMBER.fullmatch(p) for p in parts[1:]):
        raise EXPIRED
    owner, races, vetoes, key = (int(p) for p in parts[1:])
    codes, maps = config.race_codes, vetoable(config)
    if (
        not 0 < owner < 1 << 64
        or races >> len(codes)
        or vetoes >> len(maps)
        or key != ladder_key(config)
    ):
        raise EXPIRED
    return QueueMenu(owner, _unmask(races, codes), _unmask(vetoes, maps)), parts[0]


def pick_races(values: Sequence[str], config: LadderConfig) -> tuple[str, ...]:
    """The races a race select sent: at least one, each one of the ladder's."""
    if not values or any(v not in config.race_codes for v in values):
        raise ValidationError("races", N_("Please pick one or more races from the list."))
    return tuple(code for code in config.race_codes if code in values)


def pick_vetoes(values: Sequence[str], config: LadderConfig) -> tuple[str, ...]:
    """The maps a veto select sent: each one it offers, no more than the ladder allows."""
    offered = {m[:100]: m for m in vetoable(config)}  # an option's value is at most 100 long
    if any(v not in offered for v in values) or len(set(values)) > config.max_vetoes:
        # Worded so that no noun follows the number: an error has one text, no plural forms.
        raise ValidationError(
            "vetoes",
            N_("Please pick at most {count} of the maps in the list to veto."),
            count=config.max_vetoes,
        )
    return tuple(m for value, m in offered.items() if value in values)


def menu_embed(menu: QueueMenu, config: LadderConfig) -> nextcord.Embed:
    embed = nextcord.Embed(title=_("Queue for a match"), colour=INFO_COLOUR)
    # Translators: **Join** is the label of the button below; keep the two the same.
    embed.description = _("Pick your races and the maps you veto, then **Join**.")
    names = ", ".join(config.race(code).name for code in menu.races) or _("pick below")
    embed.add_field(name=_("Races"), value=names)
    embed.add_field(name=_("Vetoed maps"), value=", ".join(menu.vetoes) or _("none"))
    return embed


def menu_view(menu: QueueMenu, config: LadderConfig) -> nextcord.ui.View:
    """Races (one or more), map vetoes (up to the maximum), then Join or Cancel."""
    items: list[nextcord.ui.Item] = [
        nextcord.ui.StringSelect(
            custom_id=encode(menu, "races", config),
            placeholder=_("Races you will play"),
            min_values=1,
            max_values=len(config.races),
            options=[
                nextcord.SelectOption(label=r.name, value=r.code, default=r.code in menu.races)
                for r in config.races
            ],
            row=0,
        )
    ]
    maps = vetoable(config)
    if config.max_vetoes:
        items.append(
            nextcord.ui.StringSelect(
                custom_id=encode(menu, "vetoes", config),
                placeholder=n_(
                    "Maps you will not play (up to {count})",
                    "Maps you will not play (up to {count})",
                    config.max_vetoes,
                ),
                min_values=0,
                max_values=min(config.max_vetoes, len(maps)),
                options=[
                    nextcord.SelectOption(label=m[:100], value=m[:100], default=m in menu.vetoes)
                    for m in maps
                ],
                row=1,
            )
        )
    items += [
        nextcord.ui.Button(
            label=_("Join"),
            style=nextcord.ButtonStyle.green,
            custom_id=encode(menu, "join", config),
            row=2,
        ),
        nextcord.ui.Button(
            label=_("Cancel"),
            style=nextcord.ButtonStyle.grey,
            custom_id=encode(menu, "cancel", config),
            row=2,
        ),
    ]
    return frozen_view(*items)
