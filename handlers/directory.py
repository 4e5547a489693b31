"""Who is in a Slack user group, for roles that follow user groups (ROLE_USERGROUPS)."""

from __future__ import annotations

from slack_sdk import WebClient


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        response = self.client.usergroups_users_list(usergroup=usergroup_id)
        return [str(u) for u in response.get("users") or []]
