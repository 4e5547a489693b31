"""Retention: how long closed records are kept, and the moment before which they may go."""

from __future__ import annotations

import math
import re
from datetime import datetime

from dateutil.relativedelta import relativedelta

from bot.domain.errors import UserError

# A purge is irreversible: anything under a year is far more likely a typo (`--older-than 0`,
# `0.7` for 7) than a policy, so it is refused rather than obeyed.
MIN_YEARS = 1.0
# Beyond this the cut-off would predate any record (and, far enough, the calendar itself).
MAX_YEARS = 150.0

_YEARS = re.compile(r"^\d{1,3}(\.\d{1,3})?$")


class BadRetention(UserError):
    """A retention period that is not a sensible number of years."""


def parse_years(text: str) -> float:
    """`6` or `7.5` -> years; anything else (`-1`, `six`, `nan`, `1e3`, `0.5`) is refused."""
    cleaned = text.strip()
    if not _YEARS.match(cleaned):
        raise BadRetention(f"`{cleaned[:20]}` is not a number of years: use e.g. 6 or 7.5.")
    years = float(cleaned)
    check_years(years)
    return years


def check_years(years: float) -> None:
    if not math.isfinite(years) or years < MIN_YEARS:
        raise BadRetention(
            f"refusing to purge records closed less than {MIN_YEARS:g} year ago "
            f"(asked for {years:g}): the period is in years, e.g. 6 or 7.5."
        )
    if years > MAX_YEARS:
        raise BadRetention(f"{years:g} years is more than {MAX_YEARS:g}: check the number.")


def cutoff(now: datetime, years: float) -> datetime:
    """Records closed before this moment are older than `years`.

    Counted in calendar months (7.5 years = 90 months, so 29 February and month lengths are
    handled by the calendar, not by an average year), rounding a fraction of a month up: the
    cut-off then never falls later than asked, so nothing younger than the period is removed.
    """
    check_years(years)
    months = math.ceil(round(years * 12, 6))
    return now - relativedelta(months=months)
