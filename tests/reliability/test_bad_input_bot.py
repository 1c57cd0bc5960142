"""Hostile input through the real bot, property-based: what reaches the handlers from Discord.

One bot for the module (the fake Discord in front of it). Hypothesis drives, with a few dozen
examples each: the four /setup modal fields, the /setcountry option and its autocomplete, the
evidence modal's note and link, /admin options (free text, numbers up to Discord's 2^53, users
the ladder has never seen, unknown match ids), and what only a modified client can send: select
values that are not among the options and button custom_ids that were never sent.

For every example: an answer (the fake fails an unanswered interaction), never the apology for
a bug, no ERROR in the bot's log, a clear message; on a refusal nothing is written; what is
accepted is stored verbatim. tests/reliability/test_bad_input_service.py runs the same kinds of
input through the validators and the ladder services with hundreds of examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.settings import REPO_ROOT
from ladder.config import load_ladder_config
from ladder.countries import resolve_country
from localdiscord import FakeDiscord, FakeUser, RecordedMessage, SentInteraction
from localdiscord.protocol import MODAL
from tests.e2e.flows import (
    accept_terms,
    custom_id_of,
    finish_setup,
    ladder_data_dir,
    open_setup,
    press,
)
from tests.e2e.harness import BotProcess
from tests.e2e.state import db_rows, player_state
from tests.reliability.e2e_helpers import (
    apologies,
    forged_component,
    start,
    state,
    wait_status,
)
from tests.reliability.strategies import DISCORD_INT, nasty_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

FEW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REGIONS = {r.code for r in load_ladder_config(REPO_ROOT / "data" / "ladder.toml").regions}
REFUSAL_TITLES = ("Please check your input", "Not found", "Can't do that now", "Not yet",
                  "That didn't work", "Please try again")  # fmt: skip


@dataclass
class Bot:
    fake: FakeDiscord
    process: BotProcess
    users: dict[str, FakeUser] = field(default_factory=dict)
    match_id: int = 0
    dm: RecordedMessage | None = None
    log_offset: int = 0
    apologies: int = 0

    def new_errors(self) -> list[str]:
        """ERROR lines the bot logged since the last call."""
        path = self.process.log_path
        assert path is not None
        with path.open("rb") as log:
            log.seek(self.log_offset)
            text = log.read().decode("utf-8", errors="replace")
            self.log_offset = log.tell()
        return [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]

    def skip_past(self) -> None:
        """Start an example with what earlier ones left behind already counted: each example
        checks its own (test_the_whole_log_is_clean looks at the whole log at the end)."""
        self.apologies = len(apologies(self.fake))
        self.new_errors()

    def check(self, what: str) -> None:
        """No apology and no ERROR since the last check."""
        found = apologies(self.fake)
        new, self.apologies = found[self.apologies :], len(found)
        errors = self.new_errors()
        assert not new and not errors, f"{what}:\n" + "\n".join(new + errors[:10])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(module_fake: FakeDiscord, module_bot_process, tmp_path_factory) -> Bot:
    fake = module_fake
    users = {n: fake.user(n) for n in ("root", "typist", "picker", "alice", "bob")}
    data = ladder_data_dir(tmp_path_factory.mktemp("bad-input"))
    process = module_bot_process(admins=[users["root"]], env={"DATA_DIR": str(data)})
    await process.start()
    b = Bot(fake, process, users)
    await finish_setup(fake, users["typist"], "Typist", "Typist#1234")
    await accept_terms(fake, users["picker"])
    for name in ("alice", "bob"):
        await finish_setup(fake, users[name], name.capitalize(), f"{name.capitalize()}#1234")
    b.match_id, b.dm, dm_b = await start(fake, process, users["alice"], users["bob"])
    await press(fake, users["alice"], b.dm, "I won")
    await press(fake, users["bob"], dm_b, "I won")
    await wait_status(fake, process, b.match_id, "disputed")
    await fake.wait_until(lambda: any(x.get("label") == "Add evidence" for x in b.dm.buttons()),
                          15, "Add evidence on Alice's match message")  # fmt: skip
    b.check("setting up")
    return b


async def reply_of(inter: SentInteraction) -> RecordedMessage:
    reply = await inter.reply()
    assert reply.text.strip(), "an empty answer"
    return reply


def refused(reply: RecordedMessage) -> bool:
    return reply.ephemeral and any(t in reply.text for t in REFUSAL_TITLES)


# --- /setup -------------------------------------------------------------------------------

field_text = nasty_text(32)


@FEW
@given(
    name=field_text.filter(bool),
    tag=field_text.filter(bool),
    alt_1=field_text,
    alt_2=field_text,
)
@example(name="'; DROP TABLE players;--", tag="x';DROP--#1234", alt_1="", alt_2="")
@example(name="Bob\u200b", tag="Bob#1234", alt_1="\u202eevil", alt_2="\x00")
async def test_setup_modal_fields(bot: Bot, name, tag, alt_1, alt_2) -> None:
    bot.skip_past()
    fake, typist = bot.fake, bot.users["typist"]
    before = player_state(bot.process, typist)
    opened = await open_setup(fake, typist)
    values = {"setup:player_name": name, "setup:battletag": tag, "setup:alt_1": alt_1,
              "setup:alt_2": alt_2}  # fmt: skip
    reply = await reply_of(await fake.submit_modal(typist, opened, values))
    assert reply.ephemeral
    assert "preview" in reply.text.lower() or refused(reply), reply.text
    assert player_state(bot.process, typist) == before  # the modal writes nothing
    bot.check(f"/setup with {values!r}")


@FEW
@given(page=nasty_text(100), country=nasty_text(100), region=nasty_text(100))
@example(page="abc", country="ZZ", region="EU")
@example(page="99999", country="FR", region="'; DROP TABLE players;--")
@example(page="-1", country="\u200b", region="eu")
async def test_forged_select_values_on_the_setup_preview(bot: Bot, page, country, region) -> None:
    """A modified client sends values that were never among the options."""
    bot.skip_past()
    fake, picker = bot.fake, bot.users["picker"]
    before = player_state(bot.process, picker)
    opened = await open_setup(fake, picker)
    preview = await reply_of(
        await fake.submit_modal(
            picker, opened, {"setup:player_name": "Picker", "setup:battletag": "Picker#1234"}
        )
    )
    for name, value in (("setup:country_page", page), ("setup:country", country),
                        ("setup:region", region)):  # fmt: skip
        picked = await forged_component(fake, picker, preview, custom_id_of(preview, name),
                                        component_type=3, values=[value])  # fmt: skip
        reply = await reply_of(picked)
        assert "preview" in reply.text.lower() or refused(reply), (name, value, reply.text)
    confirm = await forged_component(fake, picker, preview, custom_id_of(preview, "setup:confirm"))
    reply = await reply_of(confirm)
    after = player_state(bot.process, picker)
    if "Profile saved" in reply.text:  # the values happened to be a real country and region
        assert resolve_country(after["row"]["country"]) == after["row"]["country"]
        assert after["row"]["region"] in REGIONS
    else:
        assert refused(reply), reply.text
        assert after == before
    bot.check(f"selects {page!r}, {country!r}, {region!r}")


# --- /setcountry and its autocomplete -----------------------------------------------------


@FEW
@given(typed=nasty_text(100))
@example(typed="'; DROP TABLE players;--")
@example(typed="🇫🇷")
@example(typed="\x00")
async def test_setcountry_and_its_autocomplete(bot: Bot, typed: str) -> None:
    bot.skip_past()
    fake, typist = bot.fake, bot.users["typist"]
    choices = (await (await fake.autocomplete(typist, "setcountry", "country", typed)
                      ).response()).choices  # fmt: skip
    assert len(choices) <= 25
    before = player_state(bot.process, typist)
    if not typed:
        return  # the Discord client does not send an empty required option
    reply = await reply_of(await fake.slash(typist, "setcountry", {"country": typed}))
    after = player_state(bot.process, typist)
    if refused(reply):
        assert "pick a country" in reply.text, reply.text
        assert after == before
    else:
        assert "Your country" in reply.text, reply.text
        code = after["row"]["country"]
        assert len(code) == 2 and code.isupper()
    bot.check(f"/setcountry {typed!r}")


# --- evidence -----------------------------------------------------------------------------


@FEW
@given(note=nasty_text(1000), url=st.one_of(nasty_text(500), st.sampled_from([
    "https://replays.example/1.rep", "javascript:alert(1)", "https://a b",
    "https://ex.com/'; DROP TABLE disputes;--"])))  # fmt: skip
@example(note="'; DROP TABLE dispute_evidence;--", url="")
@example(note="\u200b", url="https://ex.com/?q=' OR 1=1")
async def test_evidence_note_and_link(bot: Bot, note: str, url: str) -> None:
    bot.skip_past()
    fake, alice = bot.fake, bot.users["alice"]
    assert bot.dm is not None
    before = db_rows(bot.process, "SELECT * FROM dispute_evidence ORDER BY id")
    opened = await fake.click(alice, bot.dm, label="Add evidence")
    assert (await opened.response()).type == MODAL
    reply = await reply_of(await fake.submit_modal(
        alice, opened, {"evidence:note": note, "evidence:url": url}))  # fmt: skip
    after = db_rows(bot.process, "SELECT * FROM dispute_evidence ORDER BY id")
    if "Evidence added" in reply.text:
        (new,) = after[len(before) :]
        # Stored as typed, less surrounding whitespace (the cog strips both fields).
        assert (new["note"], new["url"]) == (note.strip() or None, url.strip() or None), new
    else:
        assert refused(reply), reply.text
        assert after == before
    bot.check(f"evidence {note!r} {url!r}")


# --- /admin ---------------------------------------------------------------------------------

reasons = nasty_text(500)


@FEW
@given(
    race=nasty_text(32).filter(bool),
    mode=st.sampled_from(["set", "add", "subtract"]),
    amount=st.integers(0, 10_000),
    reason=reasons.filter(bool),
    who=st.sampled_from(["alice", "stranger"]),
    press_confirm=st.booleans(),
)
@example(race="bw_zerg", mode="set", amount=1500, reason="'; DROP TABLE ratings;--",
         who="alice", press_confirm=True)  # fmt: skip
async def test_admin_mmr_options(bot: Bot, race, mode, amount, reason, who, press_confirm):
    bot.skip_past()
    fake, root = bot.fake, bot.users["root"]
    target = bot.users["alice"] if who == "alice" else fake.user(f"stranger{len(fake.users)}")
    before = state(bot.process)
    options = {"player": target, "race": race, "mode": mode, "amount": amount, "reason": reason}
    reply = await reply_of(await fake.slash(root, "admin mmr", options))
    if refused(reply):
        assert state(bot.process) == before
    else:
        assert "Please confirm" in reply.text, reply.text
        click = await fake.click(root, reply, label="Confirm" if press_confirm else "Cancel")
        done = await reply_of(click)
        if press_confirm and "→" in done.text:
            (action,) = db_rows(bot.process, "SELECT * FROM admin_actions ORDER BY id DESC"
                                " LIMIT 1")  # fmt: skip
            assert action["reason"] == reason  # verbatim, SQL-looking or not
        else:
            assert state(bot.process) == before, done.text
    bot.check(f"/admin mmr {options!r}")


@FEW
@given(
    match_id=st.one_of(st.integers(1, DISCORD_INT), st.sampled_from([1, 2, 10**15, DISCORD_INT])),
    ruling=st.sampled_from(["p1_win", "p2_win", "draw", "invalidate"]),
    reason=reasons.filter(bool),
    lookup=st.booleans(),
)
async def test_admin_match_ids(bot: Bot, match_id: int, ruling: str, reason: str, lookup: bool):
    bot.skip_past()
    fake, root = bot.fake, bot.users["root"]
    before = state(bot.process)
    if lookup:
        reply = await reply_of(await fake.slash(root, "admin match", {"match_id": match_id}))
    else:
        options = {"match_id": match_id, "ruling": ruling, "reason": reason}
        reply = await reply_of(await fake.slash(root, "admin resolve", options))
        if not refused(reply):  # a real match: the question, then Cancel
            assert "Please confirm" in reply.text, reply.text
            await reply_of(await fake.click(root, reply, label="Cancel"))
    if match_id != bot.match_id:
        assert f"No match `{match_id}`" in reply.text, reply.text
    assert state(bot.process) == before
    bot.check(f"/admin match {match_id}")


@FEW
@given(reason=reasons.filter(bool), sub=st.sampled_from(["dequeue", "resetaborts", "player"]))
async def test_admin_on_users_the_ladder_never_saw(bot: Bot, reason: str, sub: str) -> None:
    bot.skip_past()
    fake, root = bot.fake, bot.users["root"]
    stranger = fake.user(f"ghost{len(fake.users)}")
    options = {"player": stranger} if sub == "player" else {"player": stranger, "reason": reason}
    reply = await reply_of(await fake.slash(root, f"admin {sub}", options))
    assert reply.ephemeral
    if sub == "player":
        assert refused(reply) and "No player" in reply.text, reply.text
    else:
        (action,) = db_rows(bot.process, "SELECT reason FROM admin_actions ORDER BY id DESC"
                            " LIMIT 1")  # fmt: skip
        assert action["reason"] == reason
    bot.check(f"/admin {sub} on an unknown user")


# --- custom_ids only a modified client can send ------------------------------------------

custom_parts = st.lists(st.one_of(nasty_text(12), st.sampled_from(
    ["confirm", "abort", "report", "win", "evidence", "evidence_submit", "1", "0", "-1"])),
    min_size=0, max_size=4)  # fmt: skip


@FEW
@given(parts=custom_parts)
@example(parts=["²", "confirm"])  # str.isdigit() is True, int() refuses it
@example(parts=["99999999999999999999", "confirm"])  # wider than SQLite's 64-bit integers
@example(parts=["1", "report"])
@example(parts=[])
async def test_forged_match_button_ids(bot: Bot, parts: list[str]) -> None:
    bot.skip_past()
    fake, mallory = bot.fake, bot.users["typist"]
    custom = ":".join(["match", *parts])[:100]
    before = state(bot.process)
    own = await reply_of(await fake.slash(mallory, "help"))
    click = await forged_component(fake, mallory, own, custom)
    if (await click.response()).type != MODAL:
        reply = await reply_of(click)
        assert refused(reply), (custom, reply.text)
    assert state(bot.process) == before
    bot.check(f"custom_id {custom!r}")


async def test_the_whole_log_is_clean(bot: Bot) -> None:
    """Every ERROR the bot logged during this module (each test checked only its own)."""
    assert bot.process.running
    errors = [line for line in bot.process.log_text().splitlines() if " ERROR " in line]
    assert not errors, "\n".join(errors[:20])
