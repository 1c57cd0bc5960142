"""/termsofservice and /setup: the two steps a newcomer takes before playing.

Every component here is routed by its custom_id (cogs/components.py); nothing is kept in
memory per message, and old messages keep working after a restart:

    tos:accept, tos:decline                         anyone: the clicker decides for themself
    setup:modal:<uid>:<draft id>                    the /setup modal (draft 0: a new /setup)
    setup:<action>:<uid>:<draft id>:<page>          the preview's selects and buttons

The draft (names, battletag, alts, country, region) is a row of `setup_drafts`, written by the
modal's submit and each pick (SetupDraftService); <page> is the country page the preview shows
(0: none yet, else its index + 1). Only the player whose uid is in the custom_id may use it.
A draft that is gone (confirmed, cancelled, replaced by a newer /setup, or over an hour old)
answers "This has expired".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.components import (
    EXPIRED,
    custom_id,
    frozen_modal,
    frozen_view,
    selected,
    text_inputs,
    uid_part,
)
from cogs.embeds import profile_draft_embed, terms_embed
from cogs.pipeline import guarded
from cogs.responses import SUCCESS_COLOUR
from i18n import N_, _, n_
from ladder.countries import country_pages
from ladder.errors import ValidationError
from ladder.guards import Access
from ladder.players import (
    NAME_MAX,
    SetupDraft,
    validate_alt_names,
    validate_battletag,
    validate_name,
    validate_profile,
)

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

TERMS = "tos"
SETUP = "setup"
NEW_DRAFT = 0  # the draft id of a /setup modal: the draft is made when it is submitted
# The modal's text inputs (their custom_ids are not routed: they name the fields).
NAME_INPUT, BATTLETAG_INPUT = "setup:player_name", "setup:battletag"
ALT_INPUTS = ("setup:alt_1", "setup:alt_2")
PICKS = ("country_page", "country", "region")
BUTTONS = ("confirm", "restart", "cancel")
_ID = re.compile(r"[1-9][0-9]{0,17}")  # a draft id: ASCII digits, small enough for SQLite
_PAGE = re.compile(r"0|[1-9][0-9]{0,2}")
# What a select asks for when a client sends a value it did not offer (one sentence per select).
_PICK_FROM_LIST = {
    "country_page": N_("Please pick a part of the alphabet from the list."),
    "country": N_("Please pick a country from the list."),
    "region": N_("Please pick a region from the list."),
}
# Discord's limits on what a modal shows: its title and its text inputs' labels.
MODAL_TEXT = 45


class OnboardingCog(commands.Cog):
    """Receives the onboarding commands and their routed components; the rules are in
    ladder.players, the record in PlayerService, the draft in SetupDraftService."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        # The terms' buttons: anyone may press them on any terms message (never banned).
        bot.router.register(TERMS, self._on_terms)
        # As /setup: the terms may have been declined since the preview was shown.
        bot.router.register(SETUP, self._on_setup, access=Access.TERMS, owner=uid_part(1))

    @nextcord.slash_command(
        name="termsofservice", description=N_("Read and accept the ladder's terms. Start here.")
    )
    @guarded(Access.ANYONE)
    async def termsofservice(self, interaction: nextcord.Interaction) -> None:
        """Read the ladder's terms and accept them. **Start here.**"""
        player = await self.bot.players.get(user_of(interaction).id)
        await interaction.response.send_message(
            embed=terms_embed(self.bot.terms_text, player), view=terms_buttons(), ephemeral=True
        )

    @nextcord.slash_command(name="setup", description=N_("Set up your ladder profile"))
    @guarded(Access.TERMS)
    async def setup(self, interaction: nextcord.Interaction) -> None:
        """Set your player name, battletag, alt names, country and region."""
        player = await self.bot.players.get(user_of(interaction).id)
        await interaction.response.send_modal(
            setup_modal(user_of(interaction).id, NEW_DRAFT, SetupDraft.from_player(player))
        )

    # --- the terms' buttons ------------------------------------------------------------------

    async def _on_terms(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        if parts not in (["accept"], ["decline"]):
            raise EXPIRED
        user = user_of(interaction)
        accepted = parts[0] == "accept"
        player = await self.bot.players.record_terms(user.id, user.name, accepted)
        await interaction.response.edit_message(
            embed=terms_embed(self.bot.terms_text, player), view=None
        )

    # --- /setup: the modal's submit and the preview ------------------------------------------

    async def _on_setup(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """One submit or click on a /setup modal or preview (its owner checked already)."""
        action, draft_id, page = _parse_setup(parts)
        if action == "modal":
            await self._submit(interaction, draft_id)
            return
        uid = user_of(interaction).id
        drafts = self.bot.setup_drafts
        draft = await drafts.get(draft_id, uid)
        if draft is None:
            raise EXPIRED
        regions = self.bot.regions
        if action == "country_page":
            pages = country_pages()
            offered: Collection[str] = [str(i) for i in range(len(pages))]
            page = int(_offered(interaction, offered, action))
        elif action in ("country", "region"):
            offered = _countries_on(page) if action == "country" else regions
            picked = _offered(interaction, offered, action)
            draft = await drafts.pick(draft_id, uid, action, picked)
            if draft is None:
                raise EXPIRED
        elif action == "confirm":
            await self._confirm(interaction, draft_id, draft)
            return
        elif action == "restart":
            await interaction.response.send_modal(setup_modal(uid, draft_id, draft))
            return
        else:  # cancel
            await drafts.discard(draft_id, uid)
            await interaction.response.edit_message(
                content=_("Setup cancelled; nothing was saved."), embed=None, view=None
            )
            return
        embed, view = setup_preview(uid, draft_id, draft, regions, page)
        await interaction.response.edit_message(embed=embed, view=view)

    async def _submit(self, interaction: nextcord.Interaction, draft_id: int) -> None:
        """The modal: check the names, keep them in the draft, show (or update) the preview."""
        uid = user_of(interaction).id
        values = text_inputs(interaction)
        name = validate_name(values.get(NAME_INPUT, ""))
        battletag = validate_battletag(values.get(BATTLETAG_INPUT, ""))
        alts = validate_alt_names(name, [values.get(field, "") for field in ALT_INPUTS])
        await self.bot.players.check_names_free(uid, name, alts, battletag)
        drafts = self.bot.setup_drafts
        draft: SetupDraft | None
        if draft_id == NEW_DRAFT:  # from /setup: country and region come from the record
            base = SetupDraft.from_player(await self.bot.players.get(uid))
            draft = replace(base, player_name=name, battletag=battletag, alt_names=alts)
            draft_id = await drafts.start(uid, draft)
        else:  # "Restart" on a preview: its country and region are kept
            draft = await drafts.rename(draft_id, uid, name, battletag, alts)
            if draft is None:
                raise EXPIRED
        embed, view = setup_preview(uid, draft_id, draft, self.bot.regions)
        if interaction.message is not None:  # "Restart" on an earlier preview: update it
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def _confirm(
        self, interaction: nextcord.Interaction, draft_id: int, draft: SetupDraft
    ) -> None:
        regions = self.bot.regions
        profile = validate_profile(
            player_name=draft.player_name,
            battletag=draft.battletag,
            alt_names=list(draft.alt_names),
            country=draft.country or "",
            region=draft.region or "",
            regions=regions,
        )
        user = user_of(interaction)
        changes = await self.bot.players.save_profile(user.id, user.name, profile)
        # Saved: the draft has done its job (a second Confirm finds it gone: "expired").
        await self.bot.setup_drafts.discard(draft_id, user.id)
        embed = profile_draft_embed(draft, regions)
        embed.title = _("Profile saved")
        embed.colour = SUCCESS_COLOUR
        # The draft's "pick your country and region below" no longer holds: nothing is below.
        embed.description = _("Your profile is saved as shown.")
        embed.set_footer(
            text=n_(
                "{count} change saved. Next: /queue to play, /profile to see it.",
                "{count} changes saved. Next: /queue to play, /profile to see it.",
                len(changes),
            )
            if changes
            else _("Nothing changed.")
        )
        await interaction.response.edit_message(embed=embed, view=None)


# --- rendering: pure functions from a draft to what Discord shows ------------------------------


def terms_buttons() -> nextcord.ui.View:
    """Accept / Decline under the terms, in the current language (build it inside the
    interaction); these exact custom_ids are on old messages too."""
    return frozen_view(
        nextcord.ui.Button(
            label=_("Accept"),
            style=nextcord.ButtonStyle.green,
            custom_id=custom_id(TERMS, "accept"),
        ),
        nextcord.ui.Button(
            label=_("Decline"),
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(TERMS, "decline"),
        ),
    )


def setup_modal(uid: int, draft_id: int, draft: SetupDraft) -> nextcord.ui.Modal:
    """Step 1 of /setup: names and battletag, prefilled from the record or the draft, in the
    current language. Discord refuses a modal whose title or labels pass 45 characters, so a
    longer translation is cut rather than breaking /setup."""
    modal = nextcord.ui.Modal(
        # Translators: at most 45 characters (Discord's limit for a form's title).
        title=_("Set up your ladder profile")[:MODAL_TEXT],
        custom_id=custom_id(SETUP, "modal", uid, draft_id),
        auto_defer=False,
    )
    alts = (*draft.alt_names, "", "")
    name_rule = n_(
        "letters, digits, _ or - (at most {count} character)",
        "letters, digits, _ or - (at most {count} characters)",
        NAME_MAX,
    )
    # Translators: an example battletag (a name, "#" and digits), shown in an empty field.
    battletag_example = _("Name#1234")
    for label, field, value, required in (
        # Translators: this and the next three labels: at most 45 characters (Discord's limit).
        (_("Player name"), NAME_INPUT, draft.player_name, True),
        (_("Battletag (Name#1234)"), BATTLETAG_INPUT, draft.battletag, True),
        (_("Alt name 1 (optional)"), ALT_INPUTS[0], alts[0], False),
        (_("Alt name 2 (optional)"), ALT_INPUTS[1], alts[1], False),
    ):
        modal.add_item(
            nextcord.ui.TextInput(
                label=label[:MODAL_TEXT],
                custom_id=field,
                default_value=value or None,
                required=required,
                max_length=32,
                placeholder=name_rule if "name" in field else battletag_example,
            )
        )
    return frozen_modal(modal)


def setup_preview(
    uid: int,
    draft_id: int,
    draft: SetupDraft,
    regions: Mapping[str, str],
    page: int | None = None,
) -> tuple[nextcord.Embed, nextcord.ui.View]:
    """Steps 2 and 3 of /setup: country (its page, then itself) and region, then Confirm /
    Restart / Cancel, in the current language (build it inside the interaction). `page`: the
    country page shown (default: the draft's country's)."""
    pages = country_pages()
    if page is None:
        page = next(
            (i for i, (_label, codes) in enumerate(pages) if draft.country in dict(codes)), None
        )

    def cid(action: str) -> str:
        return custom_id(SETUP, action, uid, draft_id, 0 if page is None else page + 1)

    page_select: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
        custom_id=cid("country_page"),
        placeholder=_("Country: first pick its place in the alphabet"),
        options=[
            nextcord.SelectOption(label=label, value=str(i), default=i == page)
            for i, (label, _codes) in enumerate(pages)
        ],
        row=0,
    )
    codes = list(pages[page][1]) if page is not None else []
    country_select: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
        custom_id=cid("country"),
        placeholder=_("Then your country"),
        options=[
            nextcord.SelectOption(label=name[:100], value=code, default=code == draft.country)
            for code, name in codes or [("--", _("Pick a part of the alphabet above first"))]
        ],
        disabled=not codes,
        row=1,
    )
    region_select: nextcord.ui.StringSelect[nextcord.ui.View] = nextcord.ui.StringSelect(
        custom_id=cid("region"),
        placeholder=_("Your region"),
        options=[
            nextcord.SelectOption(label=name, value=code, default=code == draft.region)
            for code, name in regions.items()
        ],
        row=2,
    )
    buttons: tuple[nextcord.ui.Button[nextcord.ui.View], ...] = (
        nextcord.ui.Button(
            label=_("Confirm"),
            style=nextcord.ButtonStyle.green,
            custom_id=cid("confirm"),
            disabled=not draft.complete,
            row=3,
        ),
        nextcord.ui.Button(
            label=_("Restart"), style=nextcord.ButtonStyle.grey, custom_id=cid("restart"), row=3
        ),
        nextcord.ui.Button(
            label=_("Cancel"), style=nextcord.ButtonStyle.red, custom_id=cid("cancel"), row=3
        ),
    )
    view = frozen_view(page_select, country_select, region_select, *buttons)
    return profile_draft_embed(draft, regions), view


# --- reading what comes back -------------------------------------------------------------------


def _parse_setup(parts: Sequence[str]) -> tuple[str, int, int | None]:
    """(action, draft id, country page or None) from a routed custom_id's parts; a custom_id
    that is not one of ours (an older release's, a forged one) is expired."""
    if len(parts) == 3 and parts[0] == "modal" and _is_draft_id(parts[2], modal=True):
        return "modal", int(parts[2]), None
    if (
        len(parts) == 4
        and parts[0] in (*PICKS, *BUTTONS)
        and _is_draft_id(parts[2])
        and _PAGE.fullmatch(parts[3])
    ):
        page = int(parts[3])
        if page <= len(country_pages()):
            return parts[0], int(parts[2]), page - 1 if page else None
    raise EXPIRED


def _is_draft_id(part: str, *, modal: bool = False) -> bool:
    return bool(_ID.fullmatch(part)) or (modal and part == str(NEW_DRAFT))


def _countries_on(page: int | None) -> list[str]:
    """The country codes the preview's country select offers on `page`."""
    return [code for code, _name in country_pages()[page][1]] if page is not None else []


def _offered(interaction: nextcord.Interaction, offered: Collection[str], pick: str) -> str:
    """The one value the `pick` select sent, which must be one it offered (a client can send
    any)."""
    values = selected(interaction)
    if len(values) != 1 or values[0] not in offered:
        raise ValidationError("select", _PICK_FROM_LIST[pick])
    return values[0]
