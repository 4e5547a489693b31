"""The fake Slack's message metadata, conversations.history and usergroups.users.list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata

from fakeslack import FakeSlack

KEY = {"event_type": "episode_posted", "event_payload": {"episode": "E42", "attempt": 1}}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


# ---- metadata ---------------------------------------------------------------------------------


def test_metadata_is_kept_and_listed_only_when_asked(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="Episode 42", metadata=KEY)
    assert (fake.message("C1", posted["ts"]) or {})["metadata"] == KEY

    plain = client.conversations_history(channel="C1")["messages"]
    assert [m["ts"] for m in plain] == [posted["ts"]]
    assert "metadata" not in plain[0]
    [full] = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert full["metadata"] == KEY


def test_metadata_as_the_sdk_model_and_as_a_form_string(fake: FakeSlack, client: WebClient) -> None:
    model = Metadata(event_type=KEY["event_type"], event_payload=KEY["event_payload"])
    client.chat_postMessage(channel="C1", text="model", metadata=model)
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "form", "metadata": json.dumps(KEY)}
    )
    listed = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert [(m["text"], m["metadata"]) for m in listed] == [("form", KEY), ("model", KEY)]


def test_malformed_metadata_is_refused(fake: FakeSlack, client: WebClient) -> None:
    def post(metadata: Any) -> Any:
        return lambda: client.chat_postMessage(channel="C1", text="x", metadata=metadata)

    assert _error(post({"event_payload": {}})) == "invalid_metadata_schema"
    assert _error(post({"event_type": "t", "event_payload": "flat"})) == "invalid_metadata_schema"
    form = {"channel": "C1", "text": "x", "metadata": "{not json"}
    assert _error(lambda: client.api_call("chat.postMessage", params=form)) == (
        "invalid_metadata_format"
    )
    assert fake.posted == []


# ---- conversations.history ---------------------------------------------------------------------


def test_history_is_newest_first_and_leaves_replies_in_their_thread(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C1", text="first")["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=first)
    second = client.chat_postMessage(channel="C1", text="second")["ts"]
    client.chat_postEphemeral(channel="C1", user="U1", text="only U1")
    client.chat_postMessage(channel="C2", text="elsewhere")
    client.chat_update(channel="C1", ts=second, text="second, edited")

    messages = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in messages] == ["second, edited", "first"]
    parent = messages[1]
    assert (parent["thread_ts"], parent["reply_count"], parent["reply_users"]) == (
        first,
        1,
        ["UBOTMISSING"],
    )


def test_history_pages_with_limit_and_cursor(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=f"m{n}")["ts"] for n in range(5)]
    page = client.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"]
    assert page["has_more"] is True
    texts = [
        m["text"]
        for page in client.conversations_history(channel="C1", limit=2)
        for m in page["messages"]
    ]  # slack-sdk follows response_metadata.next_cursor itself
    assert texts == ["m4", "m3", "m2", "m1", "m0"]

    window = client.conversations_history(channel="C1", oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    both_ends = client.conversations_history(
        channel="C1", oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in both_ends["messages"]] == ["m3", "m2", "m1"]
    assert client.conversations_history(channel="C9")["messages"] == []


def test_history_refuses_what_slack_refuses(client: WebClient) -> None:
    def history(**params: Any) -> Any:
        return lambda: client.api_call("conversations.history", http_verb="GET", params=params)

    assert _error(history()) == "channel_not_found"
    assert _error(history(channel="U123")) == "channel_not_found"
    assert _error(history(channel="C1", oldest="yesterday")) == "invalid_ts_oldest"
    assert _error(history(channel="C1", latest="nan")) == "invalid_ts_latest"
    assert _error(history(channel="C1", cursor="garbage!")) == "invalid_cursor"
    assert _error(history(channel="C1", limit="many")) == "invalid_arguments"


# ---- usergroups.users.list ---------------------------------------------------------------------


def test_usergroup_members(fake: FakeSlack, client: WebClient) -> None:
    fake.set_usergroup("S123", ["U1", "U2"])
    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U1", "U2"]
    fake.set_usergroup("S123", ["U3"])
    fake.reset()  # user groups are set-up, like users: a reset keeps them
    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U3"]
    assert _error(lambda: client.usergroups_users_list(usergroup="S404")) == "no_such_subteam"
    with pytest.raises(TypeError):
        fake.set_usergroup("S9", "U1")
