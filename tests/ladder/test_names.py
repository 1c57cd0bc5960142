"""Look-alike names (ladder.names and the name rules of ladder.players): each attack, the
legitimate names of every script the rules must keep accepting, and properties over names built
from mixed scripts and confusable letters.
"""

from __future__ import annotations

import functools
import unicodedata

import icu
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ladder.errors import ValidationError
from ladder.names import (
    KEY_VERSION,
    battletag_key,
    is_ignorable,
    mixed_scripts,
    name_key,
    shape_key,
    skeleton,
)
from ladder.players import names_clash, validate_alt_names, validate_battletag, validate_name

# --------------------------------------------------------------------------------------------
# The attacks of the hardening issue, one by one.
# --------------------------------------------------------------------------------------------

MIXED_SCRIPTS = [
    # (what, name, scripts the message must name)
    ("Cyrillic А in a Latin name", "\u0410lice", ["Cyrillic", "Latin"]),
    ("Cyrillic е at the end", "Alic\u0435", ["Latin", "Cyrillic"]),
    ("Greek and Cyrillic that read Alice", "\u0391\u04cf\u0456\u0441\u0435", ["Greek", "Cyrillic"]),
    ("Greek omicron in a Latin name", "B\u03bfb", ["Latin", "Greek"]),
    ("Japanese kana with Korean Hangul", "\u3072\u3089\ud55c", ["Hiragana", "Hangul"]),
    ("Latin with kanji", "Taro\u592a\u90ce", ["Latin", "Han"]),
    ("Armenian օ in a Latin name", "B\u0585b", ["Latin", "Armenian"]),
]


@pytest.mark.parametrize(
    ("what", "name", "scripts"), MIXED_SCRIPTS, ids=[m[0] for m in MIXED_SCRIPTS]
)
def test_a_name_that_mixes_scripts_is_refused_naming_them(what, name, scripts):
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    message = caught.value.user_message
    assert "mixes" in message and "one script" in message, what
    for script in scripts:
        assert script in message, f"{what}: {script} not in {message!r}"
    assert caught.value.field == "player_name"


INVISIBLE = [
    # (what, name, words the message must contain)
    ("trailing Hangul filler", "Alice\u3164", ["hangul filler", "U+3164"]),
    ("only Hangul fillers", "\u3164\u3164\u3164\u3164", ["hangul filler", "U+3164"]),
    ("choseong filler", "Bob\u115fby", ["U+115F"]),
    ("jungseong filler", "\u1160Bobby", ["U+1160"]),
    ("half-width filler", "Bob\uffa0by", ["U+FFA0"]),
    ("zero-width joiner", "Al\u200dice", ["zero width joiner", "U+200D"]),
    ("zero-width non-joiner", "Al\u200cice", ["zero width non-joiner", "U+200C"]),
    ("variation selector", "Alice\ufe0f", ["variation selector-16", "U+FE0F"]),
    ("combining grapheme joiner", "Ali\u034fce", ["U+034F"]),
    ("Mongolian vowel separator", "Ali\u180ece", ["U+180E"]),
    ("word joiner", "Ali\u2060ce", ["U+2060"]),
    ("byte order mark", "\ufeffAlice", ["U+FEFF"]),
]


@pytest.mark.parametrize(("what", "name", "words"), INVISIBLE, ids=[i[0] for i in INVISIBLE])
def test_invisible_characters_and_fillers_are_refused_by_name(what, name, words):
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    message = caught.value.user_message
    assert "invisible" in message, what
    for word in words:
        assert word in message, f"{what}: {word!r} not in {message!r}"


@pytest.mark.parametrize("ch", ["\u3164", "\u115f", "\u1160", "\uffa0", "\u200d", "\ufe0f"])
def test_fillers_are_default_ignorable_though_unicode_calls_some_of_them_letters(ch):
    assert is_ignorable(ch)
    assert not is_ignorable("a") and not is_ignorable("\uac00")


def test_full_width_letters_become_plain_ones_and_so_clash_with_the_plain_name():
    assert validate_name("\uff21\uff4c\uff49\uff43\uff45") == "Alice"  # Ａｌｉｃｅ
    assert validate_name("\uff22ob") == "Bob"
    assert names_clash("\uff21lice", "alice")


def test_the_skeleton_is_unicodes_and_maps_look_alikes_to_one_prototype():
    assert skeleton("\u0410lice") == skeleton("Alice") == "Alice"
    assert skeleton("paypaI") == skeleton("paypal")  # capital I looks like l
    assert skeleton("m") == skeleton("rn")
    assert skeleton("0") == skeleton("O")


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        ("Alice", "ALICE", "case"),
        ("Alice", "alice", "case"),
        ("Alice", "AIice", "a capital I passes for an l"),
        ("Alice", "\u0410\u0406\u0456\u0441\u0435", "whole-script Cyrillic АІісе"),
        ("Alice", "A1ice", "the digit 1 passes for an l"),
        ("Bob0", "BobO", "zero and capital O"),
        ("Tom", "Torn", "rn passes for m"),
        ("Elodie", "\uff25lodie", "full-width Ｅ"),
        ("\u00c9lodie", "E\u0301lodie", "composed and decomposed É"),
        ("Strasse", "Stra\u00dfe", "ß folds to ss"),
    ],
)
def test_look_alike_names_clash(a, b, why):
    assert names_clash(a, b), why
    assert names_clash(b, a), why


@pytest.mark.parametrize(
    ("a", "b"),
    [("Alice", "Alicia"), ("alice", "aiice"), ("Bob", "Rob"), ("Ian", "Jan"), ("Neo", "Leo")],
)
def test_names_that_only_look_alike_to_a_careless_eye_do_not_clash(a, b):
    assert not names_clash(a, b)


def test_name_key_is_the_old_fold_where_nothing_looks_alike():
    # Plain names keep readable keys; only look-alike letters change (m -> rn).
    assert name_key("Alice") == "alice"
    assert name_key("TOM") == "torn"
    assert shape_key("Alice") == "Alice"


def test_key_version_names_the_icu_that_computes_the_keys():
    assert icu.ICU_VERSION in KEY_VERSION and icu.UNICODE_VERSION in KEY_VERSION


def test_battletag_key_folds_case_and_width_only():
    assert battletag_key("Alice#1234") == battletag_key("ALICE#1234") == "alice#1234"
    assert battletag_key("\uff21lice#1234") == "alice#1234"
    # A battletag is an account: a look-alike is another account, not the same one.
    assert battletag_key("\u0410lice#1234") != battletag_key("Alice#1234")


def test_a_battletag_with_a_filler_is_refused():
    with pytest.raises(ValidationError) as caught:
        validate_battletag("Alice\u3164#1234")
    assert "U+3164" in caught.value.user_message


def test_an_alt_that_looks_like_the_main_name_repeats_it():
    with pytest.raises(ValidationError, match="repeats"):
        validate_alt_names("Alice", ["AIice", None])
    with pytest.raises(ValidationError, match="repeats") as caught:
        validate_alt_names("Alice", ["BOBBY", "B0BBY"])
    assert caught.value.field == "alt_name_2"


# --------------------------------------------------------------------------------------------
# Legitimate names of every script keep working.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Alice",
        "Player_1",
        "a-b-c",
        "x_-_y",
        "123",
        "\u00c9lodie\u00dc",  # ÉlodieÜ
        "Zo\u00eb",
        "\u0410\u043b\u0438\u0441\u0430",  # Алиса
        "\u0401\u0436\u0438\u043a_2",  # Ёжик_2
        "\u0395\u03bb\u03ad\u03bd\u03b7",  # Ελένη
        "\ud64d\uae38\ub3d9",  # 홍길동
        "\ud55c\uad6d\u6f22\u5b57",  # 한국漢字: Hangul with Hanja
        "\u6771\u4eac\u6771\u4eac",  # 東京東京
        "\u5c71\u7530\u305f\u308d\u3046",  # 山田たろう: kanji with hiragana
        "\u30eb\u30fc\u30af",  # ルーク: katakana with the long-vowel mark (Common)
        "\u5c0f\u6797\u30b1\u30f3\u30b8",  # 小林ケンジ: kanji with katakana
        "\u4e2d\u6587\u3105\u3106",  # 中文ㄅㄆ: Han with Bopomofo
        "\u05d3\u05e0\u05d9",  # דני
        "\u0645\u062d\u0645\u062f",  # محمد
        "\u0639\u0644\u064a\u0661\u0662",  # علي١٢: Arabic with its own digits
        "Mateo-7",
    ],
)
def test_single_script_names_are_accepted(name):
    assert validate_name(name) == unicodedata.normalize("NFKC", name)


def test_digits_of_two_number_systems_are_refused():
    with pytest.raises(ValidationError, match="number systems"):
        validate_name("12\u0661")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("\u13a0\u13a1\u13a2", "`Ꭰ`"),  # Cherokee, a script of look-alikes of Latin
        ("\u314b\u314b\u314b", "`ㅋ`"),  # Hangul compatibility jamo, not syllables
        ("Ali\u0251s", "`ɑ`"),  # Latin alpha
        ("\ua4da\ua4f2\ua4e1", "`ꓚ`"),  # Lisu
        ("\u16a0\u16a2\u16a6", "`ᚠ`"),  # Runic
    ],
)
def test_characters_unicode_does_not_recommend_in_identifiers_are_refused(name, shown):
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    assert "does not recommend" in caught.value.user_message
    assert shown in caught.value.user_message


# --------------------------------------------------------------------------------------------
# Properties over names built from mixed scripts and confusable letters.
# --------------------------------------------------------------------------------------------

# Each Latin letter of the base names, and characters of other scripts that look like it.
LOOK_ALIKES = {
    "a": {"Latn": "aA\u0251\uff41\uff21", "Cyrl": "\u0430\u0410", "Grek": "\u03b1\u0391"},
    "b": {"Latn": "bB", "Cyrl": "\u042c\u0412", "Grek": "\u0392", "Cher": "\u13f4"},
    "c": {"Latn": "cC\u216d", "Cyrl": "\u0441\u0421", "Grek": "\u03f2", "Lisu": "\ua4da"},
    "e": {"Latn": "eE\u0117\uff45", "Cyrl": "\u0435\u0415", "Grek": "\u0395"},
    "i": {"Latn": "iI\u0131", "Cyrl": "\u0456\u0406\u04c0", "Grek": "\u0399"},
    "l": {"Latn": "lLI1\u217c", "Cyrl": "\u04cf\u04c0", "Grek": "\u0399"},
    "n": {"Latn": "nN", "Cyrl": "\u043f", "Grek": "\u039d", "Armn": "\u0578"},
    "o": {"Latn": "oO0", "Cyrl": "\u043e\u041e", "Grek": "\u03bf\u039f", "Armn": "\u0585"},
    "r": {"Latn": "rR\u0280", "Cyrl": "\u0433"},
    "s": {"Latn": "sS\u017f", "Cyrl": "\u0455\u0405"},
    "x": {"Latn": "xX", "Cyrl": "\u0445\u0425", "Grek": "\u03c7\u03a7"},
    "y": {"Latn": "yY", "Cyrl": "\u0443\u0423", "Grek": "\u03a5"},
}
SCRIPTS = ("Latn", "Cyrl", "Grek", "Armn", "Cher", "Lisu")
EXTRAS = "_-1\u3164\u200d\u115f\ufe0f\u3072\ud55c\u6771"
BASES = ("alice", "bob", "neo", "oscar", "lexi", "ryan", "carlos", "sexy", "boss")


@functools.cache
def one_of(choices: str | tuple[str, ...]) -> st.SearchStrategy[str]:
    """st.sampled_from(choices), built once per choice (not at every draw)."""
    return st.sampled_from(choices)


@st.composite
def look_alike_names(draw: st.DrawFn) -> str:
    """A base name spelt with look-alikes: mostly from one script (so that many pass the
    script rule and meet at the skeleton), some letters from any, maybe with an extra
    character (a filler, a joiner, a kana, ...) inserted."""
    base = draw(one_of(BASES))
    script = draw(one_of(SCRIPTS))
    chars = []
    for ch in base:
        pools = LOOK_ALIKES.get(ch, {"Latn": ch})
        if draw(st.integers(0, 9)) == 0:  # now and then, a letter from another script
            pool = draw(one_of(tuple(sorted(pools.values()))))
        else:
            pool = pools.get(script, pools["Latn"])
        chars.append(draw(one_of(pool)))
    if draw(st.integers(0, 4)) == 0:
        chars.insert(draw(st.integers(0, len(chars))), draw(one_of(EXTRAS)))
    return "".join(chars)


def _script_sets_allowed(name: str) -> bool:
    """An oracle independent of ICU's restriction check: the scripts of the name's letters,
    from the Script property alone, are one script or one of UTS #39's augmented sets."""
    scripts = {
        icu.Script.getScript(ord(ch)).getShortName()
        for ch in name
        if icu.Script.getScript(ord(ch)).getShortName() not in {"Zyyy", "Zinh"}
    }
    sets = [{"Hani", "Hira", "Kana"}, {"Hani", "Hang"}, {"Hani", "Bopo"}]
    return len(scripts) <= 1 or any(scripts <= s for s in sets)


def _accepted(name: str) -> str | None:
    try:
        return validate_name(name)
    except ValidationError:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(look_alike_names())
def test_no_accepted_name_mixes_scripts_or_hides_a_character(name):
    accepted = _accepted(name)
    assume(accepted is not None)
    assert _script_sets_allowed(accepted), accepted
    assert mixed_scripts(accepted) is None
    assert not any(is_ignorable(ch) for ch in accepted)
    assert accepted == unicodedata.normalize("NFKC", accepted)
    assert skeleton(accepted), "a name that reduces to nothing"


@settings(max_examples=400, deadline=None)
@given(look_alike_names(), look_alike_names())
def test_accepted_names_with_the_same_skeleton_always_clash(a, b):
    a, b = _accepted(a), _accepted(b)
    assume(a is not None and b is not None)
    if skeleton(a) == skeleton(b) or skeleton(a.casefold()) == skeleton(b.casefold()):
        assert names_clash(a, b)
    if a.casefold() == b.casefold():
        assert name_key(a) == name_key(b)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BASES), st.data())
def test_a_look_alike_from_another_script_in_a_latin_name_is_always_refused(base, data):
    """Swap letters of a Latin name for look-alikes: whenever one of them has a script of its
    own other than Latin (the Script property, not ICU's restriction check), the name is
    refused, whichever letters are swapped."""
    pools = {ch: "".join(by_script.values()) for ch, by_script in LOOK_ALIKES.items()}
    swaps = {
        i: data.draw(st.sampled_from(pools.get(ch, ch)), label=f"letter {i}")
        for i, ch in enumerate(base)
        if data.draw(st.booleans(), label=f"swap {i}")
    }
    variant = "".join(swaps.get(i, ch) for i, ch in enumerate(base))
    scripts = {icu.Script.getScript(ord(ch)).getShortName() for ch in variant} - {"Zyyy"}
    if len(scripts) > 1:
        assert _accepted(variant) is None, (variant, scripts)
