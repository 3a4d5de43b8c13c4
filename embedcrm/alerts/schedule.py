"""When an alert may go: after the member's quiet hours, and on their digest's beat.

Times of day are the workspace's wall clock; quiet hours spanning midnight (22:00-08:00) are
the usual case. Arithmetic is on the wall clock and converted back to UTC, so a digest at 09:00
stays at 09:00 across a change of daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from embedcrm.alerts.models import DigestMode

# A daily digest without quiet hours goes at this minute of the day.
DAILY_AT = 9 * 60


@dataclass(frozen=True)
class Rhythm:
    digest: DigestMode = DigestMode.OFF
    quiet_start: int | None = None
    quiet_end: int | None = None

    def is_quiet(self, minute: int) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None or start == end:
            return False
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end


def _next_at(local: datetime, minute_of_day: int) -> datetime:
    """The next wall-clock moment at ``minute_of_day`` strictly after ``local``."""
    candidate = local.replace(
        hour=minute_of_day // 60, minute=minute_of_day % 60, second=0, microsecond=0
    )
    return candidate if candidate > local else candidate + timedelta(days=1)


def deliver_at(now: datetime, timezone: str, rhythm: Rhythm) -> datetime:
    """The first moment an alert made at ``now`` may leave, in UTC."""
    local = now.astimezone(ZoneInfo(timezone))
    if rhythm.digest is DigestMode.HOURLY:
        local = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    elif rhythm.digest is DigestMode.DAILY:
        at = rhythm.quiet_end if rhythm.quiet_end is not None else DAILY_AT
        local = _next_at(local, at)
    if rhythm.is_quiet(local.hour * 60 + local.minute):
        assert rhythm.quiet_end is not None
        local = _next_at(local, rhythm.quiet_end)
    return local.astimezone(UTC)
