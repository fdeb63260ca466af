"""Timestamp helpers: one storage format, the two wire styles of the protocol.

The store keeps UTC timestamps as fixed-width ``...ffffffZ`` strings so they
compare correctly as text in SQL. The wire uses that style for lease/history
times and ``+00:00`` second precision for deadlines (worker-protocol.md §1).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def fmt_z(moment: datetime) -> str:
    """``2026-04-25T07:28:58.123456Z`` (storage and lease/history style)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fmt_offset(moment: datetime) -> str:
    """``2026-04-25T07:28:58+00:00`` (deadline style)."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse(text: str) -> datetime:
    """Parse a stored timestamp back into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def offset_from_stored(text: str | None) -> str | None:
    """Re-render a stored timestamp in the ``+00:00`` style (None stays None)."""
    return None if text is None else fmt_offset(parse(text))


def plus_seconds(moment: datetime, seconds: float) -> datetime:
    """``moment + seconds``, saturating when out of the calendar's range: the last instant
    (a deadline that never comes) or the epoch (already due)."""
    try:
        return moment + timedelta(seconds=seconds)
    except OverflowError:
        edge = datetime.max if seconds > 0 else datetime(1970, 1, 1)
        return edge.replace(tzinfo=timezone.utc)
