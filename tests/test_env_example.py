"""`.env.example` is the operator's list of settings: every setting is in it, with a comment,
and what it sets is valid (copied as it is, it starts with only the blanks to fill in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def _entries() -> dict[str, tuple[str, str]]:
    """Setting -> (value, the comment lines just above it)."""
    found: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("#"):
            comment.append(line)
            continue
        match = LINE.match(line)
        if match:
            found[match[1]] = (match[2], "\n".join(comment))
            if comment:
                comment = []
        elif not line.strip():
            comment = []
    return found


def test_every_setting_is_listed_and_explained() -> None:
    entries = _entries()
    names = {name.upper() for name in Settings.model_fields}
    assert sorted(names - entries.keys()) == []
    assert sorted(entries.keys() - names) == []
    # A setting sharing its comment with the one above it (two in a row) is explained there.
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in names:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        above = lines[at - 1]
        assert above.startswith("#") or LINE.match(above), f"{name} has no comment"


def test_the_example_values_are_valid_and_are_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the example fills in is what the bot does when the setting is left out, so the
    file documents the defaults and copying it changes nothing by surprise."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    values = {name.lower(): value for name, (value, _) in _entries().items() if value}
    example = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    differ = {name for name in values if getattr(example, name) != getattr(default, name)}
    assert differ == set()
