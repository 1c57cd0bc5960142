"""cogs.text: player text is shown as one inert line, whatever it contains."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.text import ELLIPSIS, LINE_START_CHARS, MARKDOWN_CHARS, ZWSP, link, plain

# What Discord's markdown gives a meaning to anywhere, and at the start of a line (the only line
# start in one line of text is its first character); ":" of "https://", which auto-links. Each
# must reach Discord escaped. Spelt out here, not imported, so shrinking the module's sets fails.
MUST_ESCAPE = frozenset("\\*_~|`[]()<>")
MUST_ESCAPE_FIRST = frozenset("#-")
ESCAPABLE = MUST_ESCAPE | MUST_ESCAPE_FIRST | {":", "."}
MENTION = re.compile(r"<@[!&]?\d+>|<#\d+>|@everyone|@here", re.IGNORECASE)
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Text built from what breaks Discord: markdown, mentions, links, newlines, controls, bidi.
NASTY = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            sorted(MARKDOWN_CHARS | LINE_START_CHARS | set(":/@.!&0123456789 \n\r\t\x00\x1b\x85"))
        ),
        st.sampled_from(sorted(BIDI | {"\u2028", "\u2029", ZWSP, "é", "Ⓐ", "😀"})),
        st.characters(),
    )
)
PIECES = st.lists(
    st.sampled_from(
        ["@everyone", "@here", "<@123456789012345678>", "<@&42>", "<#42>", "[x](https://e.vil)",
         "**", "__", "~~", "||", "```", "> ", "# ", "-# ", "1. ", "\n", "\\", "https://a.b/c_d"]
    )
    | NASTY,
    max_size=12,
).map("".join)  # fmt: skip


def unescaped_markdown(shown: str) -> list[int]:
    """Positions of markdown characters not made literal by a backslash in front of them."""
    bad = []
    i = 0
    while i < len(shown):
        ch = shown[i]
        if ch == "\\":
            if i + 1 >= len(shown) or shown[i + 1] not in ESCAPABLE:
                bad.append(i)
            i += 2
            continue
        if (
            ch in MUST_ESCAPE
            or (i == 0 and ch in MUST_ESCAPE_FIRST)
            or (ch == ":" and shown.startswith("//", i + 1))
        ):
            bad.append(i)
        i += 1
    return bad


def unescape(shown: str) -> str:
    return re.sub(r"\\(.)", r"\1", shown).replace("@" + ZWSP, "@")


def collapsed(text: str) -> str:
    """What the player meant, on one line: the reference `plain` must keep (escaped)."""
    kept = "".join(ch for ch in text if ch not in BIDI | {"\u200e", "\u200f", "\u061c"})
    blank = "".join(
        " " if ch.isspace() or unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in kept
    )
    return re.sub(" +", " ", blank).strip(" ")


@settings(max_examples=400)
@given(PIECES, st.one_of(st.none(), st.integers(min_value=0, max_value=60)))
def test_plain_is_one_inert_line(text: str, limit: int | None) -> None:
    shown = plain(text, limit)
    assert "\n" not in shown and "\r" not in shown
    assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in shown), shown
    assert not BIDI & set(shown)
    assert not unescaped_markdown(shown), (text, shown)
    assert not MENTION.search(shown), (text, shown)
    assert all(shown[i + 1 : i + 2] == ZWSP for i, ch in enumerate(shown) if ch == "@"), shown
    if limit is not None:
        assert len(shown) <= limit
    meant = collapsed(text)
    if shown == plain(text):
        assert unescape(shown) == meant, (text, shown)
    else:  # cut: a prefix of what was meant, then the ellipsis (if there was room for one)
        assert shown.endswith(ELLIPSIS) or limit == 0, (text, shown)
        assert meant.startswith(unescape(shown.removesuffix(ELLIPSIS))), (text, shown)


@given(PIECES)
def test_plain_without_a_limit_keeps_everything(text: str) -> None:
    assert unescape(plain(text)) == collapsed(text)


def test_a_forged_line_and_a_masked_link_stay_literal() -> None:
    note = "I won.\n**Opponent:** I lost, sorry\n[https://youtube.com/x](https://evil.example/y)"
    shown = plain(note)
    assert shown == (
        r"I won. \*\*Opponent:\*\* I lost, sorry "
        r"\[https\://youtube.com/x\]\(https\://evil.example/y\)"
    )


def test_names_with_markdown_are_not_styled() -> None:
    assert plain("_Erin_") == r"\_Erin\_"
    assert plain("**B**ob ~~x~~ ||s|| `c`") == r"\*\*B\*\*ob \~\~x\~\~ \|\|s\|\| \`c\`"
    assert plain("# Big") == r"\# Big" and plain("-# small") == r"\-# small"
    assert plain("> quote") == r"\> quote" and plain("- item") == r"\- item"
    # Those mean something only at the start of a line: a battletag or a name keeps its look.
    assert plain("Alice#1234") == "Alice#1234" and plain("Jean-Luc vs Bob") == "Jean-Luc vs Bob"
    assert plain("at 12:30") == "at 12:30" and plain("ftp://x") == r"ftp\://x"
    assert plain("1. first") == r"1\. first"
    assert plain("v1.5 rocks") == "v1.5 rocks"  # only a list's dot at the start is escaped
    assert plain("back\\slash") == "back\\\\slash"


def test_mentions_are_shown_but_never_ping_or_render() -> None:
    assert plain("@everyone") == f"@{ZWSP}everyone"
    assert plain("hi @here") == f"hi @{ZWSP}here"
    assert plain("<@123>") == f"\\<@{ZWSP}123\\>"
    assert plain("<@&9>") == f"\\<@{ZWSP}&9\\>"
    assert plain("<#77>") == "\\<#77\\>"
    assert plain("<:emoji:1>") == "\\<:emoji:1\\>"
    assert plain("<t:1700000000:R>") == "\\<t:1700000000:R\\>"


def test_newlines_tabs_controls_and_bidi() -> None:
    assert plain("  a\n\n\tb\r\nc\x00d\x1b[31m  ") == "a b c d [31m".replace("[", "\\[")
    assert plain("abc\u202edcba\u2066x\u2069") == "abcdcbax"
    assert plain("line\u2028sep\u2029par\x85nel") == "line sep par nel"
    assert plain(None) == "" and plain("") == "" and plain(" \n\t ") == ""


def test_cutting_never_splits_an_escape() -> None:
    assert plain("abcdef", 4) == "abc…"
    assert plain("abc", 3) == "abc"
    assert plain("****", 5) == "\\*\\*…"
    assert plain("****", 4) == "\\*…"
    assert plain("a***", 3) == "a…"  # "a\\" + "…" would escape the ellipsis
    assert plain("@everyone", 2) == "…"
    assert plain("ab cd", 4) == "ab…"  # no space before the ellipsis
    assert plain("abc", 0) == ""


def test_link_shows_the_real_target_as_code() -> None:
    assert link("https://youtube.com/watch?v=a_b-c") == "`https://youtube.com/watch?v=a_b-c`"
    assert link("https://e.vil/`x`\n[a](b)") == "`https://e.vil/x [a](b)`"
    assert link("https://x.y/@everyone") == f"`https://x.y/@{ZWSP}everyone`"
    assert link(None) == "" and link("") == "" and link("``") == ""
    long = "https://x.y/" + "a" * 600
    shown = link(long, 100)
    assert len(shown) == 100 and shown.startswith("`https://x.y/aaa") and shown.endswith("…`")
    assert len(link(long, None)) == len(long) + 2


@given(PIECES, st.one_of(st.none(), st.integers(min_value=3, max_value=80)))
def test_link_is_one_code_span(url: str, limit: int | None) -> None:
    shown = link(url, limit)
    if not shown:
        return
    assert shown.startswith("`") and shown.endswith("`") and shown.count("`") == 2
    assert "\n" not in shown and not BIDI & set(shown)
    assert not re.search(r"@(everyone|here|[!&]?\d)", shown, re.IGNORECASE), shown
    if limit is not None:
        assert len(shown) <= limit
