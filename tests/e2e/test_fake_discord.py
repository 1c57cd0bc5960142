"""Tests of the fake Discord itself, with a tiny nextcord client run in this process.

They do not need the ladder bot: they show that the real nextcord client can log in, sync
commands and answer every kind of interaction through the fake, and that the fake catches the
mistakes it is there to catch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import nextcord
import pytest
from nextcord import Interaction, SlashOption

from localdiscord import FakeDiscord
from localdiscord.objects import snowflake_time_ms
from localdiscord.protocol import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
)

from .harness import running_client

COUNTRIES = ["France", "Finland", "Fiji", "Germany", "Ghana", "Greece"]
COMMANDS = {
    "ping",
    "menu",
    "form",
    "country",
    "admin",
    "notify",
    "slow",
    "twice",
    "spam",
    "bigselect",
    "think",
    "embed",
    "silent",
    "early",
    "badmodal",
}


class YesNo(nextcord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @nextcord.ui.button(label="Yes", custom_id="yesno:yes", style=nextcord.ButtonStyle.green)
    async def yes(self, button: nextcord.ui.Button, inter: Interaction) -> None:
        await inter.response.edit_message(content="You said yes", view=None)

    @nextcord.ui.select(
        custom_id="yesno:pick",
        options=[
            nextcord.SelectOption(label="Red", value="red"),
            nextcord.SelectOption(label="Blue", value="blue"),
        ],
    )
    async def pick(self, select: nextcord.ui.Select, inter: Interaction) -> None:
        await inter.response.send_message(f"Picked {select.values[0]}", ephemeral=True)


class NameForm(nextcord.ui.Modal):
    def __init__(self) -> None:
        super().__init__("Your player name", custom_id="form:name", timeout=30)
        self.name: nextcord.ui.TextInput[Any] = nextcord.ui.TextInput(
            label="Player name", custom_id="form:name:value", max_length=32
        )
        self.add_item(self.name)

    async def callback(self, inter: Interaction) -> None:
        await inter.response.send_message(f"Welcome, {self.name.value}!")


def make_client() -> nextcord.Client:
    """A tiny bot: one command per feature of the fake that the tests below use."""
    client = nextcord.Client(intents=nextcord.Intents.default())

    @client.slash_command(name="ping", description="Answer pong")
    async def ping(inter: Interaction) -> None:
        await inter.response.send_message("pong")

    @client.slash_command(name="menu", description="A button and a select")
    async def menu(inter: Interaction) -> None:
        await inter.response.send_message("Choose", view=YesNo())

    @client.slash_command(name="form", description="Open a modal")
    async def form(inter: Interaction) -> None:
        await inter.response.send_modal(NameForm())

    @client.slash_command(name="country", description="Pick a country")
    async def country(
        inter: Interaction, name: str = SlashOption(description="Country", autocomplete=True)
    ) -> None:
        await inter.response.send_message(f"Country: {name}", ephemeral=True)

    @country.on_autocomplete("name")
    async def country_choices(inter: Interaction, name: str) -> None:
        if name == "*":  # a bug: every choice, more than Discord takes
            await inter.response.send_autocomplete([f"Country {n}" for n in range(30)])
            return
        await inter.response.send_autocomplete(
            [c for c in COUNTRIES if c.lower().startswith(name.lower())]
        )

    @client.slash_command(name="admin", description="Admin tools")
    async def admin(inter: Interaction) -> None:
        pass

    @admin.subcommand(name="echo", description="Say something back")
    async def admin_echo(
        inter: Interaction,
        text: str = SlashOption(description="What to say"),
        times: int = SlashOption(description="How often", min_value=1, max_value=3, default=1),
    ) -> None:
        await inter.response.send_message(" ".join([text] * times))

    @client.slash_command(name="notify", description="DM me")
    async def notify(inter: Interaction) -> None:
        await inter.response.send_message("Check your DMs", ephemeral=True)
        await inter.user.send("Here is your DM")

    @client.slash_command(name="think", description="Deferred answer")
    async def think(inter: Interaction) -> None:
        await inter.response.defer(ephemeral=True)
        await inter.followup.send("Thought about it")

    @client.slash_command(name="embed", description="An embed")
    async def embed(inter: Interaction) -> None:
        emb = nextcord.Embed(title="Profile", description="Rating 1500")
        emb.add_field(name="Wins", value="3")
        await inter.response.send_message(embed=emb)

    # The commands below break Discord's rules on purpose.

    @client.slash_command(name="slow", description="Answer too late")
    async def slow(inter: Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await inter.response.send_message("too late")
        except nextcord.NotFound:
            client.late_failures += 1  # type: ignore[attr-defined]

    @client.slash_command(name="twice", description="Answer twice")
    async def twice(inter: Interaction) -> None:
        await inter.response.send_message("one")
        inter.response._responded = False  # get past nextcord's own guard, as a bug might
        try:
            await inter.response.send_message("two")
        except nextcord.HTTPException as exc:
            client.double_errors.append(exc.code)  # type: ignore[attr-defined]

    @client.slash_command(name="spam", description="Too long a message")
    async def spam(inter: Interaction) -> None:
        try:
            await inter.response.send_message("x" * 2001)
        except nextcord.HTTPException:
            await inter.response.send_message("could not send")

    @client.slash_command(name="bigselect", description="A select with 26 options")
    async def bigselect(inter: Interaction) -> None:
        view = nextcord.ui.View()
        select: nextcord.ui.Select[nextcord.ui.View] = nextcord.ui.Select(custom_id="big")
        select.options = [nextcord.SelectOption(label=f"o{n}", value=str(n)) for n in range(26)]
        view.add_item(select)
        try:
            await inter.response.send_message("pick", view=view)
        except nextcord.HTTPException:
            await inter.response.send_message("could not send")

    @client.slash_command(name="early", description="Followup before answering")
    async def early(inter: Interaction) -> None:
        try:
            await inter.followup.send("too early")
        except nextcord.NotFound:
            await inter.response.send_message("answered after all")

    @client.slash_command(name="badmodal", description="A modal with too long a title")
    async def badmodal(inter: Interaction) -> None:
        modal = NameForm()
        modal.title = "T" * 46
        try:
            await inter.response.send_modal(modal)
        except nextcord.HTTPException:
            await inter.response.send_message("could not open the form")

    @client.slash_command(name="silent", description="Never answer")
    async def silent(inter: Interaction) -> None:
        pass

    client.late_failures = 0  # type: ignore[attr-defined]
    client.double_errors = []  # type: ignore[attr-defined]
    return client


@pytest.fixture
async def client(fake_discord: FakeDiscord) -> AsyncIterator[nextcord.Client]:
    async with running_client(fake_discord, make_client(), names=COMMANDS) as running:
        yield running


async def test_login_ready_and_command_sync(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    assert fake_discord.command_names() == COMMANDS
    assert client.user.id == fake_discord.bot_user.id
    assert client.application_id == fake_discord.application_id
    routes = {(r.method, r.route) for r in fake_discord.requests}
    assert ("GET", "/users/@me") in routes
    assert ("GET", "/gateway") in routes
    assert ("GET", "/applications/{app_id}/commands") in routes
    # Every command nextcord knows was matched with the id the fake gave it.
    stored = {c["name"]: int(c["id"]) for c in fake_discord.commands[None].values()}
    for cmd in client.get_application_commands():
        assert cmd.command_ids[None] == stored[cmd.name]


async def test_zlib_stream_and_heartbeat(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    conn = fake_discord.current_session.connection
    assert conn.compressor is not None  # nextcord asked for compress=zlib-stream
    await fake_discord.wait_until(lambda: fake_discord.heartbeats >= 1, 5, "a heartbeat")


async def test_slash_command_in_dm(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    alice = fake_discord.user("alice")
    inter = await fake_discord.slash(alice, "ping")
    response = await inter.response()
    assert response.type == CHANNEL_MESSAGE
    assert response.message.content == "pong"
    assert response.latency < 3
    assert (await inter.reply()).channel is fake_discord.dm_channel(alice)
    # Snowflakes carry the real time, as Discord's do.
    assert abs(snowflake_time_ms(inter.id) / 1000 - __import__("time").time()) < 5


async def test_subcommand_with_options_in_guild(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    bob = fake_discord.user("bob")
    guild = fake_discord.guild("Ladder", members=[bob])
    await fake_discord.wait_until(lambda: client.get_guild(guild.id), 5, "the guild", poll=0.01)
    inter = await fake_discord.slash(bob, "admin echo", {"text": "hi", "times": 2}, guild=guild)
    reply = await inter.reply()
    assert reply.content == "hi hi"
    assert reply.channel.guild_id == guild.id
    with pytest.raises(AssertionError, match="outside min/max"):
        await fake_discord.slash(bob, "admin echo", {"text": "hi", "times": 9}, guild=guild)


async def test_button_click_updates_the_message(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    carol = fake_discord.user("carol")
    menu = await (await fake_discord.slash(carol, "menu")).reply()
    assert [b["label"] for b in menu.buttons()] == ["Yes"]
    click = await fake_discord.click(carol, menu, label="Yes")
    assert (await click.response()).type == UPDATE_MESSAGE
    assert menu.content == "You said yes"
    assert menu.components == []


async def test_select_menu(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    dave = fake_discord.user("dave")
    menu = await (await fake_discord.slash(dave, "menu")).reply()
    picked = await fake_discord.select(dave, menu, ["blue"])
    reply = await picked.reply()
    assert reply.content == "Picked blue"
    assert reply.ephemeral


async def test_modal_submit(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    erin = fake_discord.user("erin")
    opened = await fake_discord.slash(erin, "form")
    modal = (await opened.response()).modal
    assert (await opened.response()).type == MODAL
    assert modal["title"] == "Your player name"
    submitted = await fake_discord.submit_modal(erin, opened, {"form:name:value": "Erin"})
    assert (await submitted.reply()).content == "Welcome, Erin!"


async def test_autocomplete(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    fred = fake_discord.user("fred")
    typing = await fake_discord.autocomplete(fred, "country", focused="name", value="fi")
    response = await typing.response()
    assert response.type == AUTOCOMPLETE_RESULT
    assert [c["name"] for c in response.choices] == ["Finland", "Fiji"]
    chosen = await fake_discord.slash(fred, "country", {"name": "Fiji"})
    assert (await chosen.reply()).content == "Country: Fiji"


async def test_deferred_reply_filled_by_first_followup(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    gina = fake_discord.user("gina")
    inter = await fake_discord.slash(gina, "think")
    assert (await inter.response()).type == DEFERRED_CHANNEL_MESSAGE
    reply = await inter.reply()
    assert reply.content == "Thought about it"
    assert reply is inter.original and reply.ephemeral


async def test_dm_sent_through_the_channel_api(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    hank = fake_discord.user("hank")
    await (await fake_discord.slash(hank, "notify")).reply()
    assert (await fake_discord.next_dm(hank)).content == "Here is your DM"


async def test_embed_text(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    ivy = fake_discord.user("ivy")
    reply = await (await fake_discord.slash(ivy, "embed")).reply()
    assert reply.embeds[0]["title"] == "Profile"
    assert "Rating 1500" in reply.text and "Wins" in reply.text


async def test_resume_after_reconnect(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    jack = fake_discord.user("jack")
    await fake_discord.request_reconnect()
    await fake_discord.wait_until(lambda: fake_discord.resumed_count == 1, 5, "a RESUME")
    assert fake_discord.ready_count == 1  # resumed, not identified again
    assert (await (await fake_discord.slash(jack, "ping")).reply()).content == "pong"
    # Dropped by "Discord": an interaction sent meanwhile is replayed on RESUME.
    await fake_discord.drop_connection()
    missed = await fake_discord.slash(jack, "ping")
    await fake_discord.wait_until(lambda: fake_discord.resumed_count == 2, 5, "a 2nd RESUME")
    assert (await missed.reply()).content == "pong"


async def test_unknown_command_is_refused(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    kim = fake_discord.user("kim")
    with pytest.raises(AssertionError, match="not a registered command"):
        await fake_discord.slash(kim, "nosuchcommand")
    assert [v.rule for v in fake_discord.take_violations()] == ["unknown-command"]


# --- the fake flags the bot's mistakes ---------------------------------------------------------


async def test_flags_second_initial_response(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    inter = await fake_discord.slash(fake_discord.user("lee"), "twice")
    assert (await inter.reply()).content == "one"
    errors = client.double_errors  # type: ignore[attr-defined]  # set by make_client
    await fake_discord.wait_until(lambda: errors, 5, "the 2nd answer", poll=0.01)
    assert errors == [40060]
    assert [v.rule for v in fake_discord.take_violations()] == ["double-response"]


async def test_flags_message_over_2000_characters(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    inter = await fake_discord.slash(fake_discord.user("max"), "spam")
    assert (await inter.reply()).content == "could not send"
    [violation] = fake_discord.take_violations()
    assert violation.rule == "invalid-message"
    assert "content is 2001 characters (max 2000)" in violation.detail


async def test_flags_select_with_26_options(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    inter = await fake_discord.slash(fake_discord.user("ned"), "bigselect")
    assert (await inter.reply()).content == "could not send"
    [violation] = fake_discord.take_violations()
    assert violation.rule == "invalid-message"
    assert "26 options" in violation.detail


async def test_flags_late_response(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    fake_discord.response_deadline = 0.1  # the command sleeps 0.3 s
    inter = await fake_discord.slash(fake_discord.user("olga"), "slow")
    await fake_discord.wait_until(
        lambda: client.late_failures,  # type: ignore[attr-defined]  # set by make_client
        5,
        "the late one",
        poll=0.01,
    )
    assert inter.callback is None  # Discord refused it: 404 Unknown interaction
    [violation] = fake_discord.take_violations()
    assert violation.rule == "late-response"


async def test_flags_unanswered_interaction(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    fake_discord.response_deadline = 0.1
    inter = await fake_discord.slash(fake_discord.user("pia"), "silent")
    await fake_discord.settle()
    assert [(v.rule, v.interaction_id) for v in fake_discord.take_violations()] == [
        ("no-response", inter.id)
    ]


async def test_records_unknown_routes(fake_discord: FakeDiscord, client: nextcord.Client) -> None:
    with pytest.raises(nextcord.NotFound):
        await client.http.request(nextcord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=1))
    assert fake_discord.unknown_routes == ["GET /api/v10/guilds/1/bans"]
    fake_discord.unknown_routes.clear()


async def test_flags_followup_before_response(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    inter = await fake_discord.slash(fake_discord.user("rex"), "early")
    assert (await inter.reply()).content == "answered after all"
    assert [v.rule for v in fake_discord.take_violations()] == ["followup-before-response"]


async def test_flags_modal_title_over_45(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    inter = await fake_discord.slash(fake_discord.user("sam"), "badmodal")
    assert (await inter.reply()).content == "could not open the form"
    [violation] = fake_discord.take_violations()
    assert (violation.rule, violation.detail) == (
        "invalid-modal",
        "modal title is 46 characters (max 45)",
    )


async def test_flags_26_autocomplete_choices(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    typing = await fake_discord.autocomplete(fake_discord.user("tia"), "country", "name", "*")
    await fake_discord.wait_until(lambda: fake_discord.violations, 5, "a violation")
    assert typing.callback is None
    [violation] = fake_discord.take_violations()
    assert violation.rule == "invalid-autocomplete"
    assert "30 autocomplete choices (max 25)" in violation.detail


async def test_direct_messages_through_the_rest_api(
    fake_discord: FakeDiscord, client: nextcord.Client
) -> None:
    uma = fake_discord.user("uma")
    vic = fake_discord.user("vic", dms_open=False)
    user = await client.fetch_user(uma.id)
    sent = await user.send("Your match is ready")
    await sent.edit(content="Your match was cancelled")
    [dm] = fake_discord.dms(uma)
    assert dm.id == sent.id and dm.content == "Your match was cancelled" and dm.edited
    with pytest.raises(nextcord.Forbidden) as closed:
        await (await client.fetch_user(vic.id)).send("hello?")
    assert closed.value.code == 50007


async def test_guild_commands_only_in_their_guild(fake_discord: FakeDiscord) -> None:
    walt = fake_discord.user("walt")
    guild = fake_discord.guild("Home", members=[walt])
    client = nextcord.Client(intents=nextcord.Intents.default(), guild_ready_timeout=0.01)

    @client.slash_command(name="local", description="Only here", guild_ids=[guild.id])
    async def local(inter: Interaction) -> None:
        await inter.response.send_message(f"hello {inter.guild.name}")

    async with running_client(fake_discord, client):
        await fake_discord.wait_synced(names={"local"}, guild=guild, after=0)
        assert fake_discord.command_names() == set()
        reply = await (await fake_discord.slash(walt, "local", guild=guild)).reply()
        assert reply.content == "hello Home"
        with pytest.raises(AssertionError, match="not a registered command in DMs"):
            await fake_discord.slash(walt, "local")
        assert [v.rule for v in fake_discord.take_violations()] == ["unknown-command"]


async def test_flags_invalid_command_registration(fake_discord: FakeDiscord) -> None:
    client = nextcord.Client(intents=nextcord.Intents.default())

    @client.slash_command(name="wordy", description="x" * 101)
    async def wordy(inter: Interaction) -> None:
        await inter.response.send_message("never")

    async with running_client(fake_discord, client):
        await fake_discord.wait_until(lambda: fake_discord.violations, 5, "a violation")
        [violation] = fake_discord.take_violations()
        assert violation.rule == "invalid-command"
        assert "description is 101 characters" in violation.detail
        assert fake_discord.command_names() == set()


async def test_flags_disallowed_intents() -> None:
    async with FakeDiscord() as fake:
        client = nextcord.Client(intents=nextcord.Intents.all())
        with pytest.raises(nextcord.PrivilegedIntentsRequired):
            async with running_client(fake, client, within=5):
                pass
        assert [v.rule for v in fake.take_violations()] == ["disallowed-intents"]


async def _burst(fake: FakeDiscord, count: int) -> list[tuple[int, dict, dict]]:
    """``count`` GET /users/@me at once with the bot token: (status, headers, body) each."""
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def one() -> tuple[int, dict, dict]:
            async with http.get(f"{fake.api_base}/users/@me") as resp:
                return resp.status, dict(resp.headers), await resp.json()

        return await asyncio.gather(*(one() for _ in range(count)))


async def test_no_global_rate_limit_by_default(fake_discord: FakeDiscord) -> None:
    assert fake_discord.global_rate_limit is None
    assert {status for status, _, _ in await _burst(fake_discord, 120)} == {200}


async def test_opt_in_global_rate_limit() -> None:
    async with FakeDiscord(global_rate_limit=5) as fake:
        # Discord's answer, seen raw: nextcord would hide it by waiting and sending again.
        answers = await _burst(fake, 8)
        assert sorted(status for status, _, _ in answers) == [200] * 5 + [429] * 3
        for status, headers, body in answers:
            if status == 429:
                assert body["global"] is True and body["message"]
                assert 0 < body["retry_after"] <= 1.0
                assert headers["X-RateLimit-Global"] == "true"
                assert headers["X-RateLimit-Scope"] == "global"
                assert headers["Retry-After"] == "1" and headers["Via"]
                assert "X-RateLimit-Bucket" not in headers
        fake.reset_rate_limit()  # the second has passed, as far as the limit knows
        after_reset = len(fake.requests)

        users = [fake.user(f"rl{n}") for n in range(8)]
        client = nextcord.Client(intents=nextcord.Intents.default())

        @client.slash_command(name="ping", description="Answer pong")
        async def ping(inter: Interaction) -> None:
            await inter.response.send_message("pong")

        async with running_client(fake, client, names={"ping"}):
            # More at once than the limit allows: nextcord waits on each global 429 and sends
            # again, so every call succeeds, later.
            fetched = await asyncio.gather(*(client.fetch_user(u.id) for u in users))
            assert [u.id for u in fetched] == [u.id for u in users]
            fetches = [r for r in fake.requests if r.route == "/users/{user_id}"]
            assert sum(r.status == 200 for r in fetches) == 8
            assert any(r.status == 429 for r in fetches)
            # Interactions are not bound by the global limit: answered at once after a burst.
            await _burst(fake, 6)
            reply = await (await fake.slash(fake.user("rl-ping"), "ping")).reply(within=0.9)
            assert reply.content == "pong"
        exempt = ("/interactions/", "/webhooks/")
        served = sorted(
            r.at
            for r in fake.requests[after_reset:]
            if r.status != 429 and not r.route.startswith(exempt)
        )
        # At most 5 served in any second (times are taken after each handler: 10 ms slack).
        assert all(b - a >= 0.99 for a, b in zip(served, served[5:], strict=False))
        assert not fake.violations and not fake.unknown_routes
