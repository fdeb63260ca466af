"""Deadlines far beyond the calendar saturate instead of raising OverflowError."""

from __future__ import annotations

from datetime import datetime, timezone

from durable_workflow.server.store.timefmt import fmt_z, parse, plus_seconds

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_huge_offsets_saturate_and_round_trip() -> None:
    late = plus_seconds(NOW, 10**15)
    assert late.year == 9999 and parse(fmt_z(late)) == late
    early = plus_seconds(NOW, -(10**15))
    assert early == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert plus_seconds(late, 10) == late
    assert plus_seconds(NOW, 90) == datetime(2026, 1, 1, 0, 1, 30, tzinfo=timezone.utc)
