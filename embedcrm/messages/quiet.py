"""Quiet hours: a time of day, in someone's timezone, when nothing is sent to them.

Times of day are minutes after midnight on the wall clock of a timezone; a window whose start
comes after its end spans midnight (22:00-08:00), the usual case. Arithmetic is on the wall
clock and converted back to UTC, so 09:00 stays 09:00 across a change of daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from embedcrm.errors import ValidationFailed


@dataclass(frozen=True)
class QuietHours:
    start: int | None = None
    end: int | None = None

    def contains(self, minute: int) -> bool:
        start, end = self.start, self.end
        if start is None or end is None or start == end:
            return False
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end


def next_wall_clock(local: datetime, minute_of_day: int) -> datetime:
    """The next wall-clock moment at ``minute_of_day`` strictly after ``local``."""
    candidate = local.replace(
        hour=minute_of_day // 60, minute=minute_of_day % 60, second=0, microsecond=0
    )
    return candidate if candidate > local else candidate + timedelta(days=1)


def leave_quiet(local: datetime, quiet: QuietHours) -> datetime:
    """``local`` itself, or the end of the quiet hours it falls in."""
    if quiet.contains(local.hour * 60 + local.minute):
        assert quiet.end is not None
        return next_wall_clock(local, quiet.end)
    return local


def outside_quiet(moment: datetime, timezone: str, quiet: QuietHours) -> datetime:
    """The first moment from ``moment`` (UTC) that is outside the quiet hours, in UTC."""
    return leave_quiet(moment.astimezone(zone(timezone)), quiet).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_time_of_day(value: str | None, field: str) -> int | None:
    """Minutes after midnight of ``HH:MM``; None stays None."""
    if value is None:
        return None
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValidationFailed("A time of day is HH:MM, as 22:00.", field=field)
    if int(hours) > 23 or int(minutes) > 59:
        raise ValidationFailed("A time of day is HH:MM, as 22:00.", field=field)
    return int(hours) * 60 + int(minutes)


def format_time_of_day(minute: int | None) -> str | None:
    return None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def quiet_window(
    start: str | None, end: str | None, *, fields: tuple[str, str] = ("quietFrom", "quietTo")
) -> QuietHours:
    """Quiet hours from two ``HH:MM`` values: both or neither."""
    window = QuietHours(parse_time_of_day(start, fields[0]), parse_time_of_day(end, fields[1]))
    if (window.start is None) != (window.end is None):
        raise ValidationFailed("Quiet hours need both ends, or neither.", field=fields[1])
    return window
