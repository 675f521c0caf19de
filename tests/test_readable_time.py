"""Times in conflict messages: the stored UTC stamp as a person reads it (local, to the second)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from labelfix.core.store import readable_time


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local time one hour ahead of UTC in winter."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_stamp_of_today_reads_as_local_time_to_the_second(berlin: None) -> None:
    stamp = "2026-11-30T20:53:43.021+00:00"
    assert readable_time(stamp, today=dt.date(2026, 11, 30)) == "21:53:43"


def test_a_stamp_of_another_day_reads_with_its_local_date(berlin: None) -> None:
    stamp = "2026-11-30T23:10:05.999+00:00"  # already Dec 1 in Berlin
    assert readable_time(stamp, today=dt.date(2026, 12, 5)) == "2026-12-01 00:10:05"


def test_a_missing_or_unreadable_stamp_still_reads() -> None:
    assert readable_time(None) == "an unknown time"
    assert readable_time("yesterday") == "yesterday"
