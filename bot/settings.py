"""Settings: the one module that reads the environment (and `.env`)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/missing-bot.sqlite3"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = DEFAULT_DATABASE_URL
    control_room_channel: str = ""
    safeguarding_channel: str = ""
    bot_timezone: str = "Europe/London"
    rhi_due_hours: int = Field(default=72, ge=1, le=24 * 14)
    port: int = Field(default=3000, ge=0, le=65535)
    # Scheduler and delivery.
    tick_seconds: int = Field(default=60, ge=1, le=3600)
    claim_timeout_seconds: int = Field(default=300, ge=1)
    # Slack takes about one message a second per channel: the outbox keeps to that pace.
    slack_channel_pace_seconds: float = Field(default=1.0, ge=0, le=60)
    rhi_reminder_before_hours: int = Field(default=24, ge=1, le=24 * 7)
    rhi_escalate_after_hours: int = Field(default=24, ge=1, le=24 * 14)
    quiet_hours: str = "22:00-07:00"
    scheduler_stale_seconds: int = Field(default=300, ge=10)
    repeat_missing_threshold: int = Field(default=3, ge=2)
    repeat_missing_window_days: int = Field(default=30, ge=1)
    log_level: str = "INFO"
    # The offline demo's own database: never DATABASE_URL, so synthetic children cannot land in
    # a real database and messages a real bot owes are never "sent" to the fake Slack.
    demo_database_url: str = "sqlite:///./data/demo.sqlite3"

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("bot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url", "demo_database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot_timezone)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.quiet_hours)

    def require(self, *names: str) -> None:
        """Stop with one clear line when a setting this mode needs is empty."""
        for name in names:
            if not getattr(self, name):
                raise SettingsError(
                    f"setting {name.upper()} is required for this command but not set"
                )


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """`22:00-07:00` -> (22:00, 07:00); `off` or empty -> None."""
    text = value.strip().lower()
    if text in ("", "off", "none"):
        return None
    try:
        start_text, end_text = text.split("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError as exc:
        raise ValueError("must look like 22:00-07:00, or 'off'") from exc
    return start, end


def load_settings(**overrides: object) -> Settings:
    """Read settings; any problem becomes one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "setting"
        raise SettingsError(f"setting {name} is invalid: {first['msg']}") from None
