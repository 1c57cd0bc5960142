"""The /queue menu's state in its custom_ids: read back exactly, anything else is expired."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from babel.support import NullTranslations
from hypothesis import given
from hypothesis import strategies as st

import i18n
from app.settings import REPO_ROOT
from cogs.components import EXPIRED
from cogs.queue_menu import (
    QueueMenu,
    decode,
    encode,
    menu_embed,
    menu_view,
    pick_races,
    pick_vetoes,
    vetoable,
)
from ladder.config import load_ladder_config
from ladder.errors import ValidationError

CONFIG = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
BIG = (1 << 64) - 1


@given(
    owner=st.integers(1, BIG),
    races=st.sets(st.sampled_from(CONFIG.race_codes)),
    vetoes=st.sets(st.sampled_from(vetoable(CONFIG)), max_size=CONFIG.max_vetoes),
    action=st.sampled_from(["races", "vetoes", "join", "cancel"]),
)
def test_a_menu_is_read_back_from_its_custom_id(owner, races, vetoes, action) -> None:
    menu = QueueMenu(
        owner,
        tuple(c for c in CONFIG.race_codes if c in races),
        tuple(m for m in vetoable(CONFIG) if m in vetoes),
    )
    custom = encode(menu, action, CONFIG)
    assert len(custom) <= 100
    prefix, *parts = custom.split(":")
    assert prefix == "queue_view" and all(p.isdigit() for p in parts[1:])
    assert decode(parts, CONFIG) == (menu, action)


KEY = encode(QueueMenu(1, ("bw_terran",), ()), "join", CONFIG).rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "parts",
    [
        ["join", "ab" * 16],  # an earlier release's view id
        ["join", "1", "1", "0"],  # no ladder key
        ["fly", "1", "1", "0", KEY],
        ["join", "0", "1", "0", KEY],  # no owner
        ["join", "01", "1", "0", KEY],  # not as we write numbers
        ["join", "1", "²", "0", KEY],
        ["join", "1", str(1 << len(CONFIG.races)), "0", KEY],  # a race the ladder lacks
        ["join", "1", "1", str(1 << len(vetoable(CONFIG))), KEY],  # a map it lacks
        ["join", str(1 << 64), "1", "0", KEY],
    ],
)
def test_anything_else_is_expired(parts: list[str]) -> None:
    assert decode(["join", "1", "1", "0", KEY], CONFIG)[1] == "join"  # the well-formed one
    with pytest.raises(type(EXPIRED)):
        decode(parts, CONFIG)


def test_a_menu_drawn_for_another_ladder_is_expired() -> None:
    menu = QueueMenu(7, ("bw_zerg",), ("Eclipse",))
    parts = encode(menu, "join", CONFIG).split(":")[1:]
    renamed = tuple("Eclipse II" if m == "Eclipse" else m for m in CONFIG.map_pool)
    with pytest.raises(type(EXPIRED)):
        decode(parts, dataclasses.replace(CONFIG, map_pool=renamed))


def test_picks_must_be_offered() -> None:
    assert pick_races(["sc2_zerg", "bw_terran"], CONFIG) == ("bw_terran", "sc2_zerg")
    assert pick_vetoes(["Eclipse", "Polypoid"], CONFIG) == ("Polypoid", "Eclipse")
    assert pick_vetoes([], CONFIG) == ()
    for bad in ([], ["bw_terran", "chess"]):
        with pytest.raises(ValidationError):
            pick_races(bad, CONFIG)
    too_many = list(vetoable(CONFIG)[: CONFIG.max_vetoes + 1])
    for bad in (["Atlantis"], too_many):
        with pytest.raises(ValidationError):
            pick_vetoes(bad, CONFIG)


async def test_the_menu_shows_its_state() -> None:
    view = menu_view(QueueMenu(5, ("bw_zerg",), ("Eclipse",)), CONFIG)
    races, vetoes = (item for item in view.children if hasattr(item, "options"))
    assert [o.value for o in races.options if o.default] == ["bw_zerg"]
    assert [o.value for o in vetoes.options if o.default] == ["Eclipse"]


class Marked(NullTranslations):
    """A catalog that translates every message by putting it in ⟦⟧, to show what went through."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{singular if n == 1 else plural}⟧"


async def test_the_menu_is_written_in_the_readers_language(monkeypatch) -> None:
    real = i18n.catalog
    monkeypatch.setattr(i18n, "catalog", lambda lang: Marked() if lang == "ko" else real(lang))
    menu = QueueMenu(5, ("bw_zerg",), ())
    with i18n.speaking("ko"):
        embed = menu_embed(menu, CONFIG).to_dict()
        view = menu_view(menu, CONFIG)
    ours = [embed["title"], embed["description"]]
    ours += [f["name"] for f in embed["fields"]] + [embed["fields"][1]["value"]]  # "none"
    for item in view.children:
        shown: dict[str, Any] = dict(item.to_component_dict())
        ours.append(shown.get("label") or shown["placeholder"])
    assert all(text.startswith("⟦") for text in ours), ours
    assert embed["fields"][0]["value"] == CONFIG.race("bw_zerg").name  # a name, as it is
    assert f"(up to {CONFIG.max_vetoes})⟧" in getattr(view.children[1], "placeholder", "")
    # English, the source, by default.
    assert menu_embed(menu, CONFIG).title == "Queue for a match"
