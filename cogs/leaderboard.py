"""/leaderboard: one page of the ranked ladder, with buttons and selects to page and filter.

The cog needs two attributes on the bot: `standings` (a `ladder.standings.Standings` kept
current by bot.py's wiring) and the `LadderConfig`, as `ladder_config`. Every page is read
from the in-memory standings, so a click costs no query; only players whose first rating
arrived since start-up have their name read once, through `bot.leaderboard` (the service).

The components are stateless, like the match buttons: everything a click needs is in its
custom_id, and `ComponentRouter` hands every "lb:..." interaction to `LeaderboardCog`. Nothing
is registered with nextcord per message, so a thousand /leaderboard calls keep nothing alive
and old leaderboards keep working after a restart. A custom_id reads

    lb:<owner uid>:<page>:<race>:<rank>:<country>:<best race only>:<action>

with race and rank as 1-based positions in the ladder's races and rank letters (0: all), the
country as a number from its two letters (0: all; see `_country_number`) and best as 0 or 1:
all digits, so the log's route of a click is just "lb:<action>". Any client can send any
custom_id, so every part is checked on the way back in.

Every text is in the reader's language (i18n): the page is drawn inside the pipeline, which has
set the clicker's. Names (players', races', countries') are shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import nextcord
from babel import numbers
from nextcord.ext import commands

from cogs.client import interaction_data, user_of
from cogs.components import SEPARATOR, custom_id, frozen_view, sent_rows
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from cogs.seasons import archive_embed
from cogs.web_links import leaderboard_link
from i18n import N_, _, babel_locale, current, format_number, n_
from ladder.countries import country_name
from ladder.errors import GuardRefusal, ValidationError
from ladder.guards import Access
from ladder.standings import LeaderboardFilters, LeaderboardPage, Standings

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

PREFIX = "lb"
PAGE_SIZE = 10
ALL = "*"  # the "all" option of a select; no race, letter or country code looks like it
MAX_OPTIONS = 25  # Discord's limit per select
OPTION_LISTS_KEPT = 256  # select option lists kept built (LeaderboardRenderer._cached)
BOARDS_KEPT = 256  # boards kept drawn between two changes of the standings (render)
NAME_SHOWN = 32  # characters of a player's name shown on a line
EMBED_DESCRIPTION = 4096
PAGE_INPUT = "number"  # the custom_id of the jump modal's text input
MAX_PAGE = 999_999_999

# What a custom_id can ask for: the buttons, the selects, and the jump modal's submit ("page").
BUTTONS = ("prev", "next", "jump", "best", "clear")
SELECTS = ("race", "rank", "country")
ACTIONS = frozenset((*BUTTONS, *SELECTS, "page"))

_NUMBER = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII digits, no leading zero
_STATE_PARTS = 6  # owner, page, race, rank, country, best
NOT_RECOGNISED = ValidationError(
    "custom_id",
    N_("This leaderboard button is not recognised. Please run `/leaderboard` again."),
)
NOT_YOURS = GuardRefusal(
    "owner", N_("This leaderboard belongs to someone else. Run `/leaderboard` to get your own.")
)
NOT_OFFERED = ValidationError(
    "values", N_("That choice is not on the leaderboard's list. Please pick one from the menu.")
)


def flag(country: str | None) -> str:
    """Return the flag emoji of an alpha-2 code, or a white flag if there is none."""
    if not country or len(country) != 2 or not country.isalpha() or not country.isascii():
        return "🏳️"
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in country.upper())


def _percent(share: float) -> str:
    """A rank's share of the ladder (21 → "21%", 0.5 → "0.5%") as the reader writes percents;
    kept as configured, not rounded to whole percents."""
    return numbers.format_percent(
        share / 100, locale=babel_locale(current()), decimal_quantization=False
    )


def _name(name: str) -> str:
    shown = name if len(name) <= NAME_SHOWN else name[: NAME_SHOWN - 1] + "…"
    return nextcord.utils.escape_markdown(shown)


def describe_filters(filters: LeaderboardFilters, race_names: Mapping[str, str]) -> str:
    """Return the active filters as one line, or '' when none is set."""
    parts = []
    if filters.race is not None:
        parts.append(race_names.get(filters.race, filters.race))
    if filters.country is not None:
        parts.append(f"{flag(filters.country)} {country_name(filters.country)}")
    if filters.rank is not None:
        # Translators: a leaderboard filter; {rank} is a rank's letter or name, e.g. A.
        parts.append(_("rank {rank}", rank=filters.rank))
    if filters.best_race_only:
        parts.append(_("best race only"))
    return " · ".join(parts)


# Translators: one leaderboard line: place, flag, name, race, rating (a trailing ? marks a
# provisional one), rank letter; W, L, D: wins, losses, draws.
ENTRY_LINE = N_(
    "`#{position}` {flag} **{name}** · {race} · {mmr} MMR · rank **{rank}** · "
    "{wins}W {losses}L {draws}D"
)


def leaderboard_embed(
    page: LeaderboardPage, race_names: Mapping[str, str], inactive_days: int
) -> nextcord.Embed:
    """The embed of one page: a line per entry, the filters on top, the page in the footer."""
    lines = []
    shown = describe_filters(page.filters, race_names)
    if shown:
        lines.append(_("*Filters: {filters}*", filters=shown) + "\n")
    for e in page.entries:
        lines.append(
            _(
                ENTRY_LINE,
                position=format_number(e.position),
                flag=flag(e.country),
                name=_name(e.name),
                race=race_names.get(e.race, e.race),
                mmr=e.shown_mmr,  # digits as the rating is shown everywhere, e.g. `1523?`
                rank=e.rank,
                wins=format_number(e.wins),
                losses=format_number(e.losses),
                draws=format_number(e.draws),
            )
        )
    if not page.entries:
        lines.append(
            _("No ranked players match these filters.")
            if page.ranked_entries
            else _("Nobody is ranked yet: play a match with `/queue` to appear here.")
        )
    if page.left_out:
        lines.append(
            "\n"
            + n_(
                "*{count} more active entry is left out: provisional (shown as `1523?`) or too "
                "few games this season.*",
                "*{count} more active entries are left out: provisional (shown as `1523?`) or "
                "too few games this season.*",
                page.left_out,
            )
        )
    if any(e.provisional for e in page.entries):
        lines.append("\n" + _("*`1523?`: a provisional rating, still finding its level.*"))
    description = "\n".join(lines)[:EMBED_DESCRIPTION]
    embed = nextcord.Embed(
        title=_("Ladder leaderboard"), description=description, colour=INFO_COLOUR
    )
    footer = (
        _(
            "Page {page} of {pages}",
            page=format_number(page.page),
            pages=format_number(page.total_pages),
        ),
        # Translators: how many entries the filters leave shown, of all ranked entries.
        n_(
            "{shown} shown of {count} ranked",
            "{shown} shown of {count} ranked",
            page.ranked_entries,
            shown=format_number(page.total_entries),
        ),
        n_(
            "unranked: no game in the last {count} day",
            "unranked: no game in the last {count} days",
            inactive_days,
        ),
    )
    embed.set_footer(text=" · ".join(footer))
    return embed


# --- the state a custom_id carries ----------------------------------------------------------

_NO_FILTERS = LeaderboardFilters()


@dataclass(frozen=True, slots=True)
class BoardState:
    """What one leaderboard message shows: whose it is, which page, which filters."""

    owner: int
    page: int = 1
    filters: LeaderboardFilters = _NO_FILTERS


def _country_number(code: str) -> int:
    """'AA' → 1 … 'ZZ' → 676: two letters as one number, so a custom_id stays all digits."""
    first, second = (ord(c) - ord("A") for c in code)
    return first * 26 + second + 1


def _country_code(number: int) -> str:
    first, second = divmod(number - 1, 26)
    return chr(ord("A") + first) + chr(ord("A") + second)


def encode_state(
    state: BoardState, action: str, races: Sequence[str], letters: Sequence[str]
) -> str:
    """The custom_id of `action` on a leaderboard showing `state`."""
    f = state.filters
    return custom_id(
        PREFIX,
        state.owner,
        state.page,
        0 if f.race is None else races.index(f.race) + 1,
        0 if f.rank is None else letters.index(f.rank) + 1,
        0 if f.country is None else _country_number(f.country),
        int(f.best_race_only),
        action,
    )


def decode_state(
    parts: Sequence[str], races: Sequence[str], letters: Sequence[str]
) -> tuple[BoardState, str]:
    """Read the parts after "lb:" back into (state, action); ValidationError if any is off."""
    if len(parts) != _STATE_PARTS + 1 or parts[-1] not in ACTIONS:
        raise NOT_RECOGNISED
    if not all(_NUMBER.fullmatch(p) for p in parts[:_STATE_PARTS]):
        raise NOT_RECOGNISED
    owner, page, race, rank, country, best = (int(p) for p in parts[:_STATE_PARTS])
    if not (
        0 < owner < 1 << 64
        and 1 <= page <= MAX_PAGE
        and race <= len(races)
        and rank <= len(letters)
        and country <= 26 * 26
        and best in (0, 1)
    ):
        raise NOT_RECOGNISED
    code = _country_code(country) if country else None
    if code is not None and country_name(code) == code:  # two letters, but no country
        raise NOT_RECOGNISED
    filters = LeaderboardFilters(
        race=races[race - 1] if race else None,
        country=code,
        rank=letters[rank - 1] if rank else None,
        best_race_only=bool(best),
    )
    return BoardState(owner, page, filters), parts[-1]


# --- rendering ------------------------------------------------------------------------------

# An action row as Discord's JSON, and each of its components with the action its custom_id ends in.
_Row = tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]


def _with_actions(row: dict[str, Any]) -> _Row:
    return row, [(c, c["custom_id"].rsplit(SEPARATOR, 1)[1]) for c in row["components"]]


@dataclass(frozen=True, slots=True)
class Board:
    """What a leaderboard message is made of, read from the standings at one moment."""

    state: BoardState  # with the page clamped to the pages there are
    page: LeaderboardPage
    embed: nextcord.Embed
    view: nextcord.ui.View


class LeaderboardRenderer:
    """Turns a BoardState into a page, its embed and its routed components."""

    def __init__(
        self,
        standings: Standings,
        race_names: Mapping[str, str],
        shares: Mapping[str, float],
        web_base_url: str | None = None,
    ) -> None:
        self.standings = standings
        self.web_base_url = web_base_url
        self.race_names = race_names  # in the reader's language at each look-up (not a copy)
        self.races = tuple(self.race_names)
        self.shares = dict(shares)
        # Built select options by (select, chosen value, what it lists): the same few lists
        # are drawn for every /leaderboard and click, and building one (33 options with their
        # flags) cost more than reading the page. Cleared when full (country counts change).
        self._options: dict[tuple[object, ...], list[nextcord.SelectOption]] = {}
        self._drawn: dict[tuple[object, ...], tuple[nextcord.Embed, list[_Row]]] = {}
        self._drawn_version = -1

    def page(self, state: BoardState, now: datetime) -> LeaderboardPage:
        return self.standings.page(state.filters, state.page, PAGE_SIZE, now=now)

    def render(self, state: BoardState, now: datetime) -> Board:
        """Read the page `state` asks for at `now` and build the message that shows it.

        Every /leaderboard opens on the same first page, so a board is drawn once per change
        of the standings and language: its embed (shared, never changed once drawn) and its
        components as Discord's JSON, whose custom_ids are then written for `state.owner`.
        """
        page = self.page(state, now)
        state = replace(state, page=page.page)
        key = (self.standings.version, current(), page.filters, page.page, page.left_out)
        if key[0] != self._drawn_version or len(self._drawn) >= BOARDS_KEPT:
            self._drawn.clear()
            self._drawn_version = key[0]
        drawn = self._drawn.get(key)
        if drawn is None:
            embed = leaderboard_embed(page, self.race_names, self.standings.inactive_days)
            embed.url = leaderboard_link(self.web_base_url, state.filters, page.page)
            view = self.components(replace(state, owner=0), page, now)
            json = cast(list[dict[str, Any]], view.to_components())
            drawn = self._drawn[key] = (embed, [_with_actions(row) for row in json])
        embed, template = drawn
        rows = [
            {**row, "components": [{**c, "custom_id": self.cid(state, a)} for c, a in actions]}
            for row, actions in template
        ]
        return Board(state, page, embed, sent_rows(rows))

    def cid(self, state: BoardState, action: str) -> str:
        return encode_state(state, action, self.races, self.standings.letters)

    def country_choices(self, chosen: str | None, now: datetime) -> list[tuple[str, int]]:
        """The countries the select offers: the most ranked players first, the chosen one kept."""
        top = self.standings.countries(now, limit=MAX_OPTIONS - 1)
        if chosen is not None and chosen not in {code for code, _ in top}:
            top = [*top[: MAX_OPTIONS - 2], (chosen, 0)]  # keep the chosen one visible
        return top

    def _cached(
        self, key: tuple[object, ...], build: Callable[[], list[nextcord.SelectOption]]
    ) -> list[nextcord.SelectOption]:
        """The options `build` makes, made once per `key` and language (a new list of the same
        options)."""
        key = (current(), *key)
        options = self._options.get(key)
        if options is None:
            if len(self._options) >= OPTION_LISTS_KEPT:
                self._options.clear()
            options = self._options[key] = build()
        return list(options)

    def components(
        self, state: BoardState, page: LeaderboardPage, now: datetime
    ) -> nextcord.ui.View:
        f = state.filters
        countries = tuple(self.country_choices(f.country, now))
        race: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
            custom_id=self.cid(state, "race"),
            placeholder=_("Race"),
            row=0,
            options=self._cached(
                ("race", f.race),
                lambda: _options(
                    _("All races"),
                    [(code, name, None, None) for code, name in self.race_names.items()],
                    f.race,
                ),
            ),
        )
        rank: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
            custom_id=self.cid(state, "rank"),
            placeholder=_("Rank"),
            row=1,
            options=self._cached(
                ("rank", f.rank, self.standings.letters),
                lambda: _options(
                    _("All ranks"),
                    [
                        (
                            letter,
                            # Translators: a rank's letter or name, e.g. A.
                            _("Rank {letter}", letter=letter),
                            # Translators: {share} is a percentage, e.g. 21%.
                            _(
                                "{share} of ranked entries",
                                share=_percent(self.shares.get(letter, 0)),
                            ),
                            None,
                        )
                        for letter in self.standings.letters
                    ],
                    f.rank,
                ),
            ),
        )
        country: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
            custom_id=self.cid(state, "country"),
            placeholder=_("Country"),
            row=2,
            options=self._cached(
                ("country", f.country, countries),
                lambda: _options(
                    _("All countries"),
                    [
                        (
                            code,
                            country_name(code),
                            n_("{count} ranked player", "{count} ranked players", count),
                            flag(code),
                        )
                        for code, count in countries
                    ],
                    f.country,
                ),
            ),
        )
        grey = nextcord.ButtonStyle.secondary
        best = f.best_race_only
        buttons: tuple[nextcord.ui.Button[nextcord.ui.View], ...] = (
            nextcord.ui.Button(
                label=_("Previous"),
                custom_id=self.cid(state, "prev"),
                row=3,
                style=grey,
                disabled=not page.has_previous,
            ),
            nextcord.ui.Button(
                label=_("Next"),
                custom_id=self.cid(state, "next"),
                row=3,
                style=grey,
                disabled=not page.has_next,
            ),
            nextcord.ui.Button(
                label=_("Jump to page"),
                custom_id=self.cid(state, "jump"),
                row=3,
                style=grey,
                disabled=page.total_pages <= 1,
            ),
            nextcord.ui.Button(
                label=_("Best race only: on") if best else _("Best race only: off"),
                custom_id=self.cid(state, "best"),
                row=3,
                style=nextcord.ButtonStyle.success if best else grey,
            ),
            nextcord.ui.Button(
                label=_("Clear filters"),
                custom_id=self.cid(state, "clear"),
                row=3,
                style=nextcord.ButtonStyle.danger,
                disabled=f.is_default,
            ),
        )
        view = frozen_view(race, rank, country, *buttons)
        # nextcord 3.2.0 stores even a stopped view sent as an ephemeral reply, with a 15-minute
        # timeout task that keeps it alive; a view that does not "prevent updates" is not stored.
        view.prevent_update = False
        return view

    def jump_modal(self, state: BoardState, total_pages: int) -> nextcord.ui.Modal:
        """The "Jump to page" form; its submit is routed by a custom_id carrying `state`."""
        modal = nextcord.ui.Modal(
            title=_("Jump to page")[:45],
            custom_id=self.cid(state, "page"),
            timeout=None,
            auto_defer=False,
        )
        modal.add_item(
            nextcord.ui.TextInput(
                label=_("Page number (1 to {pages})", pages=format_number(total_pages))[:45],
                custom_id=PAGE_INPUT,
                placeholder=str(min(state.page + 1, total_pages)),
                required=True,
                max_length=12,
            )
        )
        modal.stop()  # shown only: nextcord must not keep it waiting for the submit
        return modal

    def offered(self, action: str, state: BoardState, now: datetime) -> set[str]:
        """The values the select `action` may send."""
        if action == "race":
            return {ALL, *self.races}
        if action == "rank":
            return {ALL, *self.standings.letters}
        # Every country with ranked players, not only the 24 shown: the order may have changed
        # between the page being drawn and the pick.
        codes = {code for code, _ in self.standings.countries(now)}
        codes.update(code for code, _ in self.country_choices(state.filters.country, now))
        return {ALL, *codes}


def _options(
    all_label: str, items: list[tuple[str, str, str | None, str | None]], chosen: str | None
) -> list[nextcord.SelectOption]:
    """An "all" option, then (value, label, description, emoji) items, at most 25 in all."""
    options = [nextcord.SelectOption(label=all_label, value=ALL, default=chosen is None)]
    for value, label, description, emoji in items[: MAX_OPTIONS - 1]:
        extra: dict[str, str] = {}  # nextcord sends a None description or emoji as null
        if description:
            extra["description"] = description[:100]
        if emoji:
            extra["emoji"] = emoji
        options.append(
            nextcord.SelectOption(
                label=label[:100], value=value[:100], default=value == chosen, **extra
            )
        )
    return options


# What people put between the thousands of a number, in the languages the bot writes in
# ("1,000", "1.000", "1 000" with a space or a no-break space, "1_000").
_GROUPING = str.maketrans("", "", ",. _'\u00a0\u202f")


def parse_page_number(text: str, total_pages: int) -> int:
    """Return the page typed into the jump modal, or raise ValidationError saying what's wrong."""
    cleaned = text.strip().translate(_GROUPING)
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValidationError(
            "page",
            N_("Please type a page number from 1 to {pages}, like `3`."),
            pages=format_number(total_pages),
        )
    number = int(cleaned)
    if not 1 <= number <= total_pages:
        raise ValidationError(
            "page",
            N_("There is no page {page}: pages go from 1 to {pages}."),
            page=format_number(number),
            pages=format_number(total_pages),
        )
    return number


def _chosen(interaction: nextcord.Interaction, offered: set[str]) -> str | None:
    """The one value a select sent, if it is one it offers (None for "all")."""
    values = interaction_data(interaction).get("values")
    if not isinstance(values, list) or len(values) != 1 or values[0] not in offered:
        raise NOT_OFFERED
    return None if values[0] == ALL else values[0]


def _typed_page(interaction: nextcord.Interaction) -> str:
    """What the player typed into the jump modal."""
    for row in interaction_data(interaction).get("components") or []:
        for component in row.get("components") or []:
            if component.get("custom_id") == PAGE_INPUT:
                return str(component.get("value") or "")
    raise NOT_RECOGNISED


class LeaderboardCog(commands.Cog):
    """Receives /leaderboard and the routed clicks on every leaderboard message."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        config = bot.ladder_config
        self.renderer = LeaderboardRenderer(
            bot.standings,
            {race.code: race.name for race in config.races},
            dict(config.ranks.shares),
            bot.web_base_url,
        )
        bot.router.register(PREFIX, self._on_component, access=Access.TERMS)  # as /leaderboard

    @nextcord.slash_command(
        name="leaderboard", description=N_("See the ranked ladder, with filters")
    )
    @guarded(Access.TERMS)
    async def leaderboard(
        self,
        interaction: nextcord.Interaction,
        season: int | None = nextcord.SlashOption(
            description=N_("A past season's number, to see its final standings"),
            required=False,
            min_value=1,
        ),
    ) -> None:
        """The ranked ladder: page through it, filter by race, rank, country or best race."""
        if season is not None and self.bot.seasons is not None:
            uid = user_of(interaction).id
            past, entries, names = await self.bot.seasons.standings_of(season, uid=uid)
            embed = archive_embed(past, entries, names, self.renderer.race_names)
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        await self.bot.leaderboard.name_new_players()
        board = self.renderer.render(BoardState(user_of(interaction).id), datetime.now(UTC))
        await interaction.response.send_message(embed=board.embed, view=board.view, ephemeral=True)

    async def _on_component(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """Apply one click (or the jump modal's submit) to the state in its custom_id."""
        renderer = self.renderer
        state, action = decode_state(parts, renderer.races, self.bot.standings.letters)
        if user_of(interaction).id != state.owner:
            raise NOT_YOURS
        now = datetime.now(UTC)
        f = state.filters
        if action == "jump":
            total = renderer.page(state, now).total_pages
            await interaction.response.send_modal(renderer.jump_modal(state, total))
            return
        if action == "prev":
            state = replace(state, page=max(1, state.page - 1))
        elif action == "next":
            state = replace(state, page=state.page + 1)
        elif action == "page":
            total = renderer.page(state, now).total_pages
            state = replace(state, page=parse_page_number(_typed_page(interaction), total))
        elif action == "clear":
            state = BoardState(state.owner)
        else:  # a new filter starts at its first page
            if action == "best":
                f = replace(f, best_race_only=not f.best_race_only)
            else:
                chosen = _chosen(interaction, renderer.offered(action, state, now))
                picked: dict[str, Any] = {action: chosen}  # race, rank or country: str | None
                f = replace(f, **picked)
            state = BoardState(state.owner, 1, f)
        await self.bot.leaderboard.name_new_players()
        board = renderer.render(state, now)
        if interaction.message is not None:
            await interaction.response.edit_message(embed=board.embed, view=board.view)
        else:  # a modal submitted where the message is not known: answer with a new page
            await interaction.response.send_message(
                embed=board.embed, view=board.view, ephemeral=True
            )
