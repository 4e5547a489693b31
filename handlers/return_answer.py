"""What a person is told once a return is recorded (by command or by form)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.timetext import fmt_local
from bot.services.results import Returned


def returned_text(result: Returned, *, tz: ZoneInfo) -> str:
    if result.already:
        return (
            f"{result.ref} was already returned at {fmt_local(result.returned_at, tz)}; "
            "nothing was changed."
        )
    assert result.rhi_due_at is not None
    return (
        f":white_check_mark: {result.ref} returned at {fmt_local(result.returned_at, tz)}. "
        f"The return home interview is due by *{fmt_local(result.rhi_due_at, tz)}*."
    )
