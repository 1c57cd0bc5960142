"""Find English source text that leaked into what a player of another language saw.

The English texts are the msgids of the template (i18n/ladderbot.pot); a language's
translations are its .po. For every message whose translation differs from the English
(an untranslated message counts: the player reads it in English), the English is split at its
``{placeholders}``, its code spans (`` `/setup` ``, kept as they are in every language), its
markdown and its line breaks; each piece of at least ``MIN_WORDS`` words or ``MIN_LETTERS``
letters is a *fragment*. A fragment found in a text the player saw is a leak. Names and numbers
never make a fragment (they are values, put into placeholders), and an English piece the
translators kept on purpose (it is in a translation of that language, or the whole translation
is the English) is not one either.

    detector = LeakDetector.for_language("ko")
    leaks = detector.leaks([Seen("match DM, embed title", "Match #1 found")])
    assert not leaks, describe(leaks)

``texts_of_body`` and ``texts_of_modal`` turn what the bot sent Discord (a message body, a
modal) into the ``Seen`` texts a player reads: content, embed title / description / fields /
author / footer, button labels, select placeholders and options, modal title and labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from i18n import DOMAIN, LOCALE_DIR, SOURCE

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "i18n" / "ladderbot.pot"
MIN_WORDS = 3
MIN_LETTERS = 12
# Slash command names: players type them as they are registered; no message shows them bare.
UNSHOWN_CONTEXTS = frozenset({"command"})

# Where an English text is cut: a {placeholder}, a `code span` (or ```block```), markdown
# emphasis and strikes, spoilers, a link's brackets, a Discord mention or timestamp, a line.
_CUTS = re.compile(
    r"```.*?```|`[^`]*`|\{[^{}]*\}|\*\*|__|~~|\|\||(?<!\w)[*_]|[*_](?!\w)|<[^<>]*>|\]\(|[\[\]]|\n"
    r"|^\s*(?:#{1,3}|>{1,3}|[-•])\s",
    re.DOTALL | re.MULTILINE,
)
_EDGES = " \t.,;:!?()[]{}\"'«»“”‘’-–—•·|/…"
_WORD = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Seen:
    """A text a player saw, and where (for the failure message)."""

    where: str
    text: str


@dataclass(frozen=True, slots=True)
class Leak:
    msgid: str
    fragment: str
    where: str
    text: str

    def __str__(self) -> str:
        return (f"{self.where}: English {self.fragment!r} (from msgid {self.msgid!r})\n"
                f"    in: {self.text!r}")


def describe(leaks: Iterable[Leak]) -> str:
    found = list(leaks)
    return f"{len(found)} English text(s) leaked:\n" + "\n".join(f"  {leak}" for leak in found)


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def fragments(msgid: str) -> list[str]:
    """The pieces of an English text long enough to be recognised in a player's message: cut
    at placeholders, code spans and markdown, each with at least MIN_WORDS words or
    MIN_LETTERS letters (a name, a number or a lone word never is one)."""
    found = []
    for piece in _CUTS.split(msgid):
        piece = _normal(piece).strip(_EDGES)
        words = _WORD.findall(piece)
        long_enough = len(words) >= MIN_WORDS or sum(map(len, words)) >= MIN_LETTERS
        if long_enough and piece not in found:
            found.append(piece)
    return found


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(v or "" for v in value)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, domain=DOMAIN)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _key(message: Message) -> tuple[str | None, str]:
    return message.context, _forms(message.id)[0]


class LeakDetector:
    """The English fragments a player of one language must not see."""

    def __init__(self, template: Catalog, translations: Catalog | None) -> None:
        """`translations` None: the source language, in which nothing is a leak."""
        self.watched: dict[str, list[str]] = {}  # English msgid (or plural) -> its fragments
        if translations is None:
            return
        translated = {_key(m): m for m in translations if m.id and not m.fuzzy}
        kept = _normal(" ".join(form for m in translated.values() for form in _forms(m.string)))
        for message in template:
            if not message.id or message.context in UNSHOWN_CONTEXTS:
                continue
            english = _forms(message.id)
            found = translated.get(_key(message))
            forms = _forms(found.string) if found is not None else ()
            if forms and all(forms) and set(forms) <= set(english):
                continue  # translated as the English itself ("Battletag")
            for text in english:
                pieces = self.watched.setdefault(text, [])
                pieces += [f for f in fragments(text) if f not in kept and f not in pieces]
                if not pieces:
                    del self.watched[text]

    @classmethod
    def for_language(cls, language: str, template: Path = TEMPLATE,
                     catalog: Path | None = None) -> LeakDetector:
        """The detector for one of our languages (English: one that finds nothing)."""
        if language == SOURCE:
            return cls(read_catalog(template), None)
        path = catalog or po_path(language)
        translations = read_catalog(path) if path.exists() else Catalog(locale=language)
        return cls(read_catalog(template), translations)

    def leaks(self, seen: Iterable[Seen]) -> list[Leak]:
        found = []
        for sight in seen:
            text = _normal(sight.text)
            if not text:
                continue
            for msgid, pieces in self.watched.items():
                for piece in pieces:
                    if piece in text:
                        found.append(Leak(msgid, piece, sight.where, sight.text))
                        break
        return found


# --- what a player sees of what the bot sent ----------------------------------------------


def texts_of_embed(embed: Mapping[str, Any], where: str) -> Iterator[Seen]:
    for key in ("title", "description"):
        if embed.get(key):
            yield Seen(f"{where} embed {key}", str(embed[key]))
    if (embed.get("author") or {}).get("name"):
        yield Seen(f"{where} embed author", str(embed["author"]["name"]))
    for n, fld in enumerate(embed.get("fields") or []):
        for key in ("name", "value"):
            if fld.get(key):
                yield Seen(f"{where} embed field {n} {key}", str(fld[key]))
    if (embed.get("footer") or {}).get("text"):
        yield Seen(f"{where} embed footer", str(embed["footer"]["text"]))


def texts_of_components(components: Iterable[Mapping[str, Any]], where: str) -> Iterator[Seen]:
    """Labels, placeholders and options of buttons, selects and text inputs, in any nesting
    (action rows, modal labels)."""
    for component in components:
        cid = component.get("custom_id", "")
        for key in ("label", "placeholder", "description"):
            if component.get(key):
                yield Seen(f"{where} component {cid!r} {key}", str(component[key]))
        for option in component.get("options") or []:
            for key in ("label", "description"):
                if option.get(key):
                    yield Seen(f"{where} select {cid!r} option {key}", str(option[key]))
        yield from texts_of_components(component.get("components") or [], where)
        if isinstance(component.get("component"), Mapping):
            yield from texts_of_components([component["component"]], where)


def texts_of_body(body: Mapping[str, Any], where: str) -> Iterator[Seen]:
    """The texts of one message body the bot sent (a new message or an edit)."""
    if body.get("content"):
        yield Seen(f"{where} content", str(body["content"]))
    for n, embed in enumerate(body.get("embeds") or []):
        yield from texts_of_embed(embed, f"{where} embed {n}:")
    yield from texts_of_components(body.get("components") or [], where)


def texts_of_modal(modal: Mapping[str, Any], where: str) -> Iterator[Seen]:
    if modal.get("title"):
        yield Seen(f"{where} modal title", str(modal["title"]))
    yield from texts_of_components(modal.get("components") or [], f"{where} modal")
