"""Look-alike names: Unicode's own rules against impersonation (UTS #39), through ICU.

Three rules keep a player from passing for another:

* **One script.** The letters of a name come from one script: all Latin, all Cyrillic, all
  Hangul, all Han, and so on (UTS #39 "single script", with its augmented script sets: Japanese
  kana with kanji, Korean Hangul with Hanja, and Chinese Han with Bopomofo each count as one).
  Digits, `_` and `-` go with any script. `Аlice` with a Cyrillic `А` mixes two and is refused.
* **Nothing invisible.** Default-ignorable code points (the Hangul fillers U+3164, U+115F,
  U+1160 and U+FFA0, zero-width joiners, variation selectors, ...) are refused, and so is any
  character UTS #39 does not recommend in identifiers (its Identifier_Status is not Allowed).
* **Unique by skeleton.** Two names clash when their UTS #39 *skeletons* are equal: the
  skeleton maps every character to the prototype it is confusable with (`А` → `A`, `0` → `O`,
  `m` → `rn`). A name has two keys, and another player may share neither:
  `name_key`, the skeleton of the case-folded name (`ALICE` ~ `alice`), and `shape_key`, the
  skeleton with case kept (`AIice` with a capital I ~ `Alice`, which case folding would split
  into `aiice` and `alice`).

The confusables data and the script data are ICU's (pinned in pyproject.toml). A new ICU can
change skeletons, so `KEY_VERSION` names it: storage recomputes stored keys when it differs.
"""

from __future__ import annotations

import unicodedata

import icu

_SPOOF = icu.SpoofChecker()
_SPOOF.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS)
_SPOOF.setRestrictionLevel(icu.URestrictionLevel.SINGLE_SCRIPT_RESTRICTIVE)

# Identifier_Status=Allowed (UTS #39 table 1): the recommended set plus the inclusion set
# (which holds `-`, and joiners that the name rules refuse anyway).
_ALLOWED = icu.UnicodeSet()
_ALLOWED.addAll(_SPOOF.getRecommendedUnicodeSet())
_ALLOWED.addAll(_SPOOF.getInclusionUnicodeSet())
_ALLOWED.freeze()
_IGNORABLE = icu.UnicodeSet("[:Default_Ignorable_Code_Point:]")
_IGNORABLE.freeze()
_NO_SCRIPT = {"Zyyy", "Zinh", "Zzzz"}  # Common, Inherited, Unknown: they go with any script

# Stored keys were computed by this; change the trailing number when the key functions change.
KEY_VERSION = f"uts39-skeleton icu-{icu.ICU_VERSION} unicode-{icu.UNICODE_VERSION} keys-1"


def is_ignorable(ch: str) -> bool:
    """True for a default-ignorable code point: drawn as nothing (a filler, a joiner, ...)."""
    return _IGNORABLE.contains(ch)


def is_allowed(ch: str) -> bool:
    """True if UTS #39 allows the character in identifiers (Identifier_Status=Allowed)."""
    return _ALLOWED.contains(ch)


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: equal skeletons mean the two texts can be mistaken for each other."""
    return _SPOOF.getSkeleton(0, text)


def name_key(name: str) -> str:
    """The key that makes names unique whatever their case: the skeleton of the folded name."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return skeleton(folded)


def shape_key(name: str) -> str:
    """The key that makes names unique as they look: the skeleton of the name, case kept."""
    return skeleton(unicodedata.normalize("NFKC", name))


def battletag_key(tag: str) -> str:
    """The key that makes battletags unique: one Battle.net account, any case, one player."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())


def script_name(ch: str) -> str | None:
    """The name of the character's script, or None for one that goes with any (digits, `_`)."""
    script = icu.Script.getScript(ord(ch))
    return None if script.getShortName() in _NO_SCRIPT else script.getName().replace("_", " ")


def mixed_scripts(name: str) -> tuple[str, ...] | None:
    """None if the name keeps to one script (set); else the scripts it mixes, in order of use.

    The tuple can hold fewer than two names when a mixed character has no script of its own
    but belongs to a few (an Arabic-Indic digit goes with Arabic and Thaana, not with Latin).
    """
    if not _SPOOF.check(name) & icu.USpoofChecks.RESTRICTION_LEVEL:
        return None
    return tuple(dict.fromkeys(s for s in map(script_name, name) if s))


def mixes_number_systems(name: str) -> bool:
    """True if the name has digits of two decimal systems (`1` and the Arabic-Indic `١`)."""
    return bool(_SPOOF.check(name) & icu.USpoofChecks.MIXED_NUMBERS)
