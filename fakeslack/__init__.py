"""An offline Slack: a fake Web API server and a sender that plays Slack toward the bot.

Used by the tests and by the offline demo console; standard library only.
"""

from fakeslack.sender import SentResponse, SlackSender, slack_signature, values_for
from fakeslack.server import Call, FakeSlack, Posted, ViewRecord

__all__ = [
    "Call",
    "FakeSlack",
    "Posted",
    "SentResponse",
    "SlackSender",
    "ViewRecord",
    "slack_signature",
    "values_for",
]
