"""Pure rules: standard library and dateutil only; no Slack, no SQL, no clock reads."""
