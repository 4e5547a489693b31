"""Settings: the one module that reads the environment (and `.env`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.access import Role, parse_role
from bot.domain.occasions import parse_times
from bot.domain.review import parse_review_hours
from bot.domain.states import Risk

DEFAULT_DATABASE_URL = "sqlite:///./data/missing-bot.sqlite3"


class SettingsError(Exception):
    """Settings are missing or malformed: one line per problem, each naming its setting.

    `valid_part`: the settings with each malformed one at its default, so that what else is
    wrong (a required setting left empty) can be said in the same run.
    """

    def __init__(self, problems: list[str], valid_part: Settings | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.valid_part = valid_part


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
    # How long the outbox waits for Slack to answer a post (then it looks before resending).
    slack_timeout_seconds: int = Field(default=10, ge=1, le=120)
    rhi_reminder_before_hours: int = Field(default=24, ge=1, le=24 * 7)
    rhi_escalate_after_hours: int = Field(default=24, ge=1, le=24 * 14)
    # Without an outcome this many days after the return, an RHI is escalated a last time and
    # recorded as not done ("lapsed"); reminders stop.
    rhi_lapse_days: int = Field(default=14, ge=2, le=365)
    # The police safe-and-well check after a return is due within this many hours.
    safe_well_hours: int = Field(default=24, ge=1, le=24 * 7)
    # The daily message listing each person's overdue RHIs, local time.
    overdue_list_time: str = "09:00"
    # A message Slack keeps refusing (not for good) is tried this many times, about two days.
    delivery_max_attempts: int = Field(default=20, ge=1, le=100)
    # Follow-ups handled per scheduler transaction.
    followup_batch_size: int = Field(default=100, ge=1, le=5000)
    quiet_hours: str = "22:00-07:00"
    # Still-missing risk reviews: hours between reviews by current risk (each force its own;
    # risks left out keep these defaults), and how long after it falls due a review not
    # recorded is said to be overdue in the episode's thread.
    review_hours: str = "high=2,medium=6,low=12,no_apparent_risk=24"
    review_overdue_minutes: int = Field(default=60, ge=1, le=24 * 60)
    scheduler_stale_seconds: int = Field(default=300, ge=10)
    # Repeat missing: this many episodes in this many days (REPEAT_THRESHOLD and
    # REPEAT_WINDOW_DAYS are accepted too, as the digest's issue names them).
    repeat_missing_threshold: int = Field(
        default=3,
        ge=2,
        le=1000,
        validation_alias=AliasChoices("repeat_missing_threshold", "repeat_threshold"),
    )
    repeat_missing_window_days: int = Field(
        default=30,
        ge=1,
        le=3660,
        validation_alias=AliasChoices("repeat_missing_window_days", "repeat_window_days"),
    )
    # The daily safeguarding digest, local time, to SAFEGUARDING_CHANNEL.
    digest_time: str = "08:00"
    # Shift handovers to CONTROL_ROOM_CHANNEL, local times (`07:00,19:00`); empty: none.
    handover_times: str = ""
    # Full names in the digest: only where the safeguarding channel is restricted.
    digest_show_names: bool = False
    # The chart of the last 28 days in the digest's thread (needs files:write). A force that
    # does not grant files:write turns it off rather than read "could not attach" each day.
    digest_chart: bool = True
    log_level: str = "INFO"
    # Access: admins can grant every other role; roles may also follow Slack user groups.
    admin_user_ids: str = ""
    role_usergroups: str = ""
    # The workspace the bot serves; learnt from auth.test when empty.
    slack_team_id: str = ""
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

    @field_validator("admin_user_ids")
    @classmethod
    def _admins(cls, value: str) -> str:
        parse_user_ids(value)
        return value

    @field_validator("role_usergroups")
    @classmethod
    def _usergroups(cls, value: str) -> str:
        parse_role_usergroups(value)
        return value

    @field_validator("overdue_list_time")
    @classmethod
    def _list_time(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("handover_times")
    @classmethod
    def _handover_times(cls, value: str) -> str:
        parse_times(value)
        return value

    @field_validator("review_hours")
    @classmethod
    def _review_hours(cls, value: str) -> str:
        parse_review_hours(value)
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

    @property
    def overdue_list_at(self) -> time:
        return parse_clock(self.overdue_list_time)

    @property
    def digest_at(self) -> time:
        return parse_clock(self.digest_time)

    @property
    def handover_at(self) -> tuple[time, ...]:
        return parse_times(self.handover_times)

    @property
    def review_intervals(self) -> dict[Risk, float]:
        return parse_review_hours(self.review_hours)

    @property
    def admins(self) -> frozenset[str]:
        return parse_user_ids(self.admin_user_ids)

    @property
    def usergroup_roles(self) -> dict[str, Role]:
        return parse_role_usergroups(self.role_usergroups)

    def require(self, *names: str) -> None:
        """Stop, naming every setting this mode needs that is empty (one line each)."""
        missing = missing_settings(self, names)
        if missing:
            raise SettingsError(missing)


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")


def parse_user_ids(value: str) -> frozenset[str]:
    """`U123, U456` -> {"U123", "U456"}; Slack user ids only."""
    ids = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    bad = [i for i in ids if not _USER_ID.match(i)]
    if bad:
        raise ValueError(f"{bad[0][:30]!r} is not a Slack user id (like U0123ABCD)")
    return frozenset(ids)


def parse_role_usergroups(value: str) -> dict[str, Role]:
    """`control_room=S123,safeguarding=S456` -> {"S123": control_room, "S456": safeguarding}."""
    mapping: dict[str, Role] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        role_text, _, group = part.partition("=")
        try:
            role = parse_role(role_text)
        except ValueError:
            raise ValueError(
                f"unknown role {role_text.strip()[:30]!r}: use control_room, safeguarding or admin"
            ) from None
        group = group.strip()
        if not _GROUP_ID.match(group):
            raise ValueError(f"{group[:30]!r} is not a Slack user group id (like S0123ABCD)")
        mapping[group] = role
    return mapping


def parse_clock(value: str) -> time:
    """`09:00` -> 09:00 (local time of day)."""
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be a time of day like 09:00") from None


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


def missing_settings(settings: Settings | None, names: Iterable[str]) -> list[str]:
    """One line for each of `names` that is empty in `settings` (None: nothing to say)."""
    if settings is None:
        return []
    return [
        f"setting {name.upper()} is required for this command but not set"
        for name in names
        if not getattr(settings, name)
    ]


def load_settings(**overrides: object) -> Settings:
    """Read settings; any problem becomes one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        invalid: set[str] = set()
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            invalid.add(field)
            name = _setting_names(field) if field else "setting"
            problems.append(f"setting {name} is invalid: {error['msg']}")
        raise SettingsError(problems, _with_defaults(invalid, overrides)) from None


def _with_defaults(invalid: set[str], overrides: dict[str, object]) -> Settings | None:
    """The settings again, each invalid one at its default (given values win over the
    environment); None if even that fails."""
    defaults = {
        name: field.default for name, field in Settings.model_fields.items() if name in invalid
    }
    try:
        return Settings(**{**overrides, **defaults})
    except ValidationError:
        return None


def _setting_names(field: str) -> str:
    """`REPEAT_MISSING_THRESHOLD / REPEAT_THRESHOLD`: every name a setting is read under."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        return " / ".join(str(choice).upper() for choice in alias.choices)
    return field.upper()
