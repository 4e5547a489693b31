"""Tests of the offline Slack: FakeSlack, SlackSender, the Block Kit checks and SocketModeFake.

Everything talks real HTTP / websockets on 127.0.0.1 with ports chosen by the kernel.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from fakeslack import FakeSlack, Posted, SlackSender, slack_signature, values_for
from tests.support.blockkit import assert_all_valid, assert_valid_message, assert_valid_view
from tests.support.socket_fake import SocketModeFake

SECRET = "test-signing-secret"
NOW = 1_750_000_000.0


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def modal(blocks: list[dict[str, Any]], callback_id: str = "episode_new") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": "New episode"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": "meta",
        "blocks": blocks,
    }


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def input_block(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    element = {"action_id": f"{block_id}_input", **element}
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "label": label, "element": element}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


# ---- FakeSlack: Web API -----------------------------------------------------------------------


def test_auth_test_answers_like_slack(fake: FakeSlack, client: WebClient) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == "UBOTMISSING"
    assert answer["team_id"] == "T0MISSING"
    assert answer["bot_id"]
    assert fake.calls_to("auth.test")[0].token == "xoxb-test"


def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        WebClient(base_url=fake.api_url).auth_test()
    assert caught.value.response["error"] == "not_authed"


def test_post_message_to_channel_and_thread(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="CCONTROL", text="Episode 1", blocks=[section("*1*")])
    reply = client.chat_postMessage(channel="CCONTROL", text="update", thread_ts=parent["ts"])

    assert parent["channel"] == "CCONTROL"
    assert parent["message"]["blocks"] == [section("*1*")]
    assert float(reply["ts"]) > float(parent["ts"])
    assert [p.kind for p in fake.posted] == ["message", "message"]
    assert fake.posted[0].blocks == [section("*1*")]
    assert [p.text for p in fake.thread("CCONTROL", parent["ts"])] == ["Episode 1", "update"]
    assert fake.posted[1].thread_ts == parent["ts"]
    assert len(fake.messages_in("CCONTROL")) == 2


def test_post_message_to_user_is_a_dm(fake: FakeSlack, client: WebClient) -> None:
    answer = client.chat_postMessage(channel="U123", text="You are on duty")
    assert answer["channel"] == "DU123"
    [dm] = fake.dms_to("U123")
    assert (dm.kind, dm.channel, dm.user) == ("dm", "DU123", "U123")
    opened = client.conversations_open(users="U123")["channel"]["id"]
    client.chat_postMessage(channel=opened, text="again")
    assert [p.text for p in fake.dms_to("U123")] == ["You are on duty", "again"]


def test_post_message_needs_text_or_blocks(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel="C1", text="")
    assert caught.value.response["error"] == "no_text"


def test_update_replaces_message_and_keeps_history(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="open", blocks=[section("open")])
    client.chat_update(channel="C1", ts=posted["ts"], text="closed", blocks=[section("closed")])

    assert (fake.message("C1", posted["ts"]) or {}).get("text") == "closed"
    assert [(p.kind, p.text) for p in fake.messages_in("C1")] == [
        ("message", "open"),
        ("update", "closed"),
    ]
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C1", ts="1.2", text="nope")
    assert caught.value.response["error"] == "message_not_found"


def test_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    [post] = fake.wait_for_posted("ephemeral")
    assert (post.channel, post.user, post.ts) == ("C1", "U1", answer["message_ts"])


def test_views_trigger_can_be_used_once(fake: FakeSlack, client: WebClient) -> None:
    view = modal([section("hello")])
    opened = client.views_open(trigger_id="trig-1", view=view)["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "episode_new"
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id="trig-1", view=view)
    assert caught.value.response["error"] == "expired_trigger_id"

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)["view"]
    assert updated["id"] == opened["id"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert stale.value.response["error"] == "hash_conflict"

    client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("home")]})
    assert [(v.method, v.trigger_id) for v in fake.views] == [
        ("views.open", "trig-1"),
        ("views.update", None),
        ("views.publish", None),
    ]


def test_users_info_known_unknown_and_deleted(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U1", "sgt.jones", real_name="Sgt Jones")
    fake.add_user("U2", "gone", deleted=True)
    assert client.users_info(user="U1")["user"]["real_name"] == "Sgt Jones"
    assert client.users_info(user="U2")["user"]["deleted"] is True
    stranger = client.users_info(user="U9")["user"]
    assert (stranger["tz"], stranger["is_bot"], stranger["deleted"]) == (
        "Europe/London",
        False,
        False,
    )


def test_unknown_method_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("reactions.add", json={"name": "eyes"})
    assert caught.value.response["error"] == "unknown_method"
    assert fake.calls_to("reactions.add")[0].args == {"name": "eyes"}


def test_form_encoded_json_fields_are_decoded(fake: FakeSlack, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "blocks": json.dumps([section("x")])}
    )
    assert fake.posted[0].blocks == [section("x")]


# ---- FakeSlack: faults ------------------------------------------------------------------------


def test_rate_limit_fault(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="hi")
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert fake.posted == []
    client.chat_postMessage(channel="C1", text="hi")  # times=1: the next call succeeds
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


def test_server_error_fault(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=503, times=None)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C1", text="hi")
        assert caught.value.response.status_code == 503
    fake.clear_faults()
    client.chat_postMessage(channel="C1", text="hi")


def test_error_fault_only_when_predicate_matches(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("users.info", error="user_not_found", when=lambda args: args.get("user") == "U404")
    assert client.users_info(user="U1")["ok"]
    with pytest.raises(SlackApiError) as caught:
        client.users_info(user="U404")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "user_not_found"
    assert fake.calls_to("users.info")[-1].error == "user_not_found"


def test_status_200_fault_needs_an_error(fake: FakeSlack) -> None:
    with pytest.raises(ValueError):
        fake.fail("chat.postMessage")


# ---- FakeSlack: response URLs and waiting -----------------------------------------------------


def test_respond_via_response_url(fake: FakeSlack, client: WebClient) -> None:
    original = client.chat_postMessage(channel="C1", text="open")
    url = fake.new_response_url(channel_id="C1", user_id="U1", message_ts=original["ts"])
    webhook = WebhookClient(url)

    assert webhook.send(text="Only you see this").status_code == 200
    assert webhook.send(text="Everyone", response_type="in_channel").status_code == 200
    assert webhook.send(text="replaced", replace_original=True).status_code == 200

    kinds = [(p.kind, p.channel, p.user, p.text) for p in fake.posted[1:]]
    assert kinds == [
        ("response", "C1", "U1", "Only you see this"),
        ("response_in_channel", "C1", "U1", "Everyone"),
        ("response", "C1", "U1", "replaced"),
    ]
    assert (fake.message("C1", original["ts"]) or {}).get("text") == "replaced"
    assert WebhookClient(fake.url + "response/999").send(text="x").status_code == 404


def test_response_url_allows_five_posts(fake: FakeSlack) -> None:
    webhook = WebhookClient(fake.new_response_url())
    statuses = [webhook.send(text=f"{n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]


def test_wait_for_timeout_lists_recent_calls(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="something else")
    with pytest.raises(AssertionError, match=r"chat.postMessage -> 200.*something else"):
        fake.wait_for_posted(kind="dm", timeout=0.2)


def test_wait_for_sees_posts_from_other_threads(fake: FakeSlack, client: WebClient) -> None:
    since = fake.mark()
    seen: list[Posted] = []
    fake.on_post = seen.append
    worker = threading.Thread(target=lambda: client.chat_postMessage(channel="U7", text="late"))
    worker.start()
    [dm] = fake.wait_for_posted("dm", since=since, timeout=2)
    worker.join()
    assert dm.text == "late"
    assert fake.wait_for(lambda f: f.dms_to("U7")) == [dm]
    assert seen == [dm]
    fake.wait_idle(quiet=0.05, timeout=2)
    assert fake.wait_for_call("chat.postMessage")[0].args["text"] == "late"


# ---- SlackSender ------------------------------------------------------------------------------


class _Capture(ThreadingHTTPServer):
    """A stand-in for the bot's events endpoint: verifies signatures like Bolt does."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CaptureHandler)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.verifier = SignatureVerifier(SECRET, clock=_FixedClock())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/slack/events"


class _FixedClock:
    def now(self) -> float:
        return NOW


class _CaptureHandler(BaseHTTPRequestHandler):
    server: _Capture

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append((headers, body))
        ok = self.server.verifier.is_valid_request(body, headers)
        reply = json.dumps({"ok": ok}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[_Capture]:
    server = _Capture()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sender(capture: _Capture, fake: FakeSlack) -> SlackSender:
    return SlackSender(capture.url, SECRET, fake=fake, clock=lambda: NOW)


def test_slash_is_signed_and_form_encoded(
    sender: SlackSender, capture: _Capture, fake: FakeSlack
) -> None:
    answer = sender.slash("new 14 Acacia Road", user_id="U42")
    assert (answer.status, answer.json) == (200, {"ok": True})

    headers, body = capture.requests[-1]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    expected = slack_signature(SECRET, str(int(NOW)), body)
    assert headers["x-slack-signature"] == expected
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert fields["command"] == "/missing"
    assert fields["text"] == "new 14 Acacia Road"
    assert (fields["user_id"], fields["channel_id"]) == ("U42", "CCONTROL")
    assert fields["response_url"] == sender.last_response_url
    assert fields["trigger_id"] == sender.last_trigger_id
    assert str(sender.last_response_url).startswith(fake.url + "response/")
    sender.slash("again")
    assert fields["trigger_id"] != sender.last_trigger_id


def test_stale_and_forged_requests_are_rejected(sender: SlackSender) -> None:
    assert sender.slash("x", timestamp=int(NOW) - 301).status == 401
    assert sender.slash("x", secret="wrong").status == 401
    assert sender.raw(b"a=b", "application/x-www-form-urlencoded", unsigned=True).status == 401
    assert sender.raw(b"a=b", "application/x-www-form-urlencoded").status == 200


def _payload(capture: _Capture) -> dict[str, Any]:
    body = capture.requests[-1][1].decode()
    return json.loads(parse_qs(body)["payload"][0])


def test_click_uses_the_button_in_the_message(
    sender: SlackSender, capture: _Capture, fake: FakeSlack, client: WebClient
) -> None:
    button = {
        "type": "button",
        "action_id": "close_episode",
        "value": "42",
        "text": {"type": "plain_text", "text": "Close"},
    }
    actions = {"type": "actions", "block_id": "card_actions", "elements": [button]}
    client.chat_postMessage(channel="CCONTROL", text="Episode 42", blocks=[actions])
    [posted] = fake.posted

    assert sender.click("close_episode", message=posted).status == 200
    payload = _payload(capture)
    assert payload["type"] == "block_actions"
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "close_episode",
        "card_actions",
        "42",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted.ts,
        "channel_id": "CCONTROL",
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"] == [actions]
    WebhookClient(payload["response_url"]).send(text="Closed", replace_original=True)
    assert (fake.message("CCONTROL", str(posted.ts)) or {}).get("text") == "Closed"


def test_submit_view_carries_the_view_and_state(
    sender: SlackSender, capture: _Capture, client: WebClient, fake: FakeSlack
) -> None:
    view = modal([input_block("name", {"type": "plain_text_input"})])
    client.views_open(trigger_id="t-1", view=view)
    record = fake.wait_for_view("episode_new")
    sender.submit_answers(record, {"name": "Alex"}, user_id="U5")

    payload = _payload(capture)
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == "U5"
    submitted = payload["view"]
    assert (submitted["id"], submitted["callback_id"]) == (record.id, "episode_new")
    assert submitted["private_metadata"] == "meta"
    assert submitted["state"]["values"] == {
        "name": {"name_input": {"type": "plain_text_input", "value": "Alex"}}
    }


def test_values_for_every_element_type() -> None:
    view = modal(
        [
            input_block("name", {"type": "plain_text_input"}),
            input_block("seen", {"type": "datepicker"}),
            input_block("at", {"type": "datetimepicker"}),
            input_block("time", {"type": "timepicker"}),
            input_block(
                "risk", {"type": "static_select", "options": [option("low"), option("high")]}
            ),
            input_block("how", {"type": "radio_buttons", "options": [option("phone")]}),
            input_block(
                "flags", {"type": "checkboxes", "options": [option("cse"), option("drugs")]}
            ),
            input_block("officer", {"type": "users_select"}),
            input_block("note", {"type": "plain_text_input", "initial_value": "prefilled"}),
            input_block("empty_date", {"type": "datepicker"}),
            input_block("empty_select", {"type": "static_select", "options": [option("a")]}),
            input_block("empty_boxes", {"type": "checkboxes", "options": [option("a")]}),
        ]
    )
    at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    values = values_for(
        view,
        {
            "name": "Alex",
            "seen": date(2025, 3, 30),
            "at": at,
            "time_input": time(9, 5),  # by action_id
            "risk": "high",
            "how": "phone",
            "flags": ["cse", "drugs"],
            "officer": "U77",
        },
    )
    assert values["name"] == {"name_input": {"type": "plain_text_input", "value": "Alex"}}
    assert values["seen"]["seen_input"]["selected_date"] == "2025-03-30"
    assert values["at"]["at_input"]["selected_date_time"] == int(at.timestamp())
    assert values["time"]["time_input"]["selected_time"] == "09:05"
    assert values["risk"]["risk_input"]["selected_option"] == option("high")
    assert values["how"]["how_input"] == {
        "type": "radio_buttons",
        "selected_option": option("phone"),
    }
    assert values["flags"]["flags_input"]["selected_options"] == [option("cse"), option("drugs")]
    assert values["officer"]["officer_input"] == {"type": "users_select", "selected_user": "U77"}
    assert values["note"]["note_input"]["value"] == "prefilled"
    assert values["empty_date"]["empty_date_input"] == {"type": "datepicker", "selected_date": None}
    assert values["empty_select"]["empty_select_input"]["selected_option"] is None
    assert values["empty_boxes"]["empty_boxes_input"]["selected_options"] == []


@pytest.mark.parametrize(
    "answers",
    [
        {"risk": "medium"},  # not an option of the select
        {"nosuch": "x"},  # not an input of the view
        {"at": datetime(2025, 1, 1, 9, 0)},  # naive datetime: which zone?
        {"seen": "30/03/2025"},  # not ISO
    ],
)
def test_values_for_rejects_impossible_answers(answers: dict[str, object]) -> None:
    view = modal(
        [
            input_block("risk", {"type": "static_select", "options": [option("low")]}),
            input_block("at", {"type": "datetimepicker"}),
            input_block("seen", {"type": "datepicker"}),
        ]
    )
    with pytest.raises(ValueError):
        values_for(view, answers)


# ---- Block Kit checks -------------------------------------------------------------------------


def test_blockkit_accepts_a_valid_message_and_view() -> None:
    assert_valid_message(
        {"text": "Episode 1", "blocks": [section("*Episode 1*"), {"type": "divider"}]}
    )
    assert_valid_message({"text": "text only"})
    assert_valid_view(modal([input_block("name", {"type": "plain_text_input"})]))


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ({"text": "x", "blocks": [section("s")] * 51}, "51 blocks"),
        ({"blocks": [section("s")]}, "fallback"),
        (
            {
                "text": "x",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "150",
        ),
        ({"text": "x", "blocks": [{"type": "tabel"}]}, "does not know"),
        ({"text": "x", "blocks": [section("s", accesory={})]}, "accesory"),
        ({"text": "x", "blocks": [section("s" * 2999)] * 5}, "characters of text"),
    ],
)
def test_blockkit_rejects_what_slack_rejects(payload: dict[str, Any], complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint):
        assert_valid_message(payload)


def test_blockkit_rejects_long_modal_title() -> None:
    view = modal([section("x")])
    view["title"]["text"] = "A title far longer than Slack allows"
    with pytest.raises(AssertionError):
        assert_valid_view(view)


def test_assert_all_valid_checks_everything_the_fake_saw(
    fake: FakeSlack, client: WebClient
) -> None:
    client.chat_postMessage(channel="C1", text="ok", blocks=[section("fine")])
    WebhookClient(fake.new_response_url()).send(text="fine too")
    client.views_open(trigger_id="t", view=modal([section("x")]))
    assert_all_valid(fake)
    with pytest.raises(SlackApiError):  # Slack (and the fake) refuse it too: invalid_blocks
        client.chat_postMessage(channel="C1", text="bad", blocks=[section("s")] * 51)
    with pytest.raises(AssertionError, match=r"call 3 chat.postMessage: message has 51 blocks"):
        assert_all_valid(fake)


# ---- Socket Mode ------------------------------------------------------------------------------


def _close_quickly(client: SocketModeClient) -> None:
    # close() joins the message processor, which waits up to 1 s in queue.get(timeout=1);
    # marking it closed and waking it with None (a value it skips) makes that immediate.
    client.closed = True
    client.message_queue.put(None)
    client.close()


def test_socket_mode_round_trip(fake: FakeSlack) -> None:
    with SocketModeFake() as sock:
        fake.socket_url = sock.ws_url
        web = WebClient(token="xoxb-test", base_url=fake.api_url)
        client = SocketModeClient(
            app_token="xapp-test", web_client=web, auto_reconnect_enabled=False
        )

        def ack(sm: SocketModeClient, request: SocketModeRequest) -> None:
            reply = {"text": f"got {request.payload['command']}"}
            sm.send_socket_mode_response(SocketModeResponse(request.envelope_id, reply))

        client.socket_mode_request_listeners.append(ack)
        try:
            client.connect()
            sock.wait_connected(timeout=5)
            envelope_id = sock.send_envelope("slash_commands", {"command": "/missing", "text": ""})
            reply = sock.wait_for_ack(envelope_id, timeout=5)
        finally:
            sock.close_connections()
            _close_quickly(client)
    assert reply == {"envelope_id": envelope_id, "payload": {"text": "got /missing"}}
    assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"


def test_connections_open_refuses_bot_tokens(fake: FakeSlack, client: WebClient) -> None:
    fake.socket_url = "ws://127.0.0.1:1/link"
    with pytest.raises(SlackApiError) as caught:
        client.apps_connections_open(app_token="xoxb-not-an-app-token")
    assert caught.value.response["error"] == "not_allowed_token_type"


# ---- A real Bolt app against both fakes ----------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bolt_url(fake: FakeSlack) -> Iterator[str]:
    """A tiny Bolt app: /missing opens a modal; submitting it posts to the channel."""
    app = App(
        token="xoxb-test",
        signing_secret=SECRET,
        client=WebClient(token="xoxb-test", base_url=fake.api_url),
    )

    @app.command("/missing")
    def open_modal(ack: Any, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        view = modal([input_block("name", {"type": "plain_text_input"})])
        client.views_open(trigger_id=body["trigger_id"], view=view)
        respond(text="Opening the form")

    @app.view("episode_new")
    def save(ack: Any, view: dict[str, Any], client: WebClient) -> None:
        name = view["state"]["values"]["name"]["name_input"]["value"]
        if not name:
            ack(response_action="errors", errors={"name": "Enter a name"})
            return
        ack()
        client.chat_postMessage(channel="CCONTROL", text=f"Missing: {name}")

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), WSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()
    thread.join()


def test_bolt_app_end_to_end(fake: FakeSlack, bolt_url: str) -> None:
    sender = SlackSender(bolt_url, SECRET, fake=fake)
    assert sender.slash("").status == 200
    record = fake.wait_for_view("episode_new")
    assert record.trigger_id == sender.last_trigger_id
    fake.wait_for_posted("response")

    refused = sender.submit_answers(record, {"name": None})
    assert refused.json == {"response_action": "errors", "errors": {"name": "Enter a name"}}
    assert sender.submit_answers(record, {"name": "Alex"}).status == 200
    [message] = fake.wait_for_posted("message")
    assert message.text == "Missing: Alex"
    assert sender.slash("", secret="forged").status == 401
    assert_all_valid(fake)
