"""Everything that speaks Slack. `register(app)` lists every listener."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    commands,
    episode_update,
    errors,
    new_episode,
    return_form,
    review_buttons,
    rhi_buttons,
    safe_well_buttons,
)
from handlers.blocks import return_modal, review_messages, rhi_messages, update_modal
from handlers.blocks.channel_posts import SAFE_WELL_DONE_BUTTON
from handlers.blocks.new_episode_modal import CALLBACK_ID


def register(app: App) -> None:
    app.command("/missing")(commands.missing)
    app.view(CALLBACK_ID)(new_episode.submit)
    app.action("looked_after")(new_episode.care_changed)
    for action_id in rhi_messages.BUTTON_ACTIONS:
        app.action(action_id)(rhi_buttons.clicked)
    app.view(rhi_buttons.REASSIGN_CALLBACK)(rhi_buttons.submit_reassign)
    app.view(return_modal.CALLBACK_ID)(return_form.submit)
    app.action(SAFE_WELL_DONE_BUTTON)(safe_well_buttons.clicked)
    app.view(update_modal.CALLBACK_ID)(episode_update.submit)
    for action_id in review_messages.BUTTON_ACTIONS:
        app.action(action_id)(review_buttons.clicked)
    app.error(errors.on_error)
