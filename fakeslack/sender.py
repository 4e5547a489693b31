"""Plays Slack toward the bot: signed slash commands, button clicks and modal submissions.

Requests are built in Slack's wire format (form-encoded; interactive payloads as one ``payload``
form field holding JSON) and signed with the v0 scheme, then POSTed to the bot's events URL with
urllib. Standard library only, like the fake server.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import Any
from urllib.parse import urlencode

from fakeslack.server import APP_ID, TEAM_DOMAIN, FakeSlack, Posted, ViewRecord

__all__ = ["SentResponse", "SlackSender", "slack_signature", "values_for"]

# Slack still sends the legacy verification token in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "fake-verification-token"
FORM = "application/x-www-form-urlencoded"

_trigger_seq = itertools.count(1)


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``: what X-Slack-Signature carries."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


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
        user = user_id or self.user_id
        channel = channel_id or self.channel_id
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": _channel_name(channel),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(channel, user, None),
            "trigger_id": self._trigger(),
        }
        body = urlencode(fields).encode()
        return self._post(body, FORM, timestamp=timestamp, secret=secret)

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
        submitted = copy.deepcopy(dict(view.view if isinstance(view, ViewRecord) else view))
        submitted.setdefault("id", "V0LOCAL")
        submitted.setdefault("team_id", self.team_id)
        submitted.setdefault("app_id", APP_ID)
        submitted["state"] = {"values": copy.deepcopy(values)}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id or self.user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._post_payload(payload, timestamp=timestamp, secret=secret)

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
        plain = dict(view.view if isinstance(view, ViewRecord) else view)
        block = next((b for b in plain.get("blocks") or [] if b.get("block_id") == block_id), None)
        if block is None or not isinstance(block.get("element"), dict):
            raise ValueError(f"the view has no input {block_id!r}")
        element = block["element"]
        option = next((o for o in element.get("options") or [] if o.get("value") == value), None)
        if option is None:
            raise ValueError(f"{block_id!r} offers no option {value!r}")
        current = copy.deepcopy(plain)
        current.setdefault("id", "V0LOCAL")
        current["state"] = {"values": values_for(plain, {block_id: value})}
        payload = {
            "type": "block_actions",
            "team": self._team(),
            "user": self._user(user_id or self.user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": current["id"]},
            "trigger_id": self._trigger(),
            "view": current,
            "actions": [
                {
                    "type": element.get("type"),
                    "action_id": element.get("action_id"),
                    "block_id": block_id,
                    "selected_option": copy.deepcopy(option),
                    "action_ts": f"{self.clock():.6f}",
                }
            ],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._post_payload(payload, timestamp=None, secret=None)

    def submit_answers(
        self,
        view: Mapping[str, Any] | ViewRecord,
        answers: Mapping[str, object],
        *,
        user_id: str | None = None,
    ) -> SentResponse:
        """Fill the modal's inputs from plain answers (see ``values_for``) and submit it."""
        plain = view.view if isinstance(view, ViewRecord) else view
        return self.submit_view(view, values_for(plain, answers), user_id=user_id)

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
        ts = message_ts or msg.get("ts") or f"{int(self.clock())}.000001"
        msg["ts"] = ts
        user = user_id or self.user_id
        found = _find_element(msg.get("blocks") or [], action_id)
        action = _action(action_id, value, block_id, found, self.clock())
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self._trigger(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": _channel_name(channel)},
            "message": msg,
            "state": {"values": {}},
            "response_url": self._response_url(channel, user, None if ephemeral else ts),
            "actions": [action],
        }
        return self._post_payload(payload, timestamp=timestamp, secret=secret)

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

    @staticmethod
    def values_for(view: Mapping[str, Any], answers: Mapping[str, object]) -> dict[str, Any]:
        """The module-level ``values_for`` (this name resolves to the global at call time)."""
        return values_for(view, answers)

    # ---- building blocks -------------------------------------------------------------------

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

    def _user(self, user_id: str) -> dict[str, str]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": TEAM_DOMAIN}

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

    def _post_payload(
        self, payload: dict[str, Any], *, timestamp: int | str | None, secret: str | None
    ) -> SentResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._post(body, FORM, timestamp=timestamp, secret=secret)

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
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = signature or slack_signature(
                secret if secret is not None else self.signing_secret, stamp, body
            )
        request = urllib.request.Request(self.events_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _sent(response.status, response.read(), dict(response.headers.items()))
        except urllib.error.HTTPError as err:  # 4xx/5xx are answers to assert on, not failures
            with err:
                return _sent(err.code, err.read(), dict(err.headers.items()))


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


def _channel_name(channel_id: str) -> str:
    # Slack reports "directmessage" for DMs; any stable name will do for channels.
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


# ---- clicks -----------------------------------------------------------------------------------


def _iter_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for block in blocks:
        block_id = block.get("block_id")
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield block_id, element
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                yield block_id, block[key]


def _find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[str | None, dict[str, Any]] | None:
    matches = ((b, e) for b, e in _iter_elements(blocks) if e.get("action_id") == action_id)
    return next(matches, None)


def _action(
    action_id: str,
    value: str | None,
    block_id: str | None,
    found: tuple[str | None, dict[str, Any]] | None,
    now: float,
) -> dict[str, Any]:
    found_block, element = found if found is not None else (None, {})
    kind = element.get("type", "button")
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or found_block or "b",
        "type": kind,
        "action_ts": f"{now:.6f}",
    }
    chosen = value if value is not None else str(element.get("value", ""))
    if kind == "button":
        action["value"] = chosen
        if "text" in element:
            action["text"] = element["text"]
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        action["selected_option"] = _option(element, chosen, action_id)
    else:
        action["value"] = chosen
    return action


# ---- modal state ------------------------------------------------------------------------------

# element type -> (state key, initial-value key, empty state value)
_STATE_KEYS: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("value", "initial_value", None),
    "email_text_input": ("value", "initial_value", None),
    "url_text_input": ("value", "initial_value", None),
    "number_input": ("value", "initial_value", None),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
    "datetimepicker": ("selected_date_time", "initial_date_time", None),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "radio_buttons": ("selected_option", "initial_option", None),
    "checkboxes": ("selected_options", "initial_options", []),
    "multi_static_select": ("selected_options", "initial_options", []),
    "users_select": ("selected_user", "initial_user", None),
    "multi_users_select": ("selected_users", "initial_users", []),
    "conversations_select": ("selected_conversation", "initial_conversation", None),
    "channels_select": ("selected_channel", "initial_channel", None),
}


def values_for(view: Mapping[str, Any], answers: Mapping[str, object]) -> dict[str, Any]:
    """``view.state.values`` as Slack would send it after a user typed ``answers``.

    ``answers`` is keyed by an input block's block_id (or its element's action_id) and holds
    plain Python values: str for text inputs, ``date``/"YYYY-MM-DD" for datepickers, an aware
    ``datetime`` or unix seconds for datetimepickers, the option *value* for selects and radio
    buttons, a list of values for checkboxes, a user id for users_select. An input not answered
    keeps its initial value, as in Slack, or else gets Slack's empty state; an answer of None
    clears it. Raises ValueError for unknown keys and options the view does not offer.
    """
    state: dict[str, Any] = {}
    used: set[str] = set()
    for index, block in enumerate(view.get("blocks") or []):
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        element = block["element"]
        block_id = block.get("block_id") or f"_block{index}"
        action_id = element.get("action_id") or f"_action{index}"
        key = block_id if block_id in answers else action_id if action_id in answers else None
        if key is not None:
            used.add(key)
        entry = _state_entry(element, answers[key] if key is not None else _UNANSWERED, block_id)
        state[block_id] = {action_id: entry}
    unknown = set(answers) - used
    if unknown:
        raise ValueError(f"answers for inputs the view does not have: {sorted(unknown)}")
    return state


_UNANSWERED = object()


def _state_entry(element: dict[str, Any], answer: object, block_id: str) -> dict[str, Any]:
    kind = str(element.get("type"))
    if kind not in _STATE_KEYS:
        if answer is _UNANSWERED or answer is None:
            return {"type": kind}
        raise ValueError(f"{block_id}: element type {kind!r} is not supported by values_for")
    state_key, initial_key, empty = _STATE_KEYS[kind]
    if answer is _UNANSWERED:
        value = copy.deepcopy(element.get(initial_key, empty))
    elif answer is None:
        value = copy.deepcopy(empty)
    else:
        value = _convert(kind, element, answer, block_id)
    return {"type": kind, state_key: value}


def _convert(kind: str, element: dict[str, Any], answer: object, block_id: str) -> Any:
    if kind == "datepicker":
        return _as_date(answer, block_id)
    if kind == "timepicker":
        return answer.strftime("%H:%M") if isinstance(answer, dtime) else str(answer)
    if kind == "datetimepicker":
        return _as_unix_seconds(answer, block_id)
    if kind in ("static_select", "external_select", "radio_buttons"):
        return _option(element, str(answer), block_id)
    if kind in ("checkboxes", "multi_static_select"):
        return [_option(element, str(v), block_id) for v in _as_list(answer, block_id)]
    if kind == "multi_users_select":
        return [str(v) for v in _as_list(answer, block_id)]
    return str(answer)


def _as_date(answer: object, block_id: str) -> str:
    if isinstance(answer, datetime):
        raise ValueError(f"{block_id}: a datepicker takes a date, not a datetime")
    if isinstance(answer, date):
        return answer.isoformat()
    text = str(answer)
    date.fromisoformat(text)  # raises ValueError for anything Slack would not send
    return text


def _as_unix_seconds(answer: object, block_id: str) -> int:
    if isinstance(answer, datetime):
        if answer.tzinfo is None:
            raise ValueError(f"{block_id}: a datetimepicker answer must be timezone-aware")
        return int(answer.timestamp())
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    raise ValueError(f"{block_id}: a datetimepicker takes an aware datetime or unix seconds")


def _as_list(answer: object, block_id: str) -> list[object]:
    if isinstance(answer, (list, tuple, set, frozenset)):
        return list(answer)
    raise ValueError(f"{block_id}: a multi-select takes a list of values")


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: dict[str, Any], value: str, where: str) -> dict[str, Any]:
    options = _options(element)
    for option in options:
        if option.get("value") == value:
            return copy.deepcopy(option)
    offered = [o.get("value") for o in options]
    raise ValueError(f"{where}: no option with value {value!r}; the view offers {offered}")
