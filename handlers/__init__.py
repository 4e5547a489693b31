"""Everything that speaks Slack. `register(app)` lists every listener."""

from __future__ import annotations

from slack_bolt import App

from handlers import commands, errors, new_episode, rhi_buttons
from handlers.blocks import rhi_messages
from handlers.blocks.new_episode_modal import CALLBACK_ID


def register(app: App) -> None:
    app.command("/missing")(commands.missing)
    app.view(CALLBACK_ID)(new_episode.submit)
    app.action("looked_after")(new_episode.care_changed)
    for action_id in rhi_messages.BUTTON_ACTIONS:
        app.action(action_id)(rhi_buttons.clicked)
    app.view(rhi_buttons.REASSIGN_CALLBACK)(rhi_buttons.submit_reassign)
    app.error(errors.on_error)
