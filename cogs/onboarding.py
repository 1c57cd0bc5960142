"""/termsofservice and /setup: the two steps a newcomer takes before playing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import nextcord
from nextcord.ext import commands

from cogs.embeds import profile_draft_embed, terms_embed
from cogs.pipeline import guarded
from cogs.responses import SUCCESS_COLOUR
from cogs.views import LadderModal, LadderView
from ladder.countries import country_pages
from ladder.errors import ValidationError
from ladder.guards import Access
from ladder.players import (
    NAME_MAX,
    Player,
    validate_alt_names,
    validate_battletag,
    validate_name,
    validate_profile,
)

log = logging.getLogger(__name__)


class OnboardingCog(commands.Cog):
    """Receives the onboarding commands and defers the rules to ladder.players."""

    def __init__(self, bot) -> None:
        self.bot = bot

    @nextcord.slash_command(name="termsofservice", description="Read and accept the ladder's terms")
    @guarded(Access.ANYONE)
    async def termsofservice(self, interaction: nextcord.Interaction) -> None:
        player = await self.bot.players.get(interaction.user.id)
        await interaction.response.send_message(
            embed=terms_embed(self.bot.terms_text, player), view=TermsView(), ephemeral=True
        )

    @nextcord.slash_command(name="setup", description="Set up your ladder profile")
    @guarded(Access.TERMS)
    async def setup(self, interaction: nextcord.Interaction) -> None:
        player = await self.bot.players.get(interaction.user.id)
        await interaction.response.send_modal(
            SetupModal(interaction.user.id, SetupDraft.from_player(player))
        )


class TermsView(LadderView):
    """Accept / Decline under the terms. Persistent: the clicker decides for themself."""

    access = Access.ANYONE

    def __init__(self) -> None:
        super().__init__(owner_id=None, timeout=None)
        # Copies sent with /termsofservice must not replace the instance registered at start
        # (nextcord would file them over it); that one answers every click, forever.
        self.prevent_update = False

    @nextcord.ui.button(label="Accept", style=nextcord.ButtonStyle.green, custom_id="tos:accept")
    async def accept(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        await self._decide(interaction, accepted=True)

    @nextcord.ui.button(label="Decline", style=nextcord.ButtonStyle.grey, custom_id="tos:decline")
    async def decline(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        await self._decide(interaction, accepted=False)

    async def _decide(self, interaction: nextcord.Interaction, *, accepted: bool) -> None:
        user = interaction.user
        player = await interaction.client.players.record_terms(user.id, user.name, accepted)
        await interaction.response.edit_message(
            embed=terms_embed(interaction.client.terms_text, player), view=None
        )


@dataclass(frozen=True, slots=True)
class SetupDraft:
    """What the player has entered so far in /setup; validated in full on Confirm."""

    player_name: str = ""
    battletag: str = ""
    alt_names: tuple[str, ...] = ()
    country: str | None = None
    region: str | None = None

    @classmethod
    def from_player(cls, player: Player | None) -> SetupDraft:
        if player is None:
            return cls()
        return cls(
            player.player_name or "",
            player.battletag or "",
            player.alt_names,
            player.country,
            player.region,
        )


class SetupModal(LadderModal):
    """Step 1 of /setup: names and battletag, prefilled from the record or the draft."""

    access = Access.TERMS

    def __init__(self, owner_id: int, draft: SetupDraft) -> None:
        super().__init__(title="Set up your ladder profile", custom_id="setup:modal", timeout=900)
        self.owner_id = owner_id
        self.draft = draft
        alts = (*draft.alt_names, "", "")
        self.player_name = self._field("Player name", "setup:player_name", draft.player_name)
        self.battletag = self._field("Battletag (Name#1234)", "setup:battletag", draft.battletag)
        self.alt_1 = self._field("Alt name 1 (optional)", "setup:alt_1", alts[0], required=False)
        self.alt_2 = self._field("Alt name 2 (optional)", "setup:alt_2", alts[1], required=False)

    def _field(
        self, label: str, custom_id: str, value: str, *, required: bool = True
    ) -> nextcord.ui.TextInput:
        field = nextcord.ui.TextInput(
            label=label,
            custom_id=custom_id,
            default_value=value or None,
            required=required,
            max_length=32,
            placeholder=f"letters, digits, _ or - ({NAME_MAX} at most)"
            if "name" in custom_id
            else "Name#1234",
        )
        self.add_item(field)
        return field

    async def submit(self, interaction: nextcord.Interaction) -> None:
        name = validate_name(self.player_name.value or "")
        battletag = validate_battletag(self.battletag.value or "")
        alts = validate_alt_names(name, [self.alt_1.value, self.alt_2.value])
        await interaction.client.players.check_names_free(
            interaction.user.id, name, alts, battletag
        )
        draft = replace(self.draft, player_name=name, battletag=battletag, alt_names=alts)
        view = SetupView(interaction.user.id, draft, interaction.client.regions)
        view.interaction = interaction
        if interaction.message is not None:  # "Restart" on an earlier preview: update it
            await interaction.response.edit_message(embed=view.embed(), view=view)
        else:
            await interaction.response.send_message(embed=view.embed(), view=view, ephemeral=True)


class SetupView(LadderView):
    """Steps 2 and 3 of /setup: country and region, then Confirm / Restart / Cancel."""

    access = Access.TERMS

    def __init__(self, owner_id: int, draft: SetupDraft, regions: dict[str, str]) -> None:
        super().__init__(owner_id)
        self.draft = draft
        self.regions = regions
        pages = country_pages()
        page = next((i for i, (_, codes) in enumerate(pages) if draft.country in dict(codes)), None)
        self.page_select = nextcord.ui.StringSelect(
            custom_id="setup:country_page",
            placeholder="Country: first pick its place in the alphabet",
            options=[
                nextcord.SelectOption(label=label, value=str(i), default=i == page)
                for i, (label, _) in enumerate(pages)
            ],
            row=0,
        )
        self.page_select.callback = self._pick_page
        self.country_select = nextcord.ui.StringSelect(
            custom_id="setup:country", placeholder="Then your country", row=1
        )
        self.country_select.callback = self._pick_country
        self._fill_countries(pages[page][1] if page is not None else [])
        self.region_select = nextcord.ui.StringSelect(
            custom_id="setup:region",
            placeholder="Your region",
            options=[
                nextcord.SelectOption(label=name, value=code, default=code == draft.region)
                for code, name in regions.items()
            ],
            row=2,
        )
        self.region_select.callback = self._pick_region
        for item in (self.page_select, self.country_select, self.region_select):
            self.add_item(item)
        self.confirm.disabled = not self._complete()

    def _fill_countries(self, codes: list[tuple[str, str]]) -> None:
        if not codes:
            codes = [("--", "Pick a part of the alphabet above first")]
        self.country_select.options = [
            nextcord.SelectOption(label=name[:100], value=code, default=code == self.draft.country)
            for code, name in codes
        ]
        self.country_select.disabled = codes[0][0] == "--"

    def _complete(self) -> bool:
        return bool(self.draft.country and self.draft.region)

    def embed(self) -> nextcord.Embed:
        return profile_draft_embed(self.draft, self.regions)

    async def _refresh(self, interaction: nextcord.Interaction) -> None:
        self.confirm.disabled = not self._complete()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    async def _pick_page(self, interaction: nextcord.Interaction) -> None:
        page = int(_offered(self.page_select, "a part of the alphabet"))
        for option in self.page_select.options:
            option.default = option.value == str(page)
        self._fill_countries(country_pages()[page][1])
        await self._refresh(interaction)

    async def _pick_country(self, interaction: nextcord.Interaction) -> None:
        self.draft = replace(self.draft, country=_offered(self.country_select, "a country"))
        for option in self.country_select.options:
            option.default = option.value == self.draft.country
        await self._refresh(interaction)

    async def _pick_region(self, interaction: nextcord.Interaction) -> None:
        self.draft = replace(self.draft, region=_offered(self.region_select, "a region"))
        for option in self.region_select.options:
            option.default = option.value == self.draft.region
        await self._refresh(interaction)

    @nextcord.ui.button(
        label="Confirm", style=nextcord.ButtonStyle.green, custom_id="setup:confirm", row=3
    )
    async def confirm(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        draft = validate_profile(
            player_name=self.draft.player_name,
            battletag=self.draft.battletag,
            alt_names=list(self.draft.alt_names),
            country=self.draft.country or "",
            region=self.draft.region or "",
            regions=self.regions,
        )
        user = interaction.user
        changes = await interaction.client.players.save_profile(user.id, user.name, draft)
        self.stop()
        embed = self.embed()
        embed.title = "Profile saved"
        embed.colour = SUCCESS_COLOUR
        # The draft's "pick your country and region below" no longer holds: nothing is below.
        embed.description = "Your profile is saved as shown."
        embed.set_footer(
            text=f"{len(changes)} change(s) saved. Next: /queue to play, /profile to see it."
            if changes
            else "Nothing changed."
        )
        await interaction.response.edit_message(embed=embed, view=None)

    @nextcord.ui.button(
        label="Restart", style=nextcord.ButtonStyle.grey, custom_id="setup:restart", row=3
    )
    async def restart(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        self.stop()
        await interaction.response.send_modal(SetupModal(interaction.user.id, self.draft))

    @nextcord.ui.button(
        label="Cancel", style=nextcord.ButtonStyle.red, custom_id="setup:cancel", row=3
    )
    async def cancel(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Setup cancelled; nothing was saved.", embed=None, view=None
        )


def _offered(select: nextcord.ui.StringSelect, what: str) -> str:
    """The value picked in `select`, which must be one of its options (a client can send any)."""
    values = select.values
    if len(values) != 1 or values[0] not in {option.value for option in select.options}:
        raise ValidationError("select", f"Please pick {what} from the list.")
    return values[0]
