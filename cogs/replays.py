"""/replay file: [match:] — upload the replay of a match; and the admins' "Rule by replay" button.

The file is fetched from the attachment's URL with a time limit and a size cap counted while
reading (the size Discord declares is checked first but never trusted). ReplayService reads,
verifies and applies it; this cog tells the uploader what it proved, refreshes the match
messages if the result moved, tells the opponent when the replay decided the match, and tells
the admins when a verified replay contradicts the uploader's own report.

"Rule by replay" buttons (custom_id "replay:rule:<replay id>") are routed like every component:
through the pipeline, admins only; the service re-checks that the dispute is still open.

The uploader and the admin who rules read their own language (the pipeline's); the opponent and
each admin told by DM read theirs (`pipeline.language_of`); the admin channel reads English.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import aiohttp
import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.pipeline import guarded
from cogs.responses import ERROR_COLOUR, INFO_COLOUR, SUCCESS_COLOUR
from cogs.text import plain
from i18n import N_, SOURCE, _, format_number, speaking
from ladder.errors import ValidationError
from ladder.guards import Access
from ladder.records import MatchRecord
from ladder.replays import ReplayEffect, ReplayMode, describe
from services.replays import ReplayUpload, check_file

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

ROUTE = "replay"
CHUNK = 64 * 1024
_REPLAY_ID = re.compile(r"[0-9]{1,18}")
FILE_DESCRIPTION = N_("The game's .SC2Replay file")  # /replay's file option

EFFECT_TEXT = {
    ReplayEffect.EVIDENCE: N_("It is kept as evidence; report the result as usual."),
    ReplayEffect.REPORTED: N_("It counts as your report of the result."),
    ReplayEffect.DECIDED: N_("It decided the match."),
    ReplayEffect.FLAGGED: N_(
        "It shows another result than the one you reported: the admins have been told."
    ),
    ReplayEffect.ALREADY: N_("The match already has this result."),
    ReplayEffect.LATE: N_("The match no longer takes reports; it is kept as evidence."),
}
# What a verified replay does on this ladder (`replay.mode`), named in the upload's footer.
MODE_TEXT = {
    # Translators: a replay mode: a verified replay is kept as evidence only.
    ReplayMode.EVIDENCE: N_("evidence"),
    # Translators: a replay mode: a verified replay counts as its uploader's report.
    ReplayMode.REPORT: N_("report"),
    # Translators: a replay mode: a verified replay decides the match.
    ReplayMode.DECIDES: N_("decides"),
}


async def download(url: str, max_bytes: int, seconds: float) -> bytes:
    """The attachment's bytes, read in chunks and refused past `max_bytes` or `seconds`."""
    if not url.startswith(("https://", "http://")):
        raise ValidationError("file", N_("That attachment has no address the bot can read."))
    too_big = ValidationError(
        "file",
        N_("That file is larger than {kb} KB; a replay is much smaller."),
        kb=format_number(max_bytes // 1024),
    )
    data = bytearray()
    try:
        client_timeout = aiohttp.ClientTimeout(total=seconds)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise ValidationError(
                    "file", N_("Discord did not hand over the file; please upload it again.")
                )
            if (response.content_length or 0) > max_bytes:
                raise too_big
            async for chunk in response.content.iter_chunked(CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise too_big
    except (aiohttp.ClientError, TimeoutError):
        raise ValidationError(
            "file", N_("The file could not be downloaded in time; please upload it again.")
        ) from None
    return bytes(data)


def upload_embed(upload: ReplayUpload) -> nextcord.Embed:
    """What the uploader sees: what the replay shows, whether it verified, what it did."""
    replay, verdict = upload.replay, upload.verdict
    if verdict.verified:
        embed = nextcord.Embed(
            title=_("Replay verified for match #{match}", match=replay.match_id),
            description=f"{describe(replay.facts)}\n{_(EFFECT_TEXT[replay.effect])}",
            colour=SUCCESS_COLOUR,
        )
    else:
        reason = str(verdict.message)  # why it did not verify, in the current language
        embed = nextcord.Embed(
            title=_("Replay not verified for match #{match}", match=replay.match_id),
            description=reason
            + "\n"
            + _("It is kept as evidence for the admins; it does not change the result."),
            colour=ERROR_COLOUR,
        )
    mode = MODE_TEXT.get(upload.mode)
    embed.set_footer(
        text=_(
            "Replay #{replay} · mode {mode}",
            replay=replay.id,
            mode=_(mode) if mode else upload.mode.value,
        )
    )
    return embed


def decided_embed(upload: ReplayUpload) -> nextcord.Embed:
    """What the opponent is told when the uploader's replay decided their match."""
    return nextcord.Embed(
        title=_("Match #{match} decided by a replay", match=upload.match.id),
        description=_(
            "Your opponent uploaded the replay: {replay}.\nUnder this ladder's rules a verified "
            "replay decides the result. If it is wrong, contact an admin.",
            replay=describe(upload.replay.facts),
        ),
        colour=INFO_COLOUR,
    )


def contradiction_embed(upload: ReplayUpload, uid: int, name: str | None) -> nextcord.Embed:
    """What the admins are told when a verified replay contradicts its uploader's report."""
    who = plain(name, 32) or _("player {uid}", uid=uid)
    return nextcord.Embed(
        title=_("Replay contradicts a report on match #{match}", match=upload.match.id),
        description=_(
            "**{who}** ({mention}) uploaded replay #{replay}, which verifies but shows another "
            "result than the one they reported: {facts}.\nSee `/admin disputes` or "
            "`/admin resolve match_id:{match}`.",
            who=who,
            mention=f"<@{uid}>",
            replay=upload.replay.id,
            facts=describe(upload.replay.facts),
            match=upload.match.id,
        ),
        colour=ERROR_COLOUR,
    )


class ReplayCog(commands.Cog):
    """Receives /replay and the Rule by replay buttons; ReplayService does the work."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        bot.router.register(ROUTE, self._on_rule, access=Access.ADMIN)

    @nextcord.slash_command(name="replay", description=N_("Upload the replay of your match"))
    @guarded(Access.SETUP)
    async def replay(
        self,
        interaction: nextcord.Interaction,
        file: nextcord.Attachment = nextcord.SlashOption(
            name="file", description=FILE_DESCRIPTION, required=True
        ),
        match: int | None = nextcord.SlashOption(
            name="match",
            description=N_("The match number (default: your open or most recent match)"),
            required=False,
            min_value=1,
        ),
    ) -> None:
        """Upload the replay of a match: checked against the match, it can report the result."""
        service = self.bot.replays
        if service is None:
            raise ValidationError("file", N_("Replay uploads are not set up on this ladder."))
        uid = user_of(interaction).id
        config = service.config
        # Name and declared size first (cheap, before any download); the cap holds while reading.
        check_file(file.filename, max(file.size, 1), config.max_bytes)
        await service.match_for(uid, match)  # an unknown match is refused before the download
        await interaction.response.defer(ephemeral=interaction.guild_id is not None)
        data = await download(file.url, config.max_bytes, config.download_timeout_seconds)
        upload = await service.upload(uid, file.filename, data, match)
        await interaction.followup.send(embed=upload_embed(upload))
        await self._tell_others(upload, uid)

    async def _tell_others(self, upload: ReplayUpload, uid: int) -> None:
        notifier = self.bot.notifier
        if upload.update is not None and upload.update.changed:
            await notifier.match_changed(upload.update)
        if upload.replay.effect is ReplayEffect.DECIDED:
            opponent = upload.match.opponent_of(uid)
            with speaking(await self.bot.pipeline.language_of(opponent)):
                embed = decided_embed(upload)
            await self._dm(opponent, embed)
        if upload.flagged:
            await self._tell_admins(upload, uid)

    async def _tell_admins(self, upload: ReplayUpload, uid: int) -> None:
        notifier = self.bot.notifier
        name = (await notifier.names(uid)).get(uid)
        # The admin channel is shared: English. An admin told by DM reads their own language.
        targets: list[tuple[nextcord.abc.Messageable, str]] = []
        if notifier.admin_channel_id:
            channel = self.bot.get_partial_messageable(notifier.admin_channel_id)
            targets.append((channel, SOURCE))
        else:
            for admin in notifier.admin_ids:
                try:
                    dm = await self.bot.create_dm(nextcord.Object(id=admin))
                except nextcord.HTTPException as exc:
                    log.warning("Could not open a DM with admin %s: %s", admin, exc)
                    continue
                targets.append((dm, await self.bot.pipeline.language_of(admin)))
        for target, language in targets:
            with speaking(language):
                embed = contradiction_embed(upload, uid, name)
            try:
                await target.send(embed=embed)
            except nextcord.HTTPException as exc:
                log.warning("Could not tell admins about replay %s: %s", upload.replay.id, exc)

    async def _dm(self, uid: int, embed: nextcord.Embed) -> None:
        try:
            channel = await self.bot.create_dm(nextcord.Object(id=uid))
            await channel.send(embed=embed)
        except nextcord.HTTPException as exc:
            log.warning("Could not DM %s about a replay: %s", uid, exc)

    async def _on_rule(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """Rule by replay: admins only (the router checks), the dispute must still be open."""
        service = self.bot.replays
        if (
            service is None
            or len(parts) != 2
            or parts[0] != "rule"
            or not _REPLAY_ID.fullmatch(parts[1])
        ):
            raise ValidationError("custom_id", N_("This button is not recognised any more."))
        update = await service.rule_by_replay(user_of(interaction).id, int(parts[1]))
        match: MatchRecord = update.match
        await interaction.response.send_message(
            embed=nextcord.Embed(
                title=_(
                    "Match #{match} ruled by replay #{replay}", match=match.id, replay=parts[1]
                ),
                # Translators: {result} is the result's code, e.g. p1_win, p2_win or draw.
                description=_(
                    "Result: **{result}**; later ratings recomputed.", result=match.result
                ),
                colour=SUCCESS_COLOUR,
            ),
            ephemeral=True,
        )
        if update.changed:
            await self.bot.notifier.match_changed(update)
