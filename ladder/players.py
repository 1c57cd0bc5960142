"""Players and the rules their profile must follow.

Every rule has its own message, so a player learns exactly what to fix. Validation happens before
anything is written: invalid input writes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ladder.countries import country_name, resolve_country
from ladder.errors import ValidationError

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


def name_key(name: str) -> str:
    """Fold a name for comparison: 'Ⓐbc', 'ABC' and 'abc' compare by their NFKC casefold."""
    return unicodedata.normalize("NFKC", name).casefold()


def describe_char(ch: str) -> str:
    """Name a character so that invisible and control characters show up in a message."""
    if ch == " ":
        return "a space"
    if ch.isprintable() and not ch.isspace() and unicodedata.category(ch) != "Cf":
        return f"`{ch}`"
    name = unicodedata.name(ch, "control character")
    return f"an invisible {name.lower()} (U+{ord(ch):04X})"


def _is_name_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd" or ch in "_-"


def validate_name(value: str, *, label: str = "Player name", field: str = "player_name") -> str:
    """Return the name (NFC-normalised) or raise ValidationError saying which rule it broke."""
    name = unicodedata.normalize("NFC", value or "").strip()
    if not name:
        raise ValidationError(field, f"{label} is required.")
    for ch in name:
        if not _is_name_char(ch):
            raise ValidationError(
                field,
                f"{label} may contain only letters, digits, `_` and `-`; "
                f"{describe_char(ch)} is not allowed.",
            )
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise ValidationError(
            field,
            f"{label} must be {NAME_MIN}–{NAME_MAX} characters long; "
            f"**{name[: NAME_MAX + 20]}** has {len(name)}.",
        )
    return name


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
        if not (unicodedata.category(ch).startswith("L") or unicodedata.category(ch) == "Nd"):
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
        if name_key(alt) == name_key(main) or any(name_key(alt) == name_key(a) for a in alts):
            raise ValidationError(
                f"alt_name_{number}", f"Alt name {number} repeats a name you already gave."
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
