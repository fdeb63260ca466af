"""Schedule specs: cron expressions (in a time zone) and ISO-8601 intervals.

control-plane.md §9.1: the next fire time is the earliest across all crons
and intervals; intervals count from the Unix epoch plus ``offset``, with
months as 30 days and years as 365. Cron parsing is ``croniter``'s.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter  # type: ignore[import-untyped]

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_duration(text: str) -> timedelta | None:
    """An ISO-8601 duration (``PT30M``, ``P1D``) or None when it is not one."""
    found = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if found is None or text.strip() in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in found.groupdict().items() if v}
    days = parts.get("years", 0) * 365 + parts.get("months", 0) * 30 + parts.get("days", 0)
    return timedelta(
        days=days + parts.get("weeks", 0) * 7,
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def spec_errors(spec: Any) -> dict[str, list[str]]:
    """Field errors of a spec object (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(spec, dict) or not spec:
        return {"spec": ["The spec field is required and must be an object."]}
    crons = spec.get("cron_expressions") or []
    intervals = spec.get("intervals") or []
    if not isinstance(crons, list):
        errors["spec.cron_expressions"] = ["The cron expressions must be a list."]
        crons = []
    for index, expr in enumerate(crons):
        if not isinstance(expr, str) or len(expr.split()) != 5 or not croniter.is_valid(expr):
            errors[f"spec.cron_expressions.{index}"] = ["The cron expression is invalid."]
    if not isinstance(intervals, list):
        errors["spec.intervals"] = ["The intervals must be a list."]
        intervals = []
    for index, interval in enumerate(intervals):
        every = interval.get("every") if isinstance(interval, dict) else None
        duration = parse_duration(every) if isinstance(every, str) and len(every) <= 64 else None
        if duration is None or duration.total_seconds() <= 0:
            errors[f"spec.intervals.{index}.every"] = ["The every field must be a duration."]
        offset = interval.get("offset") if isinstance(interval, dict) else None
        if offset is not None and (not isinstance(offset, str) or parse_duration(offset) is None):
            errors[f"spec.intervals.{index}.offset"] = ["The offset must be a duration."]
    zone = spec.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            errors["spec.timezone"] = ["The timezone is not a known IANA time zone."]
    if not crons and not intervals and not errors:
        errors["spec"] = ["The spec needs at least one cron expression or interval."]
    return errors


def next_fire(spec: dict[str, Any], after: datetime) -> datetime | None:
    """The earliest fire time strictly after ``after`` (UTC), or None."""
    zone = ZoneInfo(str(spec.get("timezone") or "UTC"))
    local = after.astimezone(zone)
    found: list[datetime] = []
    for expr in spec.get("cron_expressions") or []:
        nxt = croniter(expr, local).get_next(datetime)
        found.append(nxt.astimezone(timezone.utc))
    for interval in spec.get("intervals") or []:
        every = parse_duration(interval["every"])
        offset = parse_duration(interval.get("offset") or "PT0S") or timedelta()
        if every is None:
            continue
        base = _EPOCH + offset
        steps = (after - base) // every + 1
        found.append(base + steps * every)
    return min(found) if found else None


def fire_times(spec: dict[str, Any], start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in ``[start, end)`` (backfill), at most 1000."""
    out: list[datetime] = []
    cursor = start - timedelta(microseconds=1)
    while len(out) < 1000:
        nxt = next_fire(spec, cursor)
        if nxt is None or nxt >= end:
            break
        out.append(nxt)
        cursor = nxt
    return out
