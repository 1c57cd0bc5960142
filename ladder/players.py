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
from typing import Any

import icu

from i18n import N_, SOURCE, Text, _, current, format_list, lazy
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
            N_(
                "The battletag {battletag} is already used by another player: each Battle.net"
                " account can have only one ladder player. If it is yours, please ask an admin."
            ),
            battletag=quoted(battletag),
        )
        self.battletag = battletag


def names_clash(a: str, b: str) -> bool:
    """True if the two names can be mistaken for each other (same skeleton, any case)."""
    return name_key(a) == name_key(b) or shape_key(a) == shape_key(b)


def describe_char(ch: str) -> str | Text:
    """Name a character so that invisible and control characters show up in a message: the
    character in backticks, or a description (a `Text`, shown in the current language)."""
    if ch == " ":
        return lazy("a space")
    visible = ch.isprintable() and not ch.isspace() and not is_ignorable(ch)
    if visible and unicodedata.category(ch) != "Cf":
        return f"`{ch}`"
    name = unicodedata.name(ch, "control character")
    # Translators: {name} is the character's Unicode name, in English; {code} like U+200B.
    return lazy("an invisible {name} (U+{code})", name=name.lower(), code=f"{ord(ch):04X}")


class _Scripts:
    """Script names (ICU's English ones, from ladder.names.mixed_scripts) as a list shown in
    the current language: "Latin and Cyrillic", "로마자 및 키릴 문자"."""

    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __str__(self) -> str:
        language = current()
        if language == SOURCE:
            return format_list(self.names)
        shown = []
        for name in self.names:
            try:
                code = icu.Script(icu.Script.getCode(name.replace(" ", "_"))[0]).getShortName()
                shown.append(icu.Locale(f"und_{code}").getDisplayScript(icu.Locale(language)))
            except (icu.ICUError, IndexError, ValueError):
                shown.append(name)
        return format_list(shown)


# One whole sentence per field and rule ("Player name ..." / "Alt name {number} ..."): a
# translation cannot assemble a sentence from a label.
_NAME_RULES: dict[str, tuple[str, str]] = {
    "required": (N_("Player name is required."), N_("Alt name {number} is required.")),
    "characters": (
        N_("Player name may contain only letters, digits, `_` and `-`; {char} is not allowed."),
        N_(
            "Alt name {number} may contain only letters, digits, `_` and `-`; {char} is not "
            "allowed."
        ),
    ),
    "not_recommended": (
        N_(
            "Player name may not contain {char} ({char_name}): Unicode does not recommend it in "
            "names, as it is rare or easily mistaken for another character."
        ),
        N_(
            "Alt name {number} may not contain {char} ({char_name}): Unicode does not recommend "
            "it in names, as it is rare or easily mistaken for another character."
        ),
    ),
    "length": (
        N_("Player name must be {min}–{max} characters long; {name} has {length}."),
        N_("Alt name {number} must be {min}–{max} characters long; {name} has {length}."),
    ),
    "scripts": (
        N_(
            "Player name {name} mixes {scripts} characters, so it could pass for another name. "
            "Please use one script: all Latin, all Cyrillic, all Hangul, and so on (Japanese "
            "kana with kanji, or Korean Hangul with Hanja, count as one)."
        ),
        N_(
            "Alt name {number} {name} mixes {scripts} characters, so it could pass for another "
            "name. Please use one script: all Latin, all Cyrillic, all Hangul, and so on "
            "(Japanese kana with kanji, or Korean Hangul with Hanja, count as one)."
        ),
    ),
    "some_scripts": (
        N_(
            "Player name {name} mixes characters of different scripts, so it could pass for "
            "another name. Please use one script: all Latin, all Cyrillic, all Hangul, and so on "
            "(Japanese kana with kanji, or Korean Hangul with Hanja, count as one)."
        ),
        N_(
            "Alt name {number} {name} mixes characters of different scripts, so it could pass "
            "for another name. Please use one script: all Latin, all Cyrillic, all Hangul, and "
            "so on (Japanese kana with kanji, or Korean Hangul with Hanja, count as one)."
        ),
    ),
    "digits": (
        N_(
            "Player name {name} mixes digits of different number systems, so it could pass for "
            "another name. Please use one kind of digit."
        ),
        N_(
            "Alt name {number} {name} mixes digits of different number systems, so it could "
            "pass for another name. Please use one kind of digit."
        ),
    ),
}


def _name_error(field: str, rule: str, **params: Any) -> ValidationError:
    """The ValidationError of `rule` for the name in `field` (player_name or alt_name_N)."""
    main, alt = _NAME_RULES[rule]
    if field.startswith("alt_name_"):
        return ValidationError(field, alt, number=int(field.removeprefix("alt_name_")), **params)
    return ValidationError(field, main, **params)


def _is_name_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd" or ch in "_-"


def validate_name(value: str, *, field: str = "player_name") -> str:
    """Return the name (NFKC-normalised) or raise ValidationError saying which rule it broke.

    `field` is "player_name" or "alt_name_1"/"alt_name_2"; each has its own messages.
    NFKC turns full-width and other compatibility letters into the plain ones (`Ｂｏｂ` is
    stored as `Bob`), so a name is always written the one way its skeleton is computed from.
    """
    name = unicodedata.normalize("NFC", value or "").strip()
    if not name:
        raise _name_error(field, "required")
    for ch in name:
        # Hangul fillers are letters to Unicode (Lo), and draw as nothing.
        if not _is_name_char(ch) or is_ignorable(ch):
            raise _name_error(field, "characters", char=describe_char(ch))
    _check_length(name, field)
    for ch in name:
        if not all(_is_name_char(c) and is_allowed(c) for c in unicodedata.normalize("NFKC", ch)):
            raise _name_error(
                field,
                "not_recommended",
                char=describe_char(ch),
                char_name=unicodedata.name(ch, "unnamed").lower(),
            )
    name = unicodedata.normalize("NFKC", name)
    _check_length(name, field)
    scripts = mixed_scripts(name)
    if scripts is not None:
        if len(scripts) > 1:
            raise _name_error(field, "scripts", name=quoted(name), scripts=_Scripts(scripts))
        raise _name_error(field, "some_scripts", name=quoted(name))
    if mixes_number_systems(name):
        raise _name_error(field, "digits", name=quoted(name))
    return name


def _check_length(name: str, field: str) -> None:
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise _name_error(
            field,
            "length",
            min=NAME_MIN,
            max=NAME_MAX,
            name=quoted(name, NAME_MAX + 20),
            length=len(name),
        )


def validate_battletag(value: str) -> str:
    """Return a battletag `Name#1234` or raise ValidationError naming the broken rule."""
    tag = unicodedata.normalize("NFC", value or "").strip()
    if not tag:
        raise ValidationError("battletag", N_("Battletag is required, like `Name#1234`."))
    match = _BATTLETAG.match(tag)
    if not match:
        raise ValidationError(
            "battletag",
            N_("Battletag must look like `Name#1234`: a name, `#`, then 3–12 digits."),
        )
    name, digits = match["name"], match["digits"]
    for ch in name:
        category = unicodedata.category(ch)
        if not (category.startswith("L") or category == "Nd") or is_ignorable(ch):
            raise ValidationError(
                "battletag",
                N_(
                    "The name part of a battletag may contain only letters and digits; "
                    "{char} is not allowed."
                ),
                char=describe_char(ch),
            )
    if len(name) > BATTLETAG_NAME_MAX:
        raise ValidationError(
            "battletag",
            N_("The name part of a battletag may be at most {max} characters."),
            max=BATTLETAG_NAME_MAX,
        )
    if not _ASCII_DIGITS.match(digits):
        raise ValidationError(
            "battletag", N_("The part after `#` in a battletag must be 3–12 digits (0–9).")
        )
    return f"{name}#{digits}"


def validate_alt_names(main: str, values: list[str | None]) -> tuple[str, ...]:
    """Validate up to two optional alt names, distinct from the main name and each other."""
    alts: list[str] = []
    for number, value in enumerate(values, start=1):
        if not value or not value.strip():
            continue
        alt = validate_name(value, field=f"alt_name_{number}")
        if any(names_clash(alt, given) for given in (main, *alts)):
            raise ValidationError(
                f"alt_name_{number}",
                N_("Alt name {number} repeats a name you already gave (or looks just like it)."),
                number=number,
            )
        alts.append(alt)
    return tuple(alts)


def validate_country(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a code or name, or raise ValidationError."""
    code = resolve_country(value or "")
    if code is None:
        raise ValidationError(
            "country", N_("Please pick a country from the list (start typing its name).")
        )
    return code


class _Regions:
    """The regions a message lists, as "EU (Europe), NA (North America)", names in the
    current language (they are read when the message is shown)."""

    __slots__ = ("regions",)

    def __init__(self, regions: Mapping[str, str]) -> None:
        self.regions = regions

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __str__(self) -> str:
        return ", ".join(f"{c} ({n})" for c, n in self.regions.items())


def validate_region(value: str, regions: Mapping[str, str]) -> str:
    """Return the region code if `regions` knows it, or raise ValidationError listing them."""
    code = (value or "").strip().upper()
    if code not in regions:
        raise ValidationError(
            "region", N_("Please pick one of the regions: {regions}."), regions=_Regions(regions)
        )
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
    """A country code as '🇫🇷 France' (the name in the current language), or 'not set'."""
    if not code:
        return _("not set")
    flag = "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())
    return f"{flag} {country_name(code)}"
