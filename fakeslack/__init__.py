"""An offline Slack: a fake Web API server and a sender that plays Slack toward the bot.

Used by the tests and by the offline demo console; standard library only.
"""

from fakeslack.modal_state import values_for
from fakeslack.records import Call, Posted, Upload, ViewRecord
from fakeslack.sender import SentResponse, SlackSender
from fakeslack.server import FakeSlack
from fakeslack.signing import slack_signature

__all__ = [
    "Call",
    "FakeSlack",
    "Posted",
    "SentResponse",
    "SlackSender",
    "Upload",
    "ViewRecord",
    "slack_signature",
    "values_for",
]
