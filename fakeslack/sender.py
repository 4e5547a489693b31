"""Plays Slack toward the bot: signed slash commands, button clicks and modal submissions.

``SlackSender`` only decides who acts and where, and posts: the payloads are built in
``interactions.py``, modal answers turned into state in ``modal_state.py`` and requests signed
in ``signing.py``. POSTs go to the bot's events URL with urllib; standard library only.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fakeslack.interactions import (
    FORM,
    Actor,
    click_action,
    message_click_payload,
    payload_form,
    slash_command_fields,
    view_choice_payload,
    view_submission_payload,
)
from fakeslack.modal_state import values_for
from fakeslack.records import Posted, ViewRecord
from fakeslack.server import FakeSlack
from fakeslack.signing import signed_headers

__all__ = ["SentResponse", "SlackSender"]

_trigger_seq = itertools.count(1)


@dataclass(frozen=True)
class SentResponse:
    """The bot's HTTP answer. ``json`` is the decoded body when it is a JSON object."""

    status: int
    body: str
    json: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


class SlackSender:
    """Sends signed Slack requests to the bot's events URL.

    With ``fake`` given, response URLs come from the fake (so ``respond()`` lands there) and
    user names from its registered users.
    """

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        fake: FakeSlack | None = None,
        team_id: str = "T0MISSING",
        user_id: str = "UCONTROL1",
        channel_id: str = "CCONTROL",
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id
        self.user_id = user_id
        self.channel_id = channel_id
        self.clock = clock
        self.timeout = timeout
        self.last_response_url: str | None = None
        self.last_trigger_id: str | None = None

    # ---- Slack requests --------------------------------------------------------------------

    def slash(
        self,
        text: str,
        *,
        command: str = "/missing",
        user_id: str | None = None,
        channel_id: str | None = None,
        timestamp: int | str | None = None,
        secret: str | None = None,
    ) -> SentResponse:
        """A slash command, form-encoded with the fields (and in the order) Slack sends."""
        actor = self._actor(user_id)
        channel = channel_id or self.channel_id
        fields = slash_command_fields(
            actor,
            command=command,
            text=text,
            channel_id=channel,
            response_url=self._response_url(channel, actor.user_id, None),
            trigger_id=self._trigger(),
        )
        return self._post(urlencode(fields).encode(), FORM, timestamp=timestamp, secret=secret)

    def submit_view(
        self,
        view: Mapping[str, Any] | ViewRecord,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str | None = None,
        timestamp: int | str | None = None,
        secret: str | None = None,
    ) -> SentResponse:
        """A ``view_submission``: the view as Slack stored it, with ``state.values`` filled in."""
        payload = view_submission_payload(
            self._actor(user_id), _plain(view), values, trigger_id=self._trigger()
        )
        return self._post(payload_form(payload), FORM, timestamp=timestamp, secret=secret)

    def choose_in_view(
        self,
        view: Mapping[str, Any] | ViewRecord,
        block_id: str,
        value: str,
        *,
        user_id: str | None = None,
    ) -> SentResponse:
        """A choice in a modal input with ``dispatch_action``: Slack sends ``block_actions``
        carrying the view (and its state so far) before the form is submitted."""
        payload = view_choice_payload(
            self._actor(user_id),
            _plain(view),
            block_id,
            value,
            trigger_id=self._trigger(),
            now=self.clock(),
        )
        return self._post(payload_form(payload), FORM)

    def submit_answers(
        self,
        view: Mapping[str, Any] | ViewRecord,
        answers: Mapping[str, object],
        *,
        user_id: str | None = None,
    ) -> SentResponse:
        """Fill the modal's inputs from plain answers (see ``values_for``) and submit it."""
        return self.submit_view(view, values_for(_plain(view), answers), user_id=user_id)

    def click(
        self,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        message: Mapping[str, Any] | Posted | None = None,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        timestamp: int | str | None = None,
        secret: str | None = None,
    ) -> SentResponse:
        """A ``block_actions`` click on a message.

        When the message's blocks hold an element with ``action_id``, its block_id, value and
        type are used unless given, so tests say what the user clicked, not how Slack wires it.
        Passing a ``Posted`` (with a fake) clicks on the message as it stands now, after updates.
        """
        msg, channel, ephemeral = self._clicked_message(message, channel_id)
        msg["ts"] = message_ts or msg.get("ts") or f"{int(self.clock())}.000001"
        actor = self._actor(user_id)
        action = click_action(
            action_id,
            value=value,
            block_id=block_id,
            blocks=msg.get("blocks") or [],
            now=self.clock(),
        )
        # Ephemeral messages are not stored by Slack: respond() cannot replace them in place.
        original_ts = None if ephemeral else msg["ts"]
        payload = message_click_payload(
            actor,
            msg,
            action,
            channel_id=channel,
            ephemeral=ephemeral,
            trigger_id=self._trigger(),
            response_url=self._response_url(channel, actor.user_id, original_ts),
        )
        return self._post(payload_form(payload), FORM, timestamp=timestamp, secret=secret)

    def raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        unsigned: bool = False,
    ) -> SentResponse:
        """POST arbitrary bytes, signed unless ``unsigned`` (or with a given ``signature``)."""
        return self._post(
            body,
            content_type,
            timestamp=timestamp,
            secret=secret,
            signature=signature,
            unsigned=unsigned,
        )

    # ---- who, where, and the one-use values ------------------------------------------------

    def _actor(self, user_id: str | None) -> Actor:
        user = user_id or self.user_id
        return Actor(self.team_id, user, self._user_name(user))

    def _trigger(self) -> str:
        # Unique per request: the fake refuses a trigger_id used twice, as Slack does.
        self.last_trigger_id = f"trig-{next(_trigger_seq)}-{secrets.token_hex(4)}"
        return self.last_trigger_id

    def _response_url(self, channel: str, user: str, message_ts: str | None) -> str:
        if self.fake is not None:
            url = self.fake.new_response_url(
                channel_id=channel, user_id=user, message_ts=message_ts
            )
        else:
            # .invalid never resolves: a bot responding here fails fast instead of going online.
            url = f"https://hooks.slack.invalid/actions/{self.team_id}/{secrets.token_hex(6)}"
        self.last_response_url = url
        return url

    def _user_name(self, user_id: str) -> str:
        if self.fake is not None:
            return str(self.fake.user(user_id)["name"])
        return f"user-{user_id.lower()}"

    def _clicked_message(
        self, message: Mapping[str, Any] | Posted | None, channel_id: str | None
    ) -> tuple[dict[str, Any], str, bool]:
        """(message dict, channel id, is_ephemeral) for the message a click happens on."""
        if isinstance(message, Posted):
            channel = channel_id or message.channel or self.channel_id
            current = None
            if self.fake is not None and message.ts and message.kind in ("message", "dm", "update"):
                current = self.fake.message(channel, message.ts)
            msg = current or {
                "type": "message",
                "ts": message.ts,
                "text": message.text or "",
                "blocks": copy.deepcopy(message.blocks),
            }
            return msg, channel, message.kind == "ephemeral"
        msg = copy.deepcopy(dict(message)) if message is not None else {}
        msg.setdefault("type", "message")
        msg.setdefault("text", "")
        msg.setdefault("blocks", [])
        return msg, channel_id or self.channel_id, False

    # ---- HTTP ------------------------------------------------------------------------------

    def _post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        unsigned: bool = False,
    ) -> SentResponse:
        headers = {"Content-Type": content_type}
        if not unsigned:
            stamp = str(timestamp if timestamp is not None else int(self.clock()))
            key = secret if secret is not None else self.signing_secret
            headers.update(signed_headers(key, stamp, body, signature=signature))
        request = urllib.request.Request(self.events_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _sent(response.status, response.read(), dict(response.headers.items()))
        except urllib.error.HTTPError as err:  # 4xx/5xx are answers to assert on, not failures
            with err:
                return _sent(err.code, err.read(), dict(err.headers.items()))


def _plain(view: Mapping[str, Any] | ViewRecord) -> Mapping[str, Any]:
    return view.view if isinstance(view, ViewRecord) else view


def _sent(status: int, raw: bytes, headers: dict[str, str]) -> SentResponse:
    text = raw.decode("utf-8", errors="replace")
    decoded: dict[str, Any] | None = None
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        decoded = parsed if isinstance(parsed, dict) else None
    return SentResponse(status, text, decoded, headers)
