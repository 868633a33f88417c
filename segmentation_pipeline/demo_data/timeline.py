"""Time helpers. All times are int64 seconds since the Unix epoch (UTC, naive).

The data's "today" is the as-of date; nothing here reads the wall clock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

MINUTE = 60
HOUR = 3600
DAY = 86400
RECENT_DAYS = 90
# Sessions last well under this, so anchoring activity this far from the edges
# of a user's active window keeps every event inside it.
SESSION_MARGIN = 3 * HOUR


def end_of_day(as_of: dt.date | str) -> int:
    """Epoch seconds of `as_of` 23:59:59 - the latest allowed timestamp."""
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return int(start.timestamp()) + DAY - 1


def to_timestamp(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s"))


def sample_times(
    rng: np.random.Generator,
    lo: np.ndarray,
    hi: np.ndarray,
    recent_share: np.ndarray,
    end: int,
) -> np.ndarray:
    """One time per row, uniform in [lo, hi], except that a `recent_share` of
    rows is drawn from the part of the window within the last RECENT_DAYS."""
    lo = lo.astype(np.float64)
    hi = np.maximum(hi.astype(np.float64), lo)
    recent = rng.random(len(lo)) < recent_share
    lo = np.where(recent, np.minimum(np.maximum(lo, end - RECENT_DAYS * DAY), hi), lo)
    return (lo + rng.random(len(lo)) * (hi - lo)).astype(np.int64)
