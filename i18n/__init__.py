"""What players read, in their language: one translation function backed by gettext catalogs.

    from i18n import N_, _, n_

    _("You are in the queue for {minutes} minutes.", minutes=5)   # in the current language
    n_("{count} win", "{count} wins", wins)                          # plural forms ({count} = n)
    TITLE = N_("Match found")  # marks a constant for extraction; _(TITLE) translates it later

Placeholders are named, in ``str.format`` style; the catalogs (``i18n/locales/<locale>/
LC_MESSAGES/ladderbot.po``) must keep every one of them (tests/i18n checks it). The current
language is a context variable: the command pipeline sets it to the caller's language for the
whole interaction, and code that writes to someone else (a match found, a dispute for an admin)
wraps that in ``with speaking(their_language):``. Look-ups are dict reads on catalogs loaded
once; nothing here does I/O after the first use of a language.

Babel compiles the ``.po`` files to ``.mo`` (``scripts/translations.sh compile``, run by the
set-up); a missing or stale ``.mo`` is compiled in memory from its ``.po`` instead, so a
checkout works before the set-up has run.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale, dates, lists, numbers
from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "ladderbot"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
SOURCE = "en"
# Ours, in the order /language offers them; each with its own name for the menu.
LOCALES: tuple[str, ...] = ("en", "es", "ko", "ru", "zh_CN")
NATIVE_NAMES: Mapping[str, str] = {
    "en": "English",
    "es": "Español",
    "ko": "한국어",
    "ru": "Русский",
    "zh_CN": "简体中文",
}
# Discord's locale codes for each of ours (for command name and description localisations).
DISCORD_LOCALES: Mapping[str, tuple[str, ...]] = {
    "es": ("es-ES", "es-419"),
    "ko": ("ko",),
    "ru": ("ru",),
    "zh_CN": ("zh-CN",),
}
_FROM_DISCORD = {code: ours for ours, codes in DISCORD_LOCALES.items() for code in codes}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=SOURCE)


def N_(msgid: str) -> str:
    """Mark `msgid` for extraction without translating it (for constants; translate at use)."""
    return msgid


@dataclass(frozen=True, slots=True)
class Text:
    """A message to translate later, in whichever language is current when it is shown.

    Used where the text is chosen in one place and shown in another (an error raised by the
    domain, a label picked by a rule); `str()` renders it in the current language."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return _(self.msgid, **self.params)

    def english(self) -> str:
        """The source text with its values (for logs and for hosts)."""
        return _format(self.msgid, self.params, SOURCE)


def lazy(msgid: str, /, **params: Any) -> Text:
    """`msgid` with its values, translated when shown (see `Text`)."""
    return Text(msgid, params)


def current() -> str:
    """The language of what is being written now."""
    return _current.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Write in `language` (one of LOCALES; anything else means English) inside the block."""
    chosen = language if language in LOCALES else SOURCE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def use(language: str | None) -> contextvars.Token[str]:
    """Set the current language until `_current.reset(token)` (for code that cannot use `with`)."""
    return _current.set(language if language in LOCALES else SOURCE)


def restore(token: contextvars.Token[str]) -> None:
    _current.reset(token)


def from_discord(tag: str | None) -> str | None:
    """One of our locales for a Discord locale code ("es-419", "zh-CN", "en-GB"), else None."""
    if not tag:
        return None
    tag = str(tag)
    if tag in _FROM_DISCORD:
        return _FROM_DISCORD[tag]
    base = tag.split("-")[0].split("_")[0].lower()
    if base == "en":
        return SOURCE
    if base in LOCALES:
        return base
    return None


def choose(chosen: str | None, discord_locale: str | None) -> str:
    """The language to answer in: the player's own choice, else their Discord client's, else
    English."""
    if chosen in LOCALES:
        return chosen
    return from_discord(discord_locale) or SOURCE


# --- catalogs ---------------------------------------------------------------------------


def _po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(language: str) -> NullTranslations:
    """The compiled catalog of `language` (the source language has none: its text is the id)."""
    if language == SOURCE or language not in LOCALES:
        return NullTranslations()
    po = _po_path(language)
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    if not po.exists():
        log.warning("No catalog for %s at %s: its players read English", language, po)
        return NullTranslations()
    return Translations(_compiled(po), domain=DOMAIN)


def _compiled(po: Path) -> Any:
    """Compile a .po in memory (when the set-up has not compiled it yet)."""
    import io

    with po.open("rb") as f:
        parsed = pofile.read_po(f, domain=DOMAIN)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, parsed, use_fuzzy=False)
    buffer.seek(0)
    return buffer


def _format(text: str, params: Mapping[str, Any], language: str) -> str:
    if not params:
        return text
    for value in params.values():
        if isinstance(value, Text):
            break
    else:  # no lazy text among them (nearly always): nothing to translate first
        return text.format_map(params)
    values = {k: (_in(language, v.msgid, v.params) if isinstance(v, Text) else v)
              for k, v in params.items()}
    return text.format(**values)


def _in(language: str, msgid: str, params: Mapping[str, Any]) -> str:
    if not msgid or language == SOURCE:
        return _format(msgid, params, language)
    return _format(commands_shown(language, catalog(language).gettext(msgid)), params, language)


# "/queue", "`/admin resolve match_id:`": a command as a message names it, then its subcommand
# and option words (an option word ends in ":").
_COMMAND_MENTION = re.compile(r"(?<![\w/<:>.])/([a-z][a-z_-]*)((?: [a-z][a-z_]*:?)*)")


@functools.lru_cache(maxsize=4096)
def commands_shown(language: str, text: str) -> str:
    """`text` with the commands it names (/queue, /admin resolve match_id:) under the names
    Discord shows a player of `language` (cogs/localize.py gives commands those names). Only
    the words of a message are changed, never the values put into it."""
    if "/" not in text:
        return text
    names = _command_names(language)
    if not names:
        return text

    def shown(match: re.Match[str]) -> str:
        command = match.group(1)
        if command not in names:
            return match.group(0)
        words = [names[command]]
        rest = match.group(2).split(" ")[1:] if match.group(2) else []
        for index, word in enumerate(rest):
            bare = word.removesuffix(":")
            if bare not in names:
                return "/" + " ".join(words + rest[index:])
            words.append(names[bare] + word[len(bare):])
        return "/" + " ".join(words)

    return _COMMAND_MENTION.sub(shown, text)


@functools.cache
def _command_names(language: str) -> dict[str, str]:
    """{command or option name: its name in `language`} from the catalog (msgctxt "command")."""
    entries = getattr(catalog(language), "_catalog", {})
    prefix = "command\x04"
    return {
        key[len(prefix):]: text
        for key, text in entries.items()
        if isinstance(key, str) and key.startswith(prefix) and isinstance(text, str) and text
    }


def _(msgid: str, /, **params: Any) -> str:
    """`msgid` in the current language, with `params` put into its {placeholders}."""
    return _in(_current.get(), msgid, params)


def n_(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The plural form of the current language for `n`; ``{count}`` is `n` (formatted)."""
    language = _current.get()
    text = catalog(language).ngettext(singular, plural, n)
    if language != SOURCE:
        text = commands_shown(language, text)
    return _format(text, {"count": format_number(n), **params}, language)


def p_(context: str, msgid: str, /, **params: Any) -> str:
    """`msgid` as meant in `context` (e.g. "command" for a slash command's name)."""
    language = _current.get()
    return _format(str(catalog(language).pgettext(context, msgid)), params, language)


def translate(language: str, msgid: str, /, **params: Any) -> str:
    """`msgid` in `language`, whatever the current one is."""
    return _in(language if language in LOCALES else SOURCE, msgid, params)


# --- slash command localisations ----------------------------------------------------------


def discord_localizations(msgid: str, context: str | None = None) -> dict[str, str]:
    """{Discord locale code: translation} of `msgid` for every language whose catalog has it
    (the same words included: "admin" may stay "admin"), for nextcord's name_localizations /
    description_localizations. Evaluated when the commands are localised at start."""
    found: dict[str, str] = {}
    key = f"{context}\x04{msgid}" if context else msgid
    for language, codes in DISCORD_LOCALES.items():
        text = getattr(catalog(language), "_catalog", {}).get(key)
        if isinstance(text, str) and text:
            for code in codes:
                found[code] = text
    return found


def command_names(name: str) -> dict[str, str]:
    """name_localizations for a command, option or group called `name` (msgctxt "command")."""
    return discord_localizations(name, "command")


def descriptions(text: str) -> dict[str, str]:
    """description_localizations for a command's or option's description."""
    return discord_localizations(text)


def choice_names(choices: Iterable[str]) -> dict[str, dict[str, str]]:
    """choice_localizations for option choices shown as `choices` (msgctxt "choice")."""
    return {c: loc for c in choices if (loc := discord_localizations(c, "choice"))}


# --- numbers, dates and lists -----------------------------------------------------------


@functools.cache
def babel_locale(language: str) -> Locale:
    return Locale.parse(language if language in LOCALES else SOURCE)


def format_number(value: float | int) -> str:
    """`value` with the current language's digit grouping and decimal sign."""
    if type(value) is int:
        if 0 <= value < 1000:
            return str(value)  # the same in every language we speak, and 80x faster than Babel
        return _whole_number(_current.get(), value)
    return numbers.format_decimal(value, locale=babel_locale(_current.get()))


@functools.lru_cache(maxsize=16384)
def _whole_number(language: str, value: int) -> str:
    # Ratings, counts and ranks repeat: a page of the leaderboard formats the same few hundred.
    return numbers.format_decimal(value, locale=babel_locale(language))


def format_percent(value: float) -> str:
    return numbers.format_percent(value, locale=babel_locale(_current.get()))


def format_date(value: date | datetime, style: str = "medium") -> str:
    return _date_in(_current.get(), value, style)


@functools.lru_cache(maxsize=4096)
def _date_in(language: str, value: date | datetime, style: str) -> str:
    # 15 us through Babel; /profile's footer shows the same few hundred dates again and again.
    return dates.format_date(value, format=style, locale=babel_locale(language))


def format_datetime(value: datetime, style: str = "medium") -> str:
    return dates.format_datetime(value, format=style, locale=babel_locale(_current.get()))


def format_list(items: Iterable[str], style: str = "standard") -> str:
    values = list(items)
    if not values:
        return ""
    return lists.format_list(values, style=style, locale=babel_locale(_current.get()))  # type: ignore[arg-type]


def available(language: str) -> bool:
    """Whether `language` has a catalog in this checkout (English always has)."""
    return language == SOURCE or _po_path(language).exists()

