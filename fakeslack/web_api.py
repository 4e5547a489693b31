"""The Web API methods the fake implements: auth, chat, views, users, conversations, apps.

Each handler runs with the fake's lock held, returns an ``Outcome`` and raises ``SlackError``
for ``{"ok": false}``. ``WEB_API_METHODS`` maps Slack's method names to them; files,
history and user groups live in their own modules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fakeslack.checks import (
    check_blocks,
    check_metadata,
    check_text_and_blocks,
    require,
    require_view_type,
)
from fakeslack.records import TEAM_DOMAIN, Posted, ViewRecord
from fakeslack.replies import Outcome, SlackError
from fakeslack.state import FakeSlackState, block_list, conversation


class WebApi(FakeSlackState):
    """The method handlers, as methods of the fake so they reach its state directly."""

    def _api_auth_test(self, args: dict[str, Any], token: str) -> Outcome:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Missing Test",
            "team_id": self.team_id,
            "user": "missing-bot",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }, []

    def _api_chat_post_message(self, args: dict[str, Any], token: str) -> Outcome:
        channel_arg = args.get("channel")
        if not channel_arg:
            raise SlackError("channel_not_found")
        blocks = check_text_and_blocks(args)
        check_metadata(args)
        channel, kind, user = conversation(str(channel_arg))
        ts = self._next_ts_locked()
        message = self._new_message_locked(args, ts)
        self._messages[(channel, ts)] = message
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        posted = Posted(kind, channel, user, ts, thread_ts, args.get("text"), blocks, args)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}, [
            posted
        ]

    def _api_chat_post_ephemeral(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "channel", "user")
        blocks = check_text_and_blocks(args)
        channel = conversation(str(args["channel"]))[0]
        ts = self._next_ts_locked()
        posted = Posted(
            "ephemeral",
            channel,
            str(args["user"]),
            ts,
            args.get("thread_ts") or None,
            args.get("text"),
            blocks,
            args,
        )
        return {"ok": True, "message_ts": ts}, [posted]

    def _api_chat_update(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "channel", "ts")
        channel, _, user = conversation(str(args["channel"]))
        ts = str(args["ts"])
        message = self._messages.get((channel, ts))
        if message is None:
            raise SlackError("message_not_found")
        check_blocks(args)
        check_metadata(args)
        # Slack keeps the old blocks/attachments when the update omits them; [] removes them.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts_locked()}
        posted = Posted(
            "update",
            channel,
            user,
            ts,
            message.get("thread_ts"),
            message.get("text"),
            block_list(message.get("blocks")),
            args,
        )
        data = {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }
        return data, [posted]

    def _api_chat_get_permalink(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "channel", "message_ts")
        channel = conversation(str(args["channel"]))[0]
        stamp = str(args["message_ts"]).replace(".", "")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{stamp}"
        return {"ok": True, "channel": channel, "permalink": link}, []

    def _api_views_open(self, args: dict[str, Any], token: str) -> Outcome:
        return self._open_modal_locked("views.open", args)

    def _api_views_push(self, args: dict[str, Any], token: str) -> Outcome:
        return self._open_modal_locked("views.push", args)

    def _open_modal_locked(self, method: str, args: dict[str, Any]) -> Outcome:
        """views.open and views.push: a modal shown on a one-use trigger id."""
        require(args, "trigger_id", "view")
        require_view_type(args["view"], "modal")
        self._consume_trigger_locked(str(args["trigger_id"]))
        stored = self._store_view_locked(args["view"])
        self._views.append(
            ViewRecord(method, stored["id"], copy.deepcopy(stored), str(args["trigger_id"]))
        )
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _api_views_update(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "view")
        current = self._find_view_locked(args.get("view_id"), args.get("external_id"))
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view_locked(args["view"], view_id=current["id"], previous=current)
        self._views.append(ViewRecord("views.update", stored["id"], copy.deepcopy(stored)))
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _find_view_locked(self, view_id: Any, external_id: Any) -> dict[str, Any]:
        if view_id:
            found = self._current_views.get(str(view_id))
        elif external_id:
            found = next(
                (v for v in self._current_views.values() if v.get("external_id") == external_id),
                None,
            )
        else:
            raise SlackError("invalid_arguments", "[ERROR] view_id or external_id is required")
        if found is None:
            raise SlackError("not_found")
        return found

    def _api_views_publish(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "user_id", "view")
        require_view_type(args["view"], "home")
        user_id = str(args["user_id"])
        existing_id = self._home_view_ids.get(user_id)
        existing = self._current_views.get(existing_id) if existing_id else None
        if existing is not None and args.get("hash") and args["hash"] != existing["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view_locked(args["view"], view_id=existing_id, previous=existing)
        self._home_view_ids[user_id] = stored["id"]
        self._views.append(
            ViewRecord("views.publish", stored["id"], copy.deepcopy(stored), user_id=user_id)
        )
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _api_users_info(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "user")
        return {"ok": True, "user": copy.deepcopy(self._user_locked(str(args["user"])))}, []

    def _api_conversations_info(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "channel")
        channel, kind, user = conversation(str(args["channel"]))
        info: dict[str, Any] = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": kind == "message",
            "is_group": False,
            "is_im": kind == "dm",
            "is_private": kind == "dm",
            "is_archived": False,
            "is_member": True,
            "context_team_id": self.team_id,
        }
        if user:
            info["user"] = user
        return {"ok": True, "channel": info}, []

    def _api_conversations_open(self, args: dict[str, Any], token: str) -> Outcome:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": str(args["channel"])}, "no_op": True}, []
        users = args.get("users")
        names = users if isinstance(users, list) else str(users or "").split(",")
        names = [u.strip() for u in names if u and u.strip()]
        if not names:
            raise SlackError("users_list_not_supplied")
        channel = "D" + names[0] if len(names) == 1 else "G" + "".join(sorted(names))[:20]
        return {"ok": True, "channel": {"id": channel}, "no_op": False}, []

    def _api_apps_connections_open(self, args: dict[str, Any], token: str) -> Outcome:
        # Slack only hands out Socket Mode URLs to app-level tokens.
        if not token.startswith("xapp-") or self.socket_url is None:
            raise SlackError("not_allowed_token_type")
        return {"ok": True, "url": self.socket_url}, []


WEB_API_METHODS: dict[str, Callable[[WebApi, dict[str, Any], str], Outcome]] = {
    "auth.test": WebApi._api_auth_test,
    "chat.postMessage": WebApi._api_chat_post_message,
    "chat.postEphemeral": WebApi._api_chat_post_ephemeral,
    "chat.update": WebApi._api_chat_update,
    "chat.getPermalink": WebApi._api_chat_get_permalink,
    "views.open": WebApi._api_views_open,
    "views.push": WebApi._api_views_push,
    "views.update": WebApi._api_views_update,
    "views.publish": WebApi._api_views_publish,
    "users.info": WebApi._api_users_info,
    "conversations.info": WebApi._api_conversations_info,
    "conversations.open": WebApi._api_conversations_open,
    "apps.connections.open": WebApi._api_apps_connections_open,
}
