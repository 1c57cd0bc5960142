"""Players and the rules their profile must follow.

Every rule has its own message, so a player learns exactly what to fix. Validation happens before
anything is written: invalid input writes nothing. The rules against look-alike names (one
script, nothing invisible, uniqueness by skeleton) are in ladder.names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ladder.countries import country_name, resolve_country
from ladder.errors import ValidationError, quoted
from ladder.names import (
    is_allowed,
    is_ignorable,
    mixed_scripts,
    mixes_number_systems,
    name_key,
    shape_key,
)

NAME_MIN, NAME_MAX = 3, 12
BATTLETAG_NAME_MAX = 12
_BATTLETAG = re.compile(r"^(?P<name>[^#]+)#(?P<digits>[^#]+)$")
_ASCII_DIGITS = re.compile(r"^[0-9]{3,12}$")


@dataclass(frozen=True, slots=True)
class Player:
    """A player's record as stored."""

    discord_uid: int
    discord_name: str
    player_name: str | None = None
    battletag: str | None = None
    alt_name_1: str | None = None
    alt_name_2: str | None = None
    country: str | None = None
    region: str | None = None
    accepted_tos: bool = False
    accepted_tos_at: datetime | None = None
    completed_setup: bool = False
    completed_setup_at: datetime | None = None
    banned: bool = False
    # The language chosen with /language (an i18n locale), or None to follow Discord's.
    language: str | None = None

    @property
    def display_name(self) -> str:
        """The name to show and log: the ladder name once set, else the Discord name."""
        return self.player_name or self.discord_name

    @property
    def alt_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.alt_name_1, self.alt_name_2) if n)


@dataclass(frozen=True, slots=True)
class ProfileDraft:
    """A validated profile, ready to be saved by /setup."""

    player_name: str
    battletag: str
    alt_names: tuple[str, ...]
    country: str
    region: str

    def settings(self) -> dict[str, str | None]:
        """The draft as the player columns it sets."""
        alts = (*self.alt_names, None, None)
        return {
            "player_name": self.player_name,
            "battletag": self.battletag,
            "alt_name_1": alts[0],
            "alt_name_2": alts[1],
            "country": self.country,
            "region": self.region,
        }


@dataclass(frozen=True, slots=True)
class SetupDraft:
    """What the player has entered so far in /setup; validated in full on Confirm."""

    player_name: str = ""
    battletag: str = ""
    alt_names: tuple[str, ...] = ()
    country: str | None = None
    region: str | None = None

    @classmethod
    def from_player(cls, player: Player | None) -> SetupDraft:
        """The draft a new /setup starts from: the player's record as it is."""
        if player is None:
            return cls()
        return cls(
            player.player_name or "",
            player.battletag or "",
            player.alt_names,
            player.country,
            player.region,
        )

    @property
    def complete(self) -> bool:
        """Whether everything Confirm needs has been picked."""
        return bool(self.country and self.region)


class BattletagTakenError(ValidationError):
    """Another player already uses this battletag: one Battle.net account, one player."""

    def __init__(self, battletag: str) -> None:
        super().__init__(
            "battletag",
            f"The battletag {quoted(battletag)} is already used by another player: each Battle.net"
            " account can have only one ladder player. If it is yours, please ask an admin.",
        )
        self.battletag = battletag


def names_clash(a: str, b: str) -> bool:
    """True if the two names can be mistaken for each other (same skeleton, any case)."""
    return name_key(a) == name_key(b) or shape_key(a) == shape_key(b)


def describe_char(ch: str) -> str:
    """Name a character so that invisible and control characters show up in a message."""
    if ch == " ":
        return "a space"
    visible = ch.isprintable() and not ch.isspace() and not is_ignorable(ch)
    if visible and unicodedata.category(ch) != "Cf":
        return f"`{ch}`"
    name = unicodedata.name(ch, "control character")
    return f"an invisible {name.lower()} (U+{ord(ch):04X})"


def _is_name_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd" or ch in "_-"


def validate_name(value: str, *, label: str = "Player name", field: str = "player_name") -> str:
    """Return the name (NFKC-normalised) or raise ValidationError saying which rule it broke.

    NFKC turns full-width and other compatibility letters into the plain ones (`Ｂｏｂ` is
    stored as `Bob`), so a name is always written the one way its skeleton is computed from.
    """
    name = unicodedata.normalize("NFC", value or "").strip()
    if not name:
        raise ValidationError(field, f"{label} is required.")
    for ch in name:
        # Hangul fillers are letters to Unicode (Lo), and draw as nothing.
        if not _is_name_char(ch) or is_ignorable(ch):
            raise ValidationError(
                field,
                f"{label} may contain only letters, digits, `_` and `-`; "
                f"{describe_char(ch)} is not allowed.",
            )
    _check_length(name, label, field)
    for ch in name:
        if not all(_is_name_char(c) and is_allowed(c) for c in unicodedata.normalize("NFKC", ch)):
            raise ValidationError(
                field,
                f"{label} may not contain {describe_char(ch)} "
                f"({unicodedata.name(ch, 'unnamed').lower()}): Unicode does not recommend it "
                "in names, as it is rare or easily mistaken for another character.",
            )
    name = unicodedata.normalize("NFKC", name)
    _check_length(name, label, field)
    scripts = mixed_scripts(name)
    if scripts is not None:
        mixed = (
            f"{', '.join(scripts[:-1])} and {scripts[-1]} characters"
            if len(scripts) > 1
            else "characters of different scripts"
        )
        raise ValidationError(
            field,
            f"{label} {quoted(name)} mixes {mixed}, so it could pass for another name. Please use "
            "one script: all Latin, all Cyrillic, all Hangul, and so on (Japanese kana with "
            "kanji, or Korean Hangul with Hanja, count as one).",
        )
    if mixes_number_systems(name):
        raise ValidationError(
            field,
            f"{label} {quoted(name)} mixes digits of different number systems, so it could pass "
            "for another name. Please use one kind of digit.",
        )
    return name


def _check_length(name: str, label: str, field: str) -> None:
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise ValidationError(
            field,
            f"{label} must be {NAME_MIN}–{NAME_MAX} characters long; "
            f"{quoted(name, NAME_MAX + 20)} has {len(name)}.",
        )


def validate_battletag(value: str) -> str:
    """Return a battletag `Name#1234` or raise ValidationError naming the broken rule."""
    tag = unicodedata.normalize("NFC", value or "").strip()
    if not tag:
        raise ValidationError("battletag", "Battletag is required, like `Name#1234`.")
    match = _BATTLETAG.match(tag)
    if not match:
        raise ValidationError(
            "battletag", "Battletag must look like `Name#1234`: a name, `#`, then 3–12 digits."
        )
    name, digits = match["name"], match["digits"]
    for ch in name:
        category = unicodedata.category(ch)
        if not (category.startswith("L") or category == "Nd") or is_ignorable(ch):
            raise ValidationError(
                "battletag",
                f"The name part of a battletag may contain only letters and digits; "
                f"{describe_char(ch)} is not allowed.",
            )
    if len(name) > BATTLETAG_NAME_MAX:
        raise ValidationError(
            "battletag",
            f"The name part of a battletag may be at most {BATTLETAG_NAME_MAX} characters.",
        )
    if not _ASCII_DIGITS.match(digits):
        raise ValidationError(
            "battletag", "The part after `#` in a battletag must be 3–12 digits (0–9)."
        )
    return f"{name}#{digits}"


def validate_alt_names(main: str, values: list[str | None]) -> tuple[str, ...]:
    """Validate up to two optional alt names, distinct from the main name and each other."""
    alts: list[str] = []
    for number, value in enumerate(values, start=1):
        if not value or not value.strip():
            continue
        alt = validate_name(value, label=f"Alt name {number}", field=f"alt_name_{number}")
        if any(names_clash(alt, given) for given in (main, *alts)):
            raise ValidationError(
                f"alt_name_{number}",
                f"Alt name {number} repeats a name you already gave (or looks just like it).",
            )
        alts.append(alt)
    return tuple(alts)


def validate_country(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a code or name, or raise ValidationError."""
    code = resolve_country(value or "")
    if code is None:
        raise ValidationError(
            "country", "Please pick a country from the list (start typing its name)."
        )
    return code


def validate_region(value: str, regions: Mapping[str, str]) -> str:
    """Return the region code if `regions` knows it, or raise ValidationError listing them."""
    code = (value or "").strip().upper()
    if code not in regions:
        known = ", ".join(f"{c} ({n})" for c, n in regions.items())
        raise ValidationError("region", f"Please pick one of the regions: {known}.")
    return code


def validate_profile(
    *,
    player_name: str,
    battletag: str,
    alt_names: list[str | None],
    country: str,
    region: str,
    regions: Mapping[str, str],
) -> ProfileDraft:
    """Validate every /setup field, in the order the player filled them in."""
    name = validate_name(player_name)
    return ProfileDraft(
        player_name=name,
        battletag=validate_battletag(battletag),
        alt_names=validate_alt_names(name, alt_names),
        country=validate_country(country),
        region=validate_region(region, regions),
    )


Change = tuple[str, str | None, str | None]


def profile_changes(player: Player | None, draft: ProfileDraft) -> list[Change]:
    """List (setting, old, new) for every field the draft changes."""
    changes = []
    for setting, new in draft.settings().items():
        old = getattr(player, setting) if player else None
        if old != new:
            changes.append((setting, old, new))
    return changes


def describe_country(code: str | None) -> str:
    """A country code as '🇫🇷 France', or 'not set'."""
    if not code:
        return "not set"
    flag = "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())
    return f"{flag} {country_name(code)}"
