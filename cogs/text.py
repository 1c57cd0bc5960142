"""Player-controlled text made safe to show anywhere in Discord.

Names, battletags, evidence notes and admin reasons are typed by people; shown raw they can
forge lines (newlines, "**Opponent:**"), hide a link's real target behind a masked link, ping
(``@everyone``) or reorder the text around them (bidi overrides). `plain` turns any such string
into one line of inert text; `link` shows a URL as plain text whose visible target is the real
one. Neither result may be put inside a code span: escapes do not apply there.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["ELLIPSIS", "LINE_START_CHARS", "MARKDOWN_CHARS", "link", "plain"]

ELLIPSIS = "…"

# Characters with a meaning anywhere in a line: emphasis, underline, strike, spoiler, code,
# escapes, masked links, the brackets of mentions, custom emoji, timestamps and <links>, and
# ">" of quotes (at a line start; escaped everywhere, so no "<...>" pair is left whole).
MARKDOWN_CHARS = frozenset("\\*_~|`[]()<>")
# Characters with a meaning only at the start of a line: headers, subtext, lists. The result has
# no newline, so only its first character can start a line; "Name#1234" and "Jean-Luc" stay
# as they are.
LINE_START_CHARS = frozenset("#-")

# Text-direction overrides and isolates can make the text after them read backwards.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

ZWSP = "\u200b"
_ORDERED_LIST = re.compile(r"\d+\.")
_URL_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
# Names are shown again and again (a /profile shows 6-8 of them, 4-13 us each character by
# character): texts this short are escaped once and remembered. A long one (an evidence note)
# is rarely shown twice.
_REMEMBERED_LENGTH = 128


def _is_blank(ch: str) -> bool:
    """Whitespace, control and line/paragraph separators all become one space."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _one_line(text: str) -> str:
    """Drop bidi controls, collapse every run of blanks to one space, trim the ends."""
    out: list[str] = []
    pending_space = False
    for ch in text:
        if ch in _BIDI:
            continue
        if _is_blank(ch):
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            pending_space = False
        out.append(ch)
    return "".join(out)


def _pieces(text: str) -> list[str]:
    """The escaped text as indivisible pieces, so a cut never splits an escape."""
    pieces: list[str] = []
    for i, ch in enumerate(text):
        if (
            ch in MARKDOWN_CHARS
            or (i == 0 and ch in LINE_START_CHARS)
            # "https\://" is not auto-linked: the address shows as text, not as a link.
            or (ch == ":" and text.startswith("//", i + 1))
        ):
            pieces.append("\\" + ch)
        elif ch == "@":
            # A zero-width space after "@" breaks @everyone, @here and <@id> in content and
            # in embeds alike (embeds do not ping, but they do render mentions).
            pieces.append("@" + ZWSP)
        else:
            pieces.append(ch)
    # "1. text" at the start of a line would become an ordered list.
    head = _ORDERED_LIST.match(text)
    if head and text[head.end() : head.end() + 1] in ("", " "):
        dot = head.end() - 1
        pieces[dot] = "\\."
    return pieces


def _cut(pieces: list[str], limit: int | None) -> str:
    """Join the pieces, ending with an ellipsis if they do not fit in `limit` characters."""
    whole = "".join(pieces)
    if limit is None or len(whole) <= limit:
        return whole
    if limit < len(ELLIPSIS):
        return ""
    room = limit - len(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept).rstrip(" ") + ELLIPSIS


def plain(text: str | None, limit: int | None = None) -> str:
    """Return player text as one inert line: markdown escaped, no mentions, at most `limit` long."""
    if not text:
        return ""
    text = str(text)
    if len(text) <= _REMEMBERED_LENGTH:
        return _remembered(text, limit)
    return _escaped(text, limit)


def _escaped(text: str, limit: int | None) -> str:
    return _cut(_pieces(_one_line(text)), limit)


_remembered = functools.lru_cache(maxsize=4096)(_escaped)


def link(url: str | None, limit: int | None = 300) -> str:
    """Return a URL as inline code: its real target, visible, not clickable as a masked link."""
    if not url:
        return ""
    shown = _one_line(str(url)).replace("`", "")
    shown = _URL_MENTION.sub("@" + ZWSP, shown)
    if not shown:
        return ""
    if limit is not None and len(shown) + 2 > limit:
        shown = shown[: max(limit - 2 - len(ELLIPSIS), 0)] + ELLIPSIS
    return f"`{shown}`"
