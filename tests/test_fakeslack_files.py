"""The fake Slack's file uploads, driven by slack-sdk's own ``files_upload_v2`` over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fakeslack import FakeSlack

# Every byte value, and a size that is not a round number: any re-encoding would show.
PAYLOAD = bytes(range(256)) * 40 + b"\x00\r\n\xff"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


def test_files_upload_v2_into_a_thread_end_to_end(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="CCONTROL", text="Episode 42")
    answer = client.files_upload_v2(
        channel="CCONTROL",
        thread_ts=parent["ts"],
        content=PAYLOAD,
        filename="episode-42.pdf",
        title="Episode 42 report",
        initial_comment="Report attached",
    )

    [upload] = fake.uploads
    assert upload.content == PAYLOAD
    assert (upload.filename, upload.title) == ("episode-42.pdf", "Episode 42 report")
    assert (upload.channel, upload.thread_ts, upload.initial_comment) == (
        "CCONTROL",
        parent["ts"],
        "Report attached",
    )
    file = answer["file"]
    assert (file["id"], file["size"], file["mimetype"]) == (
        upload.id,
        len(PAYLOAD),
        "application/pdf",
    )
    assert file["shares"]["public"]["CCONTROL"][0]["ts"] == upload.ts
    assert [c.method for c in fake.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    get_url = fake.calls_to("files.getUploadURLExternal")[0]
    assert get_url.args["length"] == str(len(PAYLOAD))
    assert str(get_url.response and get_url.response["upload_url"]).startswith(fake.url + "upload/")

    # Slack shows the file as a reply in the thread, not as a new message in the channel.
    shared = fake.thread("CCONTROL", parent["ts"])[-1]
    assert (shared.kind, shared.ts, shared.text) == ("message", upload.ts, "Report attached")
    stored = fake.message("CCONTROL", str(upload.ts)) or {}
    assert [f["id"] for f in stored["files"]] == [upload.id]
    history = client.conversations_history(channel="CCONTROL")["messages"]
    assert [m["ts"] for m in history] == [parent["ts"]]


def test_upload_from_a_path_without_a_channel_stays_private(
    fake: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(PAYLOAD)
    answer = client.files_upload_v2(file=str(path))

    [upload] = fake.uploads
    assert (upload.filename, upload.title, upload.content) == ("notes.txt", "notes.txt", PAYLOAD)
    assert (upload.channels, upload.ts) == ((), None)
    assert answer["file"]["shares"] == {}
    assert fake.posted == []


def test_one_upload_shared_to_two_channels(fake: FakeSlack, client: WebClient) -> None:
    client.files_upload_v2(channels=["C1", "U7"], content="hello", filename="a.txt")
    [upload] = fake.uploads
    assert upload.channels == ("C1", "DU7")
    assert [(p.kind, p.channel) for p in fake.posted] == [("message", "C1"), ("dm", "DU7")]


def test_missing_scope_on_get_upload_url(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("files.getUploadURLExternal", "missing_scope")
    with pytest.raises(SlackApiError) as caught:
        client.files_upload_v2(channel="C1", content=PAYLOAD, filename="x.bin")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "files:write"
    assert fake.uploads == []
    assert [c.method for c in fake.calls] == ["files.getUploadURLExternal"]

    client.files_upload_v2(channel="C1", content=PAYLOAD, filename="x.bin")  # once only
    assert [u.content for u in fake.uploads] == [PAYLOAD]


def test_failing_upload_url_stops_files_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("upload_url", status=500)
    # slack-sdk posts the bytes with plain urlopen: a refused upload surfaces as urllib's
    # HTTPError, not as SlackApiError or its own SlackRequestError.
    with pytest.raises(urllib.error.HTTPError, match="500"):
        client.files_upload_v2(channel="C1", content=PAYLOAD, filename="x.bin")
    assert fake.calls_to("files.completeUploadExternal") == []
    assert fake.uploads == []


def test_get_upload_url_checks_its_arguments(client: WebClient) -> None:
    cases = [
        ({"filename": "a.txt"}, "invalid_arguments"),
        ({"length": "3"}, "invalid_arguments"),
        ({"filename": "a.txt", "length": "three"}, "invalid_arguments"),
        ({"filename": "a.txt", "length": "0"}, "missing_argument"),
        ({"filename": "a.txt", "length": "3", "alt_txt": "x" * 1001}, "alt_txt_too_large"),
    ]
    for params, error in cases:
        with pytest.raises(SlackApiError) as caught:
            client.api_call("files.getUploadURLExternal", params=params)
        assert caught.value.response["error"] == error, params


def test_complete_needs_the_bytes_and_valid_files(fake: FakeSlack, client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as early:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id="C1")
    assert early.value.response["error"] == "file_not_found"

    for params in (
        {"files": "not json", "channel_id": "C1"},
        {"files": json.dumps([{"title": "no id"}]), "channel_id": "C1"},
        {"files": json.dumps([{"id": ticket["file_id"]}]), "channels": "C1,C2", "thread_ts": "1.2"},
    ):
        with pytest.raises(SlackApiError) as caught:
            client.api_call("files.completeUploadExternal", params=params)
        assert caught.value.response["error"] == "invalid_arguments", params
    with pytest.raises(SlackApiError) as unknown:
        client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id="C1")
    assert unknown.value.response["error"] == "file_not_found"
    assert fake.uploads == [] and fake.posted == []


def test_upload_url_takes_multipart_too(fake: FakeSlack, client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.bin", length=len(PAYLOAD))
    boundary = "fake-boundary-1234"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + PAYLOAD
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        ticket["upload_url"],
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert (response.status, response.read()) == (200, f"OK - {len(PAYLOAD)}".encode())
    client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "A"}])
    assert [(u.title, u.content) for u in fake.uploads] == [("A", PAYLOAD)]
