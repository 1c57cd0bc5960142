"""The bot's wiring, checked without Discord: cogs, commands, the pipeline marker, custom_ids.

The bot is built as ``bot.py`` builds it, against a database in a temporary folder, and never
connects. Checked here, for every cog in ``cogs.bot.COGS``:

* it loads;
* no two application commands share a qualified name (``admin resolve``);
* every slash command and subcommand passes through the pipeline (``@guarded``), except a group
  that only holds subcommands;
* the bot keeps no nextcord views (none registered, no View or Modal subclass in the cogs);
* every custom_id of the components its cogs send, drawn with the largest ids they can carry,
  fits Discord's 100 characters, names one component of its message, and goes to a route the
  ComponentRouter has;
* the match and queue messages are written in their reader's language, each player's own;
* /help and the onboarding components are built in the language current when they are built,
  and every player command's description is a msgid the catalogs can hold.
"""

from __future__ import annotations

import dataclasses
import gettext
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nextcord
import pytest
from babel.messages.extract import extract

import i18n
from cogs.admin import confirm_buttons
from cogs.admin_ui import page_buttons
from cogs.bot import COGS, LadderBot
from cogs.embeds import help_embed, help_entries, profile_draft_embed, profile_embed, terms_embed
from cogs.leaderboard import BoardState
from cogs.match_ui import leave_queue_button, match_buttons, match_embed, queue_embed
from cogs.matches import LEFT_QUEUE_TEXT, _shown_in_another_language, digest
from cogs.onboarding import setup_modal, setup_preview, terms_buttons
from cogs.pipeline import RULE_ATTRIBUTE
from cogs.queue_menu import QueueMenu, menu_view
from ladder.guards import CommandRule
from ladder.players import Player, SetupDraft
from ladder.rating import Result
from ladder.records import MatchRecord, QueueStatus
from ladder.reports import MatchStatus, Outcome
from tests.support.offline_bot import offline_bot

CUSTOM_ID_LIMIT = 100
ROUTER_SEPARATOR = ":"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[LadderBot]:
    """A LadderBot with all its cogs, on a tmp database; not connected to anything."""
    async with offline_bot(tmp_path) as built:
        yield built


def _all_commands(bot: LadderBot) -> list[nextcord.BaseApplicationCommand]:
    found = {id(c): c for c in bot.get_all_application_commands()}
    for cog in bot.cogs.values():
        found.update({id(c): c for c in cog.application_commands})
    return list(found.values())


def _walk(command: Any) -> Iterator[Any]:
    """The command and its subcommands and groups, depth first."""
    yield command
    for child in (getattr(command, "children", None) or {}).values():
        yield from _walk(child)


def _kind(command: Any) -> Any:
    top = command
    while getattr(top, "parent_cmd", None) is not None:
        top = top.parent_cmd
    return getattr(top, "type", None)


async def test_every_cog_loads(bot: LadderBot) -> None:
    assert COGS, "cogs.bot.COGS is empty"
    assert {type(cog) for cog in bot.cogs.values()} == set(COGS)
    assert len(bot.cogs) == len(COGS)
    assert _all_commands(bot), "no application command was registered"


async def test_no_two_commands_share_a_qualified_name(bot: LadderBot) -> None:
    names = Counter(
        (_kind(command), command.qualified_name)
        for top in _all_commands(bot)
        for command in _walk(top)
    )
    shared = [name for (_, name), count in names.items() if count > 1]
    assert not shared, f"commands registered twice: {shared}"


async def test_every_command_runs_through_the_pipeline(bot: LadderBot) -> None:
    checked, unguarded = [], []
    for top in _all_commands(bot):
        for command in _walk(top):
            if getattr(command, "children", None):
                continue  # a group: Discord never calls it, its subcommands are checked
            rule = getattr(command.callback, RULE_ATTRIBUTE, None)
            checked.append(command.qualified_name)
            if not isinstance(rule, CommandRule):
                unguarded.append(command.qualified_name)
    assert checked
    assert not unguarded, f"commands that skip the pipeline (no @guarded): {unguarded}"


def _sent_components(bot: LadderBot) -> dict[str, list[dict[str, Any]]]:
    """Every kind of message with components the cogs send, as Discord receives them."""
    big = (1 << 64) - 1  # the largest Discord id, and of SQLite rowids, far above any real one
    config = bot.ladder_config
    draft = SetupDraft("Alice", "Alice#1234", ("Al", "Ally"), "FR", next(iter(bot.regions)))
    full_menu = QueueMenu(big, config.race_codes, config.map_pool[: config.max_vetoes])
    sent = {
        "terms": terms_buttons(),
        "setup preview": setup_preview(big, big, draft, bot.regions, 0)[1],
        "setup preview, no page": setup_preview(big, big, SetupDraft(), bot.regions)[1],
        "queue menu": menu_view(full_menu, config),
        "admin question": confirm_buttons(big),
        "leave queue": leave_queue_button(),
        "disputes pages": page_buttons(999_999, 999_999),
        "leaderboard": bot.get_cog("LeaderboardCog")
        .renderer.render(BoardState(big), datetime.now(UTC))
        .view,
    }
    components = {name: view.to_components() for name, view in sent.items() if view}
    components["setup modal"] = [setup_modal(big, big, draft).to_dict()]
    return components


def _custom_ids(components: list[dict[str, Any]]) -> list[str]:
    """The custom_ids of components, rows and modals included, text inputs left out."""
    found = []
    for component in components:
        if component.get("type") != 4 and "custom_id" in component:  # 4: a modal's text input
            found.append(component["custom_id"])
        found += _custom_ids(component.get("components", []))
    return found


async def test_no_nextcord_view_or_modal_is_kept(bot: LadderBot) -> None:
    assert not bot.views(persistent=True) and not bot.views(persistent=False)
    kept = [
        f"{cls.__module__}.{cls.__qualname__}"
        for base in (nextcord.ui.View, nextcord.ui.Modal)
        for cls in base.__subclasses__()
        if cls.__module__.startswith("cogs.")
    ]
    assert kept == ["cogs.matches.EvidenceModal"], kept  # shown only: its submit is routed


async def test_sent_custom_ids_fit_and_are_routed(bot: LadderBot) -> None:
    prefixes = bot.router.prefixes
    assert {"match", "disputes", "queue", "queue_view", "lb", "tos", "setup", "admin"} <= prefixes
    for name, components in _sent_components(bot).items():
        ids = _custom_ids(components)
        assert ids, name
        too_long = [c for c in ids if len(c) > CUSTOM_ID_LIMIT]
        assert not too_long, f"{name}: custom_ids over {CUSTOM_ID_LIMIT} characters: {too_long}"
        repeated = [c for c, n in Counter(ids).items() if n > 1]
        assert not repeated, f"{name} uses a custom_id twice: {repeated}"
        unrouted = [c for c in ids if c.split(ROUTER_SEPARATOR, 1)[0] not in prefixes]
        assert not unrouted, f"{name}: custom_ids no route answers: {unrouted}"


async def test_help_is_built_from_the_registered_commands(bot: LadderBot) -> None:
    """/help lists every player command from its handler and guard: a new command is one file."""
    entries = help_entries(bot.get_all_application_commands())
    names = [name for name, _ in entries]
    player_commands = {
        f"/{c.name}"
        for c in _all_commands(bot)
        if isinstance(c, nextcord.SlashApplicationCommand)
        and getattr(c.callback, RULE_ATTRIBUTE, None) is not None
        and getattr(c.callback, RULE_ATTRIBUTE).access.name != "ADMIN"
    }
    assert set(names) == player_commands and len(names) == len(player_commands)
    assert "/admin" not in names
    assert names[0] == "/termsofservice" and names[-1] == "/help"
    text = dict(entries)
    assert "Start here" in text["/termsofservice"]
    assert text["/queue"].endswith("Needs /setup.")
    assert text["/profile"].endswith("Needs the terms.")
    assert all(t.strip() for t in text.values())


# The modules whose commands are converted to translated text (the others are being converted).
TRANSLATED_COGS = frozenset({"cogs.onboarding", "cogs.profile", "cogs.queue"})


def _msgids(module: str) -> set[str]:
    """The msgids Babel extracts from a module, as scripts/translations.sh extract does."""
    path = sys.modules[module].__file__
    assert path is not None
    with open(path, "rb") as source:
        found = extract("python", source, {"N_": None, "_": None})
        return {message for _line, message, _c, _ctx in found if isinstance(message, str)}


async def test_player_command_descriptions_are_msgids(bot: LadderBot) -> None:
    """/help shows each description translated: it must be extracted (``description=N_(...)``)."""
    checked = []
    for command in _all_commands(bot):
        rule = getattr(command.callback, RULE_ATTRIBUTE, None)
        module = command.callback.__module__
        if rule is None or rule.access.name == "ADMIN" or module not in TRANSLATED_COGS:
            continue
        found = _msgids(module)
        texts = [command.description, *(o.description for o in command.options.values())]
        missing = [t for t in texts if t not in found]
        assert not missing, f"/{command.name}: not wrapped in N_(): {missing}"
        checked.append(command.name)
    assert {"termsofservice", "setup", "profile", "setcountry", "language", "help", "queue"} <= set(
        checked
    )


class _Marked(gettext.NullTranslations):
    """A catalog that 'translates' every text by marking it, so a test sees what went through."""

    def gettext(self, message: str) -> str:
        return f"‹{message}›"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"‹{msgid1 if n == 1 else msgid2}›"


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spanish 'translates' by marking; the other languages stay English."""
    monkeypatch.setattr(
        i18n,
        "catalog",
        lambda language: _Marked() if language == "es" else gettext.NullTranslations(),
    )


def _texts(components: Any) -> list[str]:
    """Labels and placeholders of components, rows and modals (their titles too)."""
    found = []
    for component in components:
        found += [component[k] for k in ("label", "placeholder", "title") if component.get(k)]
        found += _texts(component.get("components", []))
    return found


async def test_help_is_in_the_current_language(bot: LadderBot, marked: None) -> None:
    english = dict(help_entries(bot.get_all_application_commands()))
    with i18n.speaking("es"):
        spanish = dict(help_entries(bot.get_all_application_commands()))
        title = help_embed(spanish.items()).title
    assert english.keys() == spanish.keys()  # command names are not translated
    assert title == "‹ladderbot commands›"
    assert spanish["/help"] == "‹What each ladder command does›"
    assert spanish["/profile"] == "‹Show your ladder profile› ‹Needs the terms.›"
    assert spanish["/queue"].endswith(" ‹Needs /setup.›")
    assert english["/profile"] == "Show your ladder profile Needs the terms."


async def test_onboarding_components_are_built_in_the_current_language(
    bot: LadderBot, marked: None
) -> None:
    """Labels, placeholders and titles are read when a message is built, not at import."""
    draft = SetupDraft("Alice", "Alice#1234", ("Al",), "FR", next(iter(bot.regions)))
    with i18n.speaking("es"):
        built = {
            "terms": terms_buttons().to_components(),
            "preview": setup_preview(1, 2, draft, bot.regions, 0)[1].to_components(),
            "modal": [setup_modal(1, 2, draft).to_dict()],
        }
    for name, components in built.items():
        texts = _texts(components)
        assert texts, name
        # Option labels are country and region names; everything else is ours.
        assert all(t.startswith("‹") for t in texts), (name, texts)
    english = _texts(terms_buttons().to_components())
    assert english == ["Accept", "Decline"]


def test_onboarding_and_profile_embeds_render_in_every_language() -> None:
    """Every placeholder is filled in each language (no KeyError from a catalog's msgstr)."""
    moment = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)
    player = Player(
        discord_uid=1,
        discord_name="alice",
        player_name="Alice",
        battletag="Alice#1234",
        country="FR",
        region="EU",
        accepted_tos=True,
        accepted_tos_at=moment,
        completed_setup=True,
    )
    draft = SetupDraft("Alice", "Alice#1234", (), None, None)
    for language in i18n.LOCALES:
        with i18n.speaking(language):
            embeds = [
                terms_embed("Play fair.", player),
                profile_draft_embed(draft, {"EU": "Europe"}),
                profile_embed(player, {"EU": "Europe"}),
            ]
        assert all(e.title for e in embeds), language
        assert embeds[0].fields[0].value and "<t:" in embeds[0].fields[0].value
        assert embeds[2].footer.text and "2026" in embeds[2].footer.text, language


# --- the match and queue messages, each in its reader's language ----------------------------

NOW = datetime.now(UTC)
MATCH = MatchRecord(
    id=7,
    status=MatchStatus.AWAITING_CONFIRMATION,
    player1_uid=11,
    player1_race="bw_terran",
    player1_mmr=1500,
    player2_uid=12,
    player2_race="bw_zerg",
    player2_mmr=1480,
    map="Eclipse",
    created_at=NOW,
    confirm_deadline=NOW,
    report_deadline=NOW,
)


def _shown_texts(embed: nextcord.Embed, view: nextcord.ui.View | None) -> list[str]:
    """An embed's title, description, field names and values, and its buttons' labels."""
    shown = embed.to_dict()
    texts = [shown["title"], shown.get("description")]
    texts += [text for f in shown.get("fields", []) for text in (f["name"], f["value"])]
    texts += [getattr(item, "label", None) for item in (view.children if view else [])]
    return [text for text in texts if text]


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"status": MatchStatus.IN_PROGRESS, "player1_report": Outcome.WIN},
        {"status": MatchStatus.FINISHED, "result": Result.P2_WIN, "mmr_change": -20},
        {"status": MatchStatus.DISPUTED},
        {"status": MatchStatus.ABORTED},
    ],
)
async def test_match_and_queue_texts_are_translated(
    bot: LadderBot, marked: None, state: dict[str, Any]
) -> None:
    """Everything the bot words is translated; names, the map and timestamps are as they are."""
    config = bot.ladder_config
    match = dataclasses.replace(MATCH, **state)
    with i18n.speaking("es"):
        embed = match_embed(match, 11, {11: "Alice", 12: "Bob"}, config)
        texts = _shown_texts(embed, match_buttons(match, 11, 2))
        joined = QueueStatus(11, ("bw_terran",), (), NOW, 0)
        texts += _shown_texts(queue_embed(joined, config), leave_queue_button())
        texts += [i18n._(text) for text in LEFT_QUEUE_TEXT.values()]
    as_is = {"Bob", "Eclipse", config.race("bw_terran").name, f"<t:{int(NOW.timestamp())}:R>"}
    assert [text for text in texts if not text.startswith("‹") and text not in as_is] == []
    if "mmr_change" in state:
        assert "‹{result} · your MMR -20›".format(result="‹Bob won›") in texts


async def test_each_player_reads_their_match_message_in_their_language(
    bot: LadderBot, marked: None
) -> None:
    """Both players get a message of their own: Alice chose Spanish, Bob reads English."""
    await bot.players.set_language(11, "Alice", "es")
    alice = await bot.notifier.render(MATCH, 11)
    bob = await bot.notifier.render(MATCH, 12)
    status = "‹Match found — confirm before the deadline›"
    assert alice["embed"].title == f"‹Match #7: {status}›"
    assert alice["view"].children[0].label == "‹Confirm›"
    assert bob["embed"].title == "Match #7: Match found — confirm before the deadline"
    confirm, abort = (b.label for b in bob["view"].children)
    assert confirm == "Confirm" and abort.startswith("Abort (") and abort.endswith("this month)")


async def test_a_message_showing_the_match_in_another_language_is_left_alone(
    bot: LadderBot, marked: None
) -> None:
    """After a restart the bot may not know a player's app language yet: a message written in
    it that shows the match as stored needs no edit into English; a changed match does."""
    draw = await bot.notifier._drawing(MATCH, 11)
    spanish = digest(draw("es"))
    assert digest(draw("en")) != spanish
    assert _shown_in_another_language(draw, "en", spanish)
    on = await bot.notifier._drawing(dataclasses.replace(MATCH, status=MatchStatus.IN_PROGRESS), 11)
    assert not _shown_in_another_language(on, "en", spanish)
