"""Decoding request bodies the way Slack does: form, JSON, query string or multipart."""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import email.policy
import json
from typing import Any
from urllib.parse import parse_qsl

# Form-encoded callers send these as JSON strings; JSON callers send them as objects.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "user_auth_blocks", "files"})


def parse_api_body(content_type: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Arguments of a Web API call, whichever way the client encoded them.

    slack-sdk sends JSON for methods carrying blocks or views and form encoding for the rest;
    Slack also accepts query strings and multipart. Top-level nulls are dropped because Slack
    treats them as absent (slack-sdk leaves some in JSON bodies, e.g. ``interactivity_pointer``).
    """
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        decoded = json.loads(body.decode("utf-8")) if body.strip() else {}
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        args.update(decoded)
    elif mime == "multipart/form-data":
        args.update(_parse_multipart(content_type, body))
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return _decode_json_fields({k: v for k, v in args.items() if v is not None})


def uploaded_bytes(content_type: str, body: bytes) -> bytes:
    """The file in a post to an upload URL: Slack takes raw bytes or a multipart form.

    slack-sdk posts the raw bytes, and urllib labels them form-encoded: only multipart is
    unwrapped (its first file part), everything else is the file as sent.
    """
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        return body
    for part in _multipart_message(content_type, body).iter_parts():
        if part.get_filename():
            raw = part.get_payload(decode=True)
            return raw if isinstance(raw, bytes) else b""
    return b""


def _multipart_message(content_type: str, body: bytes) -> email.message.EmailMessage:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    return email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for part in _multipart_message(content_type, body).iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if part.get_filename():
            fields[name] = f"<file {part.get_filename()} {len(payload)} bytes>"
        else:
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            # Left as a string if it is not JSON: the method answers invalid_*_format like Slack.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def parse_response_body(content_type: str, body: bytes) -> dict[str, Any]:
    """respond() posts JSON; anything else is kept raw so the fake can answer 400."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return {"_raw": body.decode("utf-8", errors="replace"), "_content_type": content_type}
    return data if isinstance(data, dict) else {"_raw": data}
