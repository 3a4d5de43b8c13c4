"""When an alert may go: after the member's quiet hours, and on their digest's beat, on the
workspace's wall clock (``embedcrm/messages/quiet.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from embedcrm.alerts.models import DigestMode
from embedcrm.messages.quiet import QuietHours, leave_quiet, next_wall_clock, zone

# A daily digest without quiet hours goes at this minute of the day.
DAILY_AT = 9 * 60


@dataclass(frozen=True)
class Rhythm:
    digest: DigestMode = DigestMode.OFF
    quiet: QuietHours = field(default_factory=QuietHours)


def deliver_at(now: datetime, timezone: str, rhythm: Rhythm) -> datetime:
    """The first moment an alert made at ``now`` may leave, in UTC."""
    local = now.astimezone(zone(timezone))
    if rhythm.digest is DigestMode.HOURLY:
        local = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    elif rhythm.digest is DigestMode.DAILY:
        at = rhythm.quiet.end if rhythm.quiet.end is not None else DAILY_AT
        local = next_wall_clock(local, at)
    return leave_quiet(local, rhythm.quiet).astimezone(UTC)
