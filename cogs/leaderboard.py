"""/leaderboard: one page of the ranked ladder, with buttons and selects to page and filter.

The cog needs two attributes on the bot: `standings` (a `ladder.standings.Standings` kept
current by the lead's wiring) and the `LadderConfig`, as `ladder_config` (or as `ladder`, if
that is one). Every page is read from the in-memory standings, so a click costs no query;
only players whose first rating arrived since start-up have their name read once, through
`bot.leaderboard` (or a repository on `bot.db`).

Every component gets an explicit custom_id ("lb:next", ...): nextcord 3.2.0 sends none
otherwise and Discord rejects that. `cogs.views.LadderView` appends the view's id to each, so
two players' open leaderboards never take each other's clicks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import nextcord
from nextcord.ext import commands

from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from cogs.views import LadderModal, LadderView
from ladder.config import LadderConfig
from ladder.countries import country_name
from ladder.errors import ValidationError
from ladder.guards import Access
from ladder.standings import LeaderboardFilters, LeaderboardPage, Standings
from storage.leaderboard import LeaderboardRepository

PAGE_SIZE = 10
ALL = "*"  # the "all" option of a select; no race, letter or country code looks like it
MAX_OPTIONS = 25  # Discord's limit per select
NAME_SHOWN = 32  # characters of a player's name shown on a line
EMBED_DESCRIPTION = 4096


def flag(country: str | None) -> str:
    """Return the flag emoji of an alpha-2 code, or a white flag if there is none."""
    if not country or len(country) != 2 or not country.isalpha() or not country.isascii():
        return "🏳️"
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in country.upper())


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
        parts.append(f"rank {filters.rank}")
    if filters.best_race_only:
        parts.append("best race only")
    return " · ".join(parts)


def leaderboard_embed(
    page: LeaderboardPage, race_names: Mapping[str, str], inactive_days: int
) -> nextcord.Embed:
    """The embed of one page: a line per entry, the filters on top, the page in the footer."""
    lines = []
    shown = describe_filters(page.filters, race_names)
    if shown:
        lines.append(f"*Filters: {shown}*\n")
    for e in page.entries:
        lines.append(
            f"`#{e.position}` {flag(e.country)} **{_name(e.name)}** · "
            f"{race_names.get(e.race, e.race)} · {e.mmr} MMR · rank **{e.rank}** · "
            f"{e.wins}W {e.losses}L {e.draws}D"
        )
    if not page.entries:
        lines.append(
            "No ranked players match these filters."
            if page.ranked_entries
            else "Nobody is ranked yet: play a match with `/queue` to appear here."
        )
    description = "\n".join(lines)[:EMBED_DESCRIPTION]
    embed = nextcord.Embed(title="Ladder leaderboard", description=description, colour=INFO_COLOUR)
    embed.set_footer(
        text=f"Page {page.page:,} of {page.total_pages:,} · {page.total_entries:,} shown of "
        f"{page.ranked_entries:,} ranked · unranked: no game in the last {inactive_days} days"
    )
    return embed


class LeaderboardView(LadderView):
    """The caller's leaderboard: Previous / Next / Jump, race, rank and country selects,
    a best-race-only toggle and Clear filters; each click edits the same message."""

    def __init__(
        self,
        owner_id: int,
        standings: Standings,
        ladder: LadderConfig,
        repository: LeaderboardRepository | None = None,
    ) -> None:
        super().__init__(owner_id)
        self.standings = standings
        self.repository = repository  # to name players first met in a rating change
        self.ladder = ladder
        self.race_names = {race.code: race.name for race in ladder.races}
        self.filters = LeaderboardFilters()
        self.page_number = 1
        self.total_pages = 1

        def cid(name: str) -> str:
            return f"lb:{name}"  # LadderView.add_item makes it unique to this view

        self.race_select = nextcord.ui.StringSelect(
            custom_id=cid("race"), placeholder="Race", row=0
        )
        self.race_select.callback = self._pick_race
        self.rank_select = nextcord.ui.StringSelect(
            custom_id=cid("rank"), placeholder="Rank", row=1
        )
        self.rank_select.callback = self._pick_rank
        self.country_select = nextcord.ui.StringSelect(
            custom_id=cid("country"), placeholder="Country", row=2
        )
        self.country_select.callback = self._pick_country
        grey = nextcord.ButtonStyle.secondary
        self.prev_button = nextcord.ui.Button(
            label="Previous", custom_id=cid("prev"), row=3, style=grey
        )
        self.prev_button.callback = self._previous
        self.next_button = nextcord.ui.Button(
            label="Next", custom_id=cid("next"), row=3, style=grey
        )
        self.next_button.callback = self._next
        self.jump_button = nextcord.ui.Button(
            label="Jump to page", custom_id=cid("jump"), row=3, style=grey
        )
        self.jump_button.callback = self._jump
        self.best_button = nextcord.ui.Button(label="Best race only", custom_id=cid("best"), row=3)
        self.best_button.callback = self._toggle_best
        self.clear_button = nextcord.ui.Button(
            label="Clear filters", custom_id=cid("clear"), row=3, style=nextcord.ButtonStyle.danger
        )
        self.clear_button.callback = self._clear
        self.modal_id = f"lb:jump:{self.id}"
        for item in (
            self.race_select,
            self.rank_select,
            self.country_select,
            self.prev_button,
            self.next_button,
            self.jump_button,
            self.best_button,
            self.clear_button,
        ):
            self.add_item(item)

    # --- rendering -------------------------------------------------------------------------

    def render(self, now: datetime | None = None) -> nextcord.Embed:
        """Read the current page at `now` (default: the clock), set the components, build the
        embed."""
        now = now or datetime.now(UTC)
        page = self.standings.page(self.filters, self.page_number, PAGE_SIZE, now=now)
        self.page_number = page.page
        self.total_pages = page.total_pages
        self._sync(page, now)
        return leaderboard_embed(page, self.race_names, self.standings.inactive_days)

    def _sync(self, page: LeaderboardPage, now: datetime) -> None:
        f = self.filters
        self.prev_button.disabled = not page.has_previous
        self.next_button.disabled = not page.has_next
        self.jump_button.disabled = page.total_pages <= 1
        self.best_button.style = (
            nextcord.ButtonStyle.success if f.best_race_only else nextcord.ButtonStyle.secondary
        )
        self.best_button.label = "Best race only: on" if f.best_race_only else "Best race only: off"
        self.clear_button.disabled = f.is_default
        self.race_select.options = _options(
            "All races",
            [(code, name, None, None) for code, name in self.race_names.items()],
            f.race,
        )
        shares = dict(self.ladder.ranks.shares)
        self.rank_select.options = _options(
            "All ranks",
            [
                (letter, f"Rank {letter}", f"{shares.get(letter, 0):g}% of ranked entries", None)
                for letter in self.standings.letters
            ],
            f.rank,
        )
        top = self.standings.countries(now, limit=MAX_OPTIONS - 1)
        if f.country is not None and f.country not in {code for code, _ in top}:
            top = [*top[: MAX_OPTIONS - 2], (f.country, 0)]  # keep the chosen one visible
        self.country_select.options = _options(
            "All countries",
            [
                (code, country_name(code), f"{count:,} ranked players", flag(code))
                for code, count in top
            ],
            f.country,
        )

    async def refresh_names(self) -> None:
        """Read the names of players who got their first rating since the standings loaded."""
        if self.repository is not None:
            await self.repository.name_new_players(self.standings)

    async def _show(self, interaction: nextcord.Interaction) -> None:
        await self.refresh_names()
        embed = self.render()
        if interaction.message is not None:
            await interaction.response.edit_message(embed=embed, view=self)
        else:  # a modal submitted where the message is not known: answer with a new page
            await interaction.response.send_message(embed=embed, view=self, ephemeral=True)

    async def _set_filters(self, interaction: nextcord.Interaction, **changes: object) -> None:
        values = {
            "race": self.filters.race,
            "country": self.filters.country,
            "rank": self.filters.rank,
            "best_race_only": self.filters.best_race_only,
        }
        values.update(changes)
        self.filters = LeaderboardFilters(**values)  # type: ignore[arg-type]
        self.page_number = 1  # a new filter starts at its first page
        await self._show(interaction)

    # --- callbacks -------------------------------------------------------------------------

    async def _previous(self, interaction: nextcord.Interaction) -> None:
        self.page_number -= 1
        await self._show(interaction)

    async def _next(self, interaction: nextcord.Interaction) -> None:
        self.page_number += 1
        await self._show(interaction)

    async def _jump(self, interaction: nextcord.Interaction) -> None:
        await interaction.response.send_modal(JumpModal(self))

    async def _toggle_best(self, interaction: nextcord.Interaction) -> None:
        await self._set_filters(interaction, best_race_only=not self.filters.best_race_only)

    async def _clear(self, interaction: nextcord.Interaction) -> None:
        self.filters = LeaderboardFilters()
        self.page_number = 1
        await self._show(interaction)

    async def _pick_race(self, interaction: nextcord.Interaction) -> None:
        await self._set_filters(interaction, race=_chosen(self.race_select))

    async def _pick_rank(self, interaction: nextcord.Interaction) -> None:
        await self._set_filters(interaction, rank=_chosen(self.rank_select))

    async def _pick_country(self, interaction: nextcord.Interaction) -> None:
        await self._set_filters(interaction, country=_chosen(self.country_select))


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


def _chosen(select: nextcord.ui.StringSelect) -> str | None:
    value = select.values[0] if select.values else ALL
    return None if value == ALL else value


def parse_page_number(text: str, total_pages: int) -> int:
    """Return the page typed into the jump modal, or raise ValidationError saying what's wrong."""
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("_", "")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValidationError(
            "page", f"Please type a page number from 1 to {total_pages:,}, like `3`."
        )
    number = int(cleaned)
    if not 1 <= number <= total_pages:
        raise ValidationError(
            "page", f"There is no page {number:,}: pages go from 1 to {total_pages:,}."
        )
    return number


class JumpModal(LadderModal):
    """Asks for a page number and shows that page in the view it came from."""

    def __init__(self, view: LeaderboardView) -> None:
        super().__init__(title="Jump to page", custom_id=view.modal_id, timeout=300)
        self.leaderboard = view
        self.number = nextcord.ui.TextInput(
            label=f"Page number (1 to {view.total_pages:,})"[:45],
            custom_id=f"{view.modal_id}:number",
            placeholder=str(min(view.page_number + 1, view.total_pages)),
            required=True,
            max_length=12,
        )
        self.add_item(self.number)

    async def callback(self, interaction: nextcord.Interaction) -> None:
        self.leaderboard.page_number = parse_page_number(
            self.number.value or "", self.leaderboard.total_pages
        )
        self.leaderboard.interaction = interaction
        await self.leaderboard._show(interaction)


class LeaderboardCog(commands.Cog):
    """Receives /leaderboard and shows the first page."""

    def __init__(self, bot) -> None:
        self.bot = bot

    @nextcord.slash_command(name="leaderboard", description="See the ranked ladder, with filters")
    @guarded(Access.TERMS)
    async def leaderboard(self, interaction: nextcord.Interaction) -> None:
        bot = self.bot
        view = LeaderboardView(
            interaction.user.id, bot.standings, bot.ladder_config, bot.leaderboard
        )
        await view.refresh_names()
        embed = view.render()
        view.interaction = interaction
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
