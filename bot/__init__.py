"""missing-bot: log missing-child episodes from Slack and follow each one to a safe close."""
