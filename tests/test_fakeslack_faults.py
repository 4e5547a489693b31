"""The fake Slack's faults beyond a single error: slow answers and app-wide auth errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from fakeslack import FakeSlack

APP_WIDE_ERRORS = ["invalid_auth", "token_revoked", "missing_scope", "not_authed"]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


# ---- slow answers ------------------------------------------------------------------------------


def test_slow_post_times_out_but_the_message_went_out(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", delay=12)
    impatient = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=1)
    key = {"event_type": "episode_posted", "event_payload": {"episode": "E42"}}

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="Episode 42", metadata=key)
    assert time.monotonic() - started < 5
    [post] = fake.posted
    assert post.text == "Episode 42"
    assert fake.calls_to("chat.postMessage")[0].ok

    # The sender that timed out can find out that its message is there before sending again.
    history = impatient.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["metadata"] for m in history["messages"]] == [key]
    impatient.chat_postMessage(channel="C1", text="Episode 42")  # the delay was used up
    assert len(fake.posted) == 2


def test_slow_error_is_refused_late(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", "channel_not_found", delay=0.3)
    started = time.monotonic()
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    assert time.monotonic() - started >= 0.3
    assert caught.value.response["error"] == "channel_not_found"
    assert fake.posted == []


def test_stop_releases_held_answers(fake: FakeSlack) -> None:
    fake.fail("auth.test", delay=30)
    impatient = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=1)
    with pytest.raises(TimeoutError):
        impatient.auth_test()
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2


# ---- app-wide errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("error", APP_WIDE_ERRORS)
def test_app_wide_error_hits_every_method_until_cleared(
    fake: FakeSlack, client: WebClient, error: str
) -> None:
    fake.fail("*", error, times=None)
    for call in (
        client.auth_test,
        lambda: client.chat_postMessage(channel="C1", text="x"),
        lambda: client.users_info(user="U1"),
        lambda: client.conversations_history(channel="C1"),
    ):
        with pytest.raises(SlackApiError) as caught:
            call()
        assert (caught.value.response.status_code, caught.value.response["error"]) == (200, error)
    assert fake.posted == []
    # Response URLs carry no token: an app-wide auth error does not reach them.
    assert WebhookClient(fake.new_response_url()).send(text="still").status_code == 200

    fake.clear_faults()
    assert client.auth_test()["ok"]


@pytest.mark.parametrize("error", APP_WIDE_ERRORS)
def test_auth_error_once_on_auth_test(fake: FakeSlack, client: WebClient, error: str) -> None:
    fake.fail("auth.test", error)
    with pytest.raises(SlackApiError):
        client.auth_test()
    assert client.auth_test()["ok"]


def test_bolt_refuses_to_start_on_a_revoked_token(fake: FakeSlack) -> None:
    fake.fail("auth.test", "token_revoked")
    with pytest.raises(BoltError):
        App(
            token="xoxb-test",
            signing_secret="secret",
            client=WebClient(token="xoxb-test", base_url=fake.api_url),
        )
    assert fake.calls_to("auth.test")[0].error == "token_revoked"


def test_missing_scope_names_the_scope(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", "missing_scope")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    assert caught.value.response["needed"] == "chat:write"
    assert "chat:write" not in caught.value.response["provided"].split(",")


def test_fault_arguments_are_checked(fake: FakeSlack) -> None:
    with pytest.raises(ValueError):
        fake.fail("chat.postMessage")  # neither an error nor a delay: not a fault
    with pytest.raises(ValueError):
        fake.fail("chat.postMessage", delay=-1)
    with pytest.raises(ValueError):
        fake.fail("chat.postMessage", "x", times=0)
