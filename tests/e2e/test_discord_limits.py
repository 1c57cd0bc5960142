"""The limit checks the fake Discord applies, on hand-made payloads (no network)."""

from __future__ import annotations

from localdiscord.rules import (
    check_autocomplete,
    check_command,
    check_embeds,
    check_message,
    check_message_components,
    check_modal,
)


def button(label: str, custom_id: str | None = None, **extra) -> dict:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id or label, **extra}


def row(*components: dict) -> dict:
    return {"type": 1, "components": list(components)}


def test_a_plain_message_is_fine() -> None:
    assert check_message({"content": "hi"}, new=True) == []


def test_empty_new_message_but_not_an_empty_edit() -> None:
    assert check_message({"content": ""}, new=True) == [
        "empty message: no content, embeds, components or files"]
    assert check_message({"content": ""}, new=False) == []


def test_embed_limits() -> None:
    fields = [{"name": f"f{n}", "value": "v"} for n in range(26)]
    problems = check_embeds([{"title": "t" * 257, "fields": fields,
                              "footer": {"text": "f" * 2049}}])
    assert problems == ["embeds[0].title is 257 characters (max 256)",
                        "embeds[0] has 26 fields (max 25)",
                        "embeds[0].footer.text is 2049 characters (max 2048)"]
    assert check_embeds([{"fields": [{"name": "", "value": "v"}]}]) == [
        "embeds[0].fields[0] has an empty name or value"]


def test_embeds_share_a_6000_character_budget() -> None:
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    assert check_embeds(embeds) == ["embeds hold 6001 characters in all (max 6000)"]
    assert check_embeds([{}] * 11) == ["11 embeds (max 10)"]


def test_component_layout() -> None:
    assert check_message_components([row(*[button(str(n)) for n in range(6)])]) == [
        "components[0] has 6 buttons (max 5)"]
    assert check_message_components([row(button("a"))] * 6)[0] == "6 action rows (max 5)"
    assert check_message_components([row(button("a", "x"), button("b", "x"))]) == [
        "components[0].components[1]: custom_id 'x' is used twice"]
    assert check_message_components([row(button("a", "c" * 101))]) == [
        "components[0].components[0].custom_id is 101 characters (max 100)"]


def test_link_buttons_need_no_custom_id() -> None:
    link = {"type": 2, "style": 5, "label": "Docs", "url": "https://example.invalid"}
    assert check_message_components([row(link)]) == []
    no_id = {"type": 2, "style": 1, "label": "Go"}
    assert check_message_components([row(no_id)]) == [
        "components[0].components[0] has no custom_id"]


def test_select_menus() -> None:
    options = [{"label": str(n), "value": str(n)} for n in range(26)]
    select = {"type": 3, "custom_id": "s", "options": options}
    assert "components[0].components[0] has 26 options (1..25)" in check_message_components(
        [row(select)])
    assert check_message_components([row(select | {"options": options[:3]}, button("b"))]) == [
        "components[0]: a select menu must be alone in its row"]


def test_autocomplete_choices() -> None:
    assert check_autocomplete({"choices": [{"name": "a", "value": "a"}] * 25}) == []
    assert check_autocomplete({"choices": [{"name": "a", "value": "a"}] * 26}) == [
        "26 autocomplete choices (max 25)"]
    assert check_autocomplete({"choices": [{"name": "n" * 101, "value": "v"}]}) == [
        "choices[0].name is 101 characters (max 100)"]


def test_modal_limits() -> None:
    text_input = {"type": 4, "custom_id": "name", "label": "Name", "style": 1,
                  "max_length": 32}
    good = {"title": "Set up", "custom_id": "m", "components": [row(text_input)]}
    assert check_modal(good) == []
    assert check_modal(good | {"components": [row(text_input)] * 6})[0] == (
        "modal has 6 components (1..5)")
    too_long = text_input | {"label": "L" * 46, "max_length": 4001}
    assert check_modal(good | {"components": [row(too_long)]}) == [
        "modal input 0.label is 46 characters (max 45)",
        "modal input 0.max_length is 4001 (1..4000)"]
    assert check_modal(good | {"custom_id": ""}) == ["modal has no custom_id"]


def test_command_registration() -> None:
    good = {"name": "setcountry", "description": "Change your country", "options": [
        {"type": 3, "name": "country", "description": "Country", "required": True,
         "autocomplete": True}]}
    assert check_command(good) == []
    assert check_command(good | {"name": "SetCountry"}) == [
        "command 'SetCountry': name must be 1..32 lowercase letters, digits, - or _"]
    optional_first = good | {"options": [
        {"type": 3, "name": "a", "description": "a"},
        {"type": 3, "name": "b", "description": "b", "required": True}]}
    assert check_command(optional_first) == [
        "/setcountry option 'b': a required option follows an optional one"]
