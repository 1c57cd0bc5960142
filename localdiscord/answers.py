"""How the bot answers an interaction: the callback, followups, and the webhook messages.

``POST /interactions/{id}/{token}/callback`` is the first answer. Discord's rules, each recorded
as a violation when broken (and answered as Discord answers it): within ``response_deadline``
(3 s) of the interaction, only once, of a type allowed for that interaction
(``rules.ALLOWED_CALLBACKS``), and within the message, modal and autocomplete limits. The answer
comes back as 204 with no body; the message it made is read with ``GET .../messages/@original``.

Followups (``POST /webhooks/{app}/{token}``) and ``.../messages/@original|{id}`` come after that
answer. After a deferred reply (callback type 5) the *first* followup edits the "thinking"
message instead of making a new one, keeping the deferral's ephemeral flag.
"""

from __future__ import annotations

import time

from aiohttp import web

from . import rules
from .objects import Callback, RecordedMessage, SentInteraction
from .protocol import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    MODAL,
    UPDATE_MESSAGE,
)
from .replies import BODY, FILES, attachment_records, form_error, no_content, refuse, reply
from .rest import Rest


class Answers(Rest):
    """The interaction-answering routes of the REST API."""

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self.interactions.get(int(request.match_info["interaction_id"]))
        if inter is None or inter.token != request.match_info["token"]:
            return refuse(404, 10062, "Unknown interaction")
        body = request[BODY] or {}
        kind = body.get("type")
        data = body.get("data") or {}
        latency = time.monotonic() - inter.injected_at
        if inter.callback is not None:
            self.violation("double-response", f"a second initial response (type {kind}) to "
                           f"{inter!r}; the first was type {inter.callback.type}", inter.id)
            return refuse(400, 40060, "Interaction has already been acknowledged.")
        if latency > self.response_deadline:
            self.violation("late-response", f"first response to {inter!r} after {latency:.2f}s"
                           f" (limit {self.response_deadline}s)", inter.id)
            return refuse(404, 10062, "Unknown interaction")
        if kind not in rules.ALLOWED_CALLBACKS[inter.type] or (
                kind == UPDATE_MESSAGE and inter.source_message is None):
            self.violation("invalid-callback-type",
                           f"callback type {kind} is not allowed for {inter!r}", inter.id)
            return form_error([f"callback type {kind} is invalid for this interaction"])
        problems = {
            CHANNEL_MESSAGE: lambda: rules.check_message(data, new=True),
            UPDATE_MESSAGE: lambda: rules.check_message(data, new=False),
            AUTOCOMPLETE_RESULT: lambda: rules.check_autocomplete(data),
            MODAL: lambda: rules.check_modal(data),
        }.get(kind, list)()
        if problems:
            rule = {MODAL: "invalid-modal", AUTOCOMPLETE_RESULT: "invalid-autocomplete"}.get(
                kind, "invalid-message")
            self.violation(rule, "; ".join(problems), inter.id)
            return form_error(problems)
        data = {**data, "attachments": attachment_records(request[FILES])} if request[FILES] \
            else data
        message = None
        if kind == CHANNEL_MESSAGE:
            message = self._new_message(inter.channel, data, interaction=inter, kind="response")
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._new_message(inter.channel, {"flags": flags}, interaction=inter,
                                        kind="response")
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            message = inter.source_message  # @original now means the component's message
            if message is not None:
                inter.edits_before_answer = len(message.history)
            if kind == UPDATE_MESSAGE and message is not None:
                message.apply(data)
        inter.original = message
        inter.callback = Callback(kind, data, latency, message)
        return no_content()

    def _interaction_for_webhook(self, request: web.Request) -> SentInteraction | web.Response:
        """The interaction a webhook token belongs to, once it has been answered."""
        token = request.match_info["token"]
        inter = next((i for i in self.interactions.values() if i.token == token), None)
        if inter is None or int(request.match_info["app_id"]) != self.application_id:
            return refuse(404, 10015, "Unknown Webhook")
        if inter.callback is None or inter.callback.type in (AUTOCOMPLETE_RESULT, MODAL):
            answered = "not answered" if inter.callback is None else (
                f"answered with type {inter.callback.type}")
            self.violation("followup-before-response",
                           f"{request.method} {request.path} but the interaction was {answered}",
                           inter.id)
            return refuse(404, 10015, "Unknown Webhook")
        return inter

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self._interaction_for_webhook(request)
        if isinstance(inter, web.Response):
            return inter
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": attachment_records(request[FILES])}
        problems = rules.check_message(data, new=True)
        if problems:
            self.violation("invalid-message", "; ".join(problems), inter.id)
            return form_error(problems)
        original = inter.original
        if inter.callback and inter.callback.type == DEFERRED_CHANNEL_MESSAGE and original \
                and original.loading and not inter.followups:
            # Discord: the first followup after a deferral fills in the "thinking" message.
            original.apply({k: v for k, v in data.items() if k != "flags"})
            message = original
        else:
            message = self._new_message(inter.channel, data, interaction=inter, kind="followup")
        inter.followups.append(message)
        if request.query.get("wait") in ("1", "true", "True"):
            return reply(message.payload(self.application_id))
        return no_content()

    def _webhook_message(self, request: web.Request
                         ) -> tuple[SentInteraction, RecordedMessage] | web.Response:
        inter = self._interaction_for_webhook(request)
        if isinstance(inter, web.Response):
            return inter
        wanted = request.match_info.get("message_id")
        if wanted is None:  # @original
            message = inter.original
        else:
            message = next((m for m in inter.messages if m.id == int(wanted)), None)
        if message is None or message.deleted:
            return refuse(404, 10008, "Unknown Message")
        return inter, message

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        return reply(found[1].payload(self.application_id))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        inter, message = found
        return self._apply_edit(message, request, inter.id)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        found[1].deleted = True
        return no_content()
