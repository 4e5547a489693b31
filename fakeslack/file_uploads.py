"""File uploads as slack-sdk's ``files_upload_v2`` does them, in three steps.

1. ``files.getUploadURLExternal`` (filename, length) answers a ``file_id`` and an
   ``upload_url``; here the URL points back at the fake: ``<fake.url>upload/<file_id>``.
2. The client POSTs the bytes to that URL (no token: the URL is the credential).
3. ``files.completeUploadExternal`` (``files`` JSON list of ``{"id", "title"}``, ``channel_id``
   or ``channels``, ``thread_ts``, ``initial_comment``) shares the file: Slack posts a message
   showing it in each channel (in the thread, if given). Without a channel the file stays
   private. Completed files are recorded in ``fake.uploads`` with their bytes.
"""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Callable
from typing import Any

from fakeslack.checks import check_blocks, require, whole_number
from fakeslack.records import TEAM_DOMAIN, PendingUpload, Posted, Upload
from fakeslack.replies import Outcome, Reply, SlackError
from fakeslack.state import FakeSlackState, conversation

MAX_ALT_TXT = 1000
MAX_SHARE_CHANNELS = 100


class FileUploads(FakeSlackState):
    """The upload flow's two Web API methods and the upload URL (lock held throughout)."""

    def _api_files_get_upload_url_external(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "filename", "length")
        length = whole_number(args, "length")
        if length == 0:  # Slack's own code for it: "typically only when length is 0"
            raise SlackError("missing_argument")
        if length is None or length < 0:
            raise SlackError("invalid_arguments", "[ERROR] length must be a positive integer")
        alt_txt = args.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > MAX_ALT_TXT:
            raise SlackError("alt_txt_too_large")
        file_id = f"F{next(self._ids):010d}"
        self._pending_uploads[file_id] = PendingUpload(
            filename=str(args["filename"]),
            alt_txt=str(alt_txt) if alt_txt is not None else None,
            snippet_type=args.get("snippet_type"),
        )
        upload_url = f"{self.url}upload/{file_id}"
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}, []

    def _receive_upload_locked(self, file_id: str, content: bytes) -> tuple[Reply, list[Posted]]:
        """Step 2: the bytes, answered in plain text as Slack's upload host does."""
        pending = self._pending_uploads.get(file_id)
        if pending is None:
            return Reply.of_text(404, "file_not_found"), []
        pending.content = content
        return Reply.of_text(200, f"OK - {len(content)}"), []

    def _api_files_complete_upload_external(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "files")
        wanted = _file_entries(args["files"])
        channels = _share_channels(args)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None and len(channels) != 1:
            raise SlackError("invalid_arguments", "[ERROR] thread_ts needs exactly one channel")
        comment = str(args["initial_comment"]) if args.get("initial_comment") else None
        # Slack ignores blocks when there is an initial comment.
        blocks = check_blocks(args) if comment is None else []
        if not all(self._uploaded_locked(entry["id"]) for entry in wanted):
            raise SlackError("file_not_found")  # no such id, completed already, or no bytes yet
        ready = [self._take_uploaded_locked(entry) for entry in wanted]
        files = [
            self._file_object(file_id, p, content, title) for file_id, title, p, content in ready
        ]
        posts = [self._share_locked(c, thread_ts, comment, blocks, files, args) for c in channels]
        for file, (_, _, pending, content) in zip(files, ready, strict=True):
            self._uploads.append(
                Upload(
                    id=file["id"],
                    filename=pending.filename,
                    title=file["title"],
                    content=content,
                    channels=tuple(str(p.channel) for p in posts),
                    thread_ts=thread_ts,
                    initial_comment=comment,
                    ts=posts[0].ts if posts else None,
                    alt_txt=pending.alt_txt,
                    snippet_type=pending.snippet_type,
                )
            )
            file["shares"] = _shares(posts, self.team_id)
        return {"ok": True, "files": files}, posts

    # ---- helpers (lock held) ---------------------------------------------------------------

    def _take_uploaded_locked(
        self, entry: dict[str, Any]
    ) -> tuple[str, str | None, PendingUpload, bytes]:
        """(id, title, pending upload, bytes) of a file whose bytes arrived; no longer pending."""
        pending = self._pending_uploads.pop(entry["id"])
        assert pending.content is not None  # checked by _uploaded_locked first
        title = entry.get("title")
        return entry["id"], str(title) if title else None, pending, pending.content

    def _uploaded_locked(self, file_id: str) -> bool:
        pending = self._pending_uploads.get(file_id)
        return pending is not None and pending.content is not None

    def _file_object(
        self, file_id: str, pending: PendingUpload, content: bytes, title: str | None
    ) -> dict[str, Any]:
        """The file as Slack describes it (the fields a bot might read)."""
        name = pending.filename
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        created = int(self._next_ts_locked().split(".")[0])
        private = f"https://files.slack.com/files-pri/{self.team_id}-{file_id}"
        file: dict[str, Any] = {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{private}/{name}",
            "url_private_download": f"{private}/download/{name}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{self.bot_user_id}/{file_id}/{name}",
        }
        if pending.alt_txt:
            file["alt_txt"] = pending.alt_txt
        return file

    def _share_locked(
        self,
        channel_arg: str,
        thread_ts: str | None,
        comment: str | None,
        blocks: list[dict[str, Any]],
        files: list[dict[str, Any]],
        args: dict[str, Any],
    ) -> Posted:
        """The message that shows the files in one channel, stored like any other."""
        channel, kind, user = conversation(channel_arg)
        ts = self._next_ts_locked()
        message = self._new_message_locked({"text": comment or "", "blocks": blocks}, ts)
        message.update(files=copy.deepcopy(files), upload=True, display_as_bot=False)
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        self._messages[(channel, ts)] = message
        return Posted(kind, channel, user, ts, thread_ts, comment, blocks, args)


def _file_entries(files: Any) -> list[dict[str, Any]]:
    """``files``: a JSON list of objects with an ``id`` (and maybe ``title``)."""
    valid = (
        isinstance(files, list)
        and files
        and all(isinstance(f, dict) and isinstance(f.get("id"), str) and f["id"] for f in files)
    )
    if not valid:
        raise SlackError("invalid_arguments", "[ERROR] files must be a list of {id, title}")
    if len({f["id"] for f in files}) != len(files):
        raise SlackError("invalid_arguments", "[ERROR] a file id is listed twice")
    return files


def _share_channels(args: dict[str, Any]) -> list[str]:
    """``channel_id`` and the comma-separated ``channels``: where the file is shared."""
    named = [str(args["channel_id"])] if args.get("channel_id") else []
    named += [c.strip() for c in str(args.get("channels") or "").split(",") if c.strip()]
    if len(named) > MAX_SHARE_CHANNELS:
        raise SlackError("channels_limit_exceeded")
    return list(dict.fromkeys(named))  # the same channel twice is shared to once


def _shares(posts: list[Posted], team_id: str) -> dict[str, Any]:
    """``file.shares``: where the file was shared and as which message (public: C channels)."""
    shares: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for post in posts:
        channel = str(post.channel)
        visibility = "public" if channel.startswith("C") else "private"
        share: dict[str, Any] = {"ts": post.ts, "channel_name": channel.lower(), "team_id": team_id}
        if post.thread_ts:
            share["thread_ts"] = post.thread_ts
        shares.setdefault(visibility, {}).setdefault(channel, []).append(share)
    return shares


FILE_METHODS: dict[str, Callable[[FileUploads, dict[str, Any], str], Outcome]] = {
    "files.getUploadURLExternal": FileUploads._api_files_get_upload_url_external,
    "files.completeUploadExternal": FileUploads._api_files_complete_upload_external,
}
