"""The demo workspace's people: names for ids, and `@name` typed in a command as Slack sends it."""

from __future__ import annotations

import re

from fakeslack import FakeSlack

_AT = re.compile(r"(?<![<\w])@([\w.\-]+)")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class Directory:
    def __init__(self, fake: FakeSlack, user_ids: list[str]) -> None:
        self.fake = fake
        self.user_ids = user_ids

    def name(self, user_id: str) -> str:
        return str(self.fake.user(user_id)["name"])

    def resolve(self, text: str) -> str | None:
        """A known user's id from `@name`, `name` or the id itself; None if nobody matches."""
        wanted = text.strip().lstrip("@").rstrip(".,").casefold()
        for user_id in self.user_ids:
            if wanted in (user_id.casefold(), self.name(user_id).casefold()):
                return user_id
        return None

    def linkify(self, text: str) -> str:
        """`@pc.ashby` -> `<@UOICASHBY|pc.ashby>`: Slack rewrites mentions in a command this way."""

        def replace(match: re.Match[str]) -> str:
            word = match[1].rstrip(".,")
            user_id = self.resolve(word)
            if user_id is None and _USER_ID.match(word):
                user_id = word
            if user_id is None:
                return match[0]
            return f"<@{user_id}|{self.name(user_id)}>" + match[1][len(word) :]

        return _AT.sub(replace, text)
