"""Hypothesis strategies for hostile input: what a player (or a modified client) can type."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that broke or fooled text handling somewhere: invisible and direction marks, a
# NUL and other controls, combining marks, full-width and mathematical look-alikes, emoji with
# modifiers and flags, SQL and markdown punctuation.
NASTY = (
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u00ad", "\x00",
    "\x07", "\x1b", "\x7f", "\n", "\r", "\t", "\u0085", "\u2028", " ", "\u00a0", "\u3000",
    "'", '"', ";", "--", "/*", "*/", "%", "_", "\\", "#", "`", "*", "~", "|", "<@123>", "@everyone",
    "é", "e\u0301", "Ⓐ", "Ｂ", "𝔸", "ß", "İ", "ǅ", "ﬁ", "Ω", "Ω", "🇫🇷", "👍🏽", "👨‍👩‍👧", "ﷺ", "٣",
    "²", "①", "߀", "\U000e0041", "\U0010fffd",
)  # fmt: skip
SQLISH = (
    "'; DROP TABLE players;--", "' OR '1'='1", "Robert'); DROP TABLE matches;--", "%' --",
    '"; DELETE FROM ratings; --', "1; UPDATE players SET banned = 0", "' UNION SELECT * FROM x--",
    "\\'; --", "NULL", "null", "0x00", "1e309", "-0", "9" * 40,
)  # fmt: skip
# Discord's numbers: integer options are doubles, so ±2^53 is what a command can carry.
DISCORD_INT = 2**53


def nasty_text(max_size: int) -> st.SearchStrategy[str]:
    """Arbitrary text up to `max_size` characters, weighted towards the troublesome."""
    pieces = st.one_of(
        st.sampled_from(NASTY),
        st.sampled_from(SQLISH),
        st.text(min_size=1, max_size=8),
        st.from_regex(r"[A-Za-z0-9_\-]{1,12}", fullmatch=True),
    )
    built = st.lists(pieces, max_size=12).map("".join)
    return st.one_of(st.text(max_size=max_size), built, st.sampled_from(SQLISH)).map(
        lambda s: s[:max_size]
    )


def huge_text() -> st.SearchStrategy[str]:
    """Strings far past any Discord limit (for validation that must not depend on Discord)."""
    return st.builds(
        lambda piece, n: (piece * n)[:200_000],
        st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=4)),
        st.integers(500, 50_000),
    )


def any_text(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(nasty_text(max_size), huge_text())


def discord_ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(-DISCORD_INT, DISCORD_INT),
        st.sampled_from([0, -1, 1, 2**31, 2**53, -(2**53), 2**63 - 1]),
    )


def readable(message: str) -> list[str]:
    """Problems with a message meant for a player: empty, or too long for an embed (Discord
    refuses the whole answer then, and the player sees "This interaction failed").

    Echoing what the player typed (control characters included) is allowed: Discord shows it.
    """
    problems = []
    if not message.strip():
        problems.append("empty")
    if len(message) > 4096:
        problems.append(f"{len(message)} characters (an embed description holds 4096)")
    return problems
