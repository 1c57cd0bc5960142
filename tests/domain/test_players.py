"""Validation rules for /setup and /setcountry: each rule, each message, hostile input."""

import pytest

from ladder.errors import ValidationError
from ladder.players import (
    Player,
    ProfileDraft,
    name_key,
    profile_changes,
    validate_alt_names,
    validate_battletag,
    validate_country,
    validate_name,
    validate_profile,
    validate_region,
)

REGIONS = {"EU": "Europe", "NA": "North America"}


@pytest.mark.parametrize("name", ["abc", "Player_1", "a-b-c", "ÉlodieÜ", "東京東京", "x" * 12])
def test_valid_names_pass_unchanged(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("ab", "3–12 characters"),
        ("x" * 13, "3–12 characters"),
        ("a b c", "a space"),
        ("abc\u200bd", "ZERO WIDTH SPACE".lower()),
        ("abc\x00d", "(U+0000)"),
        ("abc\nd", "(U+000A)"),
        ("🙂🙂🙂", "`🙂`"),
        ("Robert');DROP", "`'`"),
        ("ab\u202ecd", "(U+202E)"),
    ],
)
def test_invalid_names_say_which_rule(name, fragment):
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    assert fragment in caught.value.user_message
    assert caught.value.field == "player_name"


def test_name_is_nfc_normalised_so_lookalikes_compare_equal():
    decomposed = "E\u0301lodie"
    assert validate_name(decomposed) == "Élodie"
    assert name_key("ÉLODIE") == name_key("élodie")


def test_huge_input_is_refused_quickly_with_a_short_message():
    with pytest.raises(ValidationError) as caught:
        validate_name("a" * 1_000_000)
    assert len(caught.value.user_message) < 200


@pytest.mark.parametrize("tag", ["Name#1234", "a#123", "Ünï#123456789012", "Player12#0001"])
def test_valid_battletags(tag):
    assert validate_battletag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "fragment"),
    [
        ("", "required"),
        ("Name1234", "must look like"),
        ("#1234", "must look like"),
        ("Name#", "must look like"),
        ("Na me#1234", "a space"),
        ("Name#12", "3–12 digits"),
        ("Name#1234567890123", "3–12 digits"),
        ("Name#12a4", "3–12 digits"),
        ("Name#١٢٣٤", "3–12 digits"),  # Arabic-Indic digits are not 0-9
        ("ThirteenChars#1234", "at most 12"),
        ("a#b#1234", "must look like"),
        ("x';--#1234", "`'`"),
    ],
)
def test_invalid_battletags(tag, fragment):
    with pytest.raises(ValidationError) as caught:
        validate_battletag(tag)
    assert fragment in caught.value.user_message


def test_alt_names_are_optional_distinct_and_validated():
    assert validate_alt_names("Main", [None, ""]) == ()
    assert validate_alt_names("Main", ["Alt1", "Alt2"]) == ("Alt1", "Alt2")
    with pytest.raises(ValidationError, match="repeats"):
        validate_alt_names("Main", ["MAIN", None])
    with pytest.raises(ValidationError, match="repeats"):
        validate_alt_names("Main", ["Alt1", "alt1"])
    with pytest.raises(ValidationError) as caught:
        validate_alt_names("Main", ["ok_alt", "x"])
    assert caught.value.field == "alt_name_2"


@pytest.mark.parametrize(
    ("text", "code"), [("FR", "FR"), ("fr", "FR"), ("France", "FR"), ("DEU", "DE")]
)
def test_country_accepts_codes_and_names(text, code):
    assert validate_country(text) == code


@pytest.mark.parametrize("text", ["", "XX", "Atlantis", "'; DROP TABLE players;--", "🇫🇷"])
def test_unknown_country_is_refused(text):
    with pytest.raises(ValidationError, match="country"):
        validate_country(text)


def test_region_must_be_known():
    assert validate_region("eu", REGIONS) == "EU"
    with pytest.raises(ValidationError) as caught:
        validate_region("Mars", REGIONS)
    assert "EU (Europe)" in caught.value.user_message


def test_profile_changes_list_only_what_changed():
    draft = validate_profile(
        player_name="Neo",
        battletag="Neo#1234",
        alt_names=["Trinity"],
        country="FR",
        region="EU",
        regions=REGIONS,
    )
    assert isinstance(draft, ProfileDraft)
    before = Player(1, "neo", player_name="Neo", battletag="Old#999", country="FR", region="EU")
    assert profile_changes(before, draft) == [
        ("battletag", "Old#999", "Neo#1234"),
        ("alt_name_1", None, "Trinity"),
    ]
    assert len(profile_changes(None, draft)) == 5
