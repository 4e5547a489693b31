"""The digest's chart: episodes per day over the last 28 days, looked-after children and others
stacked, with the 28-day average as a line. A PNG made with matplotlib's Agg canvas.

matplotlib is imported when a chart is drawn, not when the bot starts: it takes most of a
second to import and only the daily digest needs it. The figure is built with the object API
(no pyplot), so no global state is shared between threads.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.messages import DigestChart
from bot.services.summaries import DayCount

WIDTH_PX, HEIGHT_PX, DPI = 1000, 450, 100
LOOKED_AFTER_COLOUR = "#c0392b"
OTHER_COLOUR = "#2980b9"
AVERAGE_COLOUR = "#333333"


def chart_png(days: Sequence[DayCount]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [d.day.strftime("%d/%m") for d in days]
    looked_after = [d.looked_after for d in days]
    other = [d.other for d in days]
    average = average_per_day(days)
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    axes.bar(positions, looked_after, color=LOOKED_AFTER_COLOUR, label="Looked after")
    axes.bar(positions, other, bottom=looked_after, color=OTHER_COLOUR, label="Not looked after")
    axes.axhline(
        average, color=AVERAGE_COLOUR, linestyle="--", label=f"28-day average ({average:.1f})"
    )
    axes.set_xticks(positions[::2], labels[::2], rotation=45, ha="right", fontsize=8)
    axes.set_ylabel("Episodes")
    first, last = days[0].day, days[-1].day
    axes.set_title(f"Missing episodes per day, {first:%d/%m/%Y} to {last:%d/%m/%Y}")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def average_per_day(days: Sequence[DayCount]) -> float:
    return sum(d.looked_after + d.other for d in days) / len(days) if days else 0.0


def digest_chart(msg: DigestChart, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The upload's payload: the PNG (base64, so the outbox row stays JSON) and its words."""
    days = msg.days
    total = sum(d.looked_after + d.other for d in days)
    looked_after = sum(d.looked_after for d in days)
    busiest = max(days, key=lambda d: d.looked_after + d.other)
    alt = (
        f"Bar chart of missing episodes per day over the 28 days to {days[-1].day:%d/%m/%Y}: "
        f"{total} in all ({looked_after} of looked-after children), "
        f"{average_per_day(days):.1f} a day on average; the most, "
        f"{busiest.looked_after + busiest.other}, on {busiest.day:%a %d/%m}."
    )
    return {
        "file_b64": base64.b64encode(chart_png(days)).decode("ascii"),
        "filename": msg.filename,
        "title": f"Episodes per day, 28 days to {days[-1].day:%d/%m/%Y}",
        "alt_txt": alt,
        "initial_comment": alt,
    }
