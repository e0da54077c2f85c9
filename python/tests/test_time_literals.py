"""Time literals: ``datetime.timedelta`` as a duration (gaps between timestamps, timestamp and
date arithmetic), ISO strings without seconds compared with timestamps and dates, and a clear
error for a string that is not a date or timestamp; checked against plain Python."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

from ltseq import LTSeq

EPOCH = dt.datetime(2024, 1, 1)


@pytest.fixture()
def clicks() -> tuple[LTSeq, list[dict]]:
    rng = random.Random(3)
    rows = []
    for user in range(30):
        at = EPOCH + dt.timedelta(seconds=rng.randint(0, 5000))
        for _ in range(rng.randint(1, 12)):
            rows.append({"user": user, "ts": at})
            at += dt.timedelta(seconds=rng.choice([5, 60, 1500, 1800, 1801, 4000]))
    rng.shuffle(rows)
    table = pa.Table.from_pylist(rows, schema=pa.schema([("user", pa.int64()), ("ts", pa.timestamp("us"))]))
    return LTSeq.from_arrow(table).sort("user", "ts"), sorted(rows, key=lambda r: (r["user"], r["ts"]))


def test_sessions_with_a_timedelta_gap(clicks) -> None:
    t, rows = clicks
    gap = dt.timedelta(minutes=30)
    starts = t.filter(
        lambda r: r.ts.shift(1, partition_by="user").is_null() | (r.ts - r.ts.shift(1, partition_by="user") > gap)
    )
    expected = [
        (r["user"], r["ts"])
        for i, r in enumerate(rows)
        if i == 0 or rows[i - 1]["user"] != r["user"] or r["ts"] - rows[i - 1]["ts"] > gap
    ]
    got = starts.to_arrow()
    assert list(zip(got.column("user").to_pylist(), got.column("ts").to_pylist())) == expected


def test_timestamp_and_date_arithmetic_with_timedeltas() -> None:
    t = LTSeq.from_dict(
        {
            "ts": [dt.datetime(2024, 3, 1, 12, 0), dt.datetime(2024, 2, 28, 23, 59, 59)],
            "d": [dt.date(2024, 2, 28), dt.date(2024, 12, 31)],
        }
    )
    delta = dt.timedelta(days=1, hours=2, microseconds=7)
    out = t.derive(
        a=lambda r: r.ts + delta,
        b=lambda r: r.ts - delta,
        c=lambda r: r.d + dt.timedelta(days=2),
        e=lambda r: r.d - dt.timedelta(days=1),
        f=lambda r: r.ts + dt.timedelta(seconds=-1),
    ).to_dicts()
    for row, src_ts, src_d in zip(
        out,
        [dt.datetime(2024, 3, 1, 12, 0), dt.datetime(2024, 2, 28, 23, 59, 59)],
        [dt.date(2024, 2, 28), dt.date(2024, 12, 31)],
    ):
        assert (
            row["a"] == src_ts + delta and row["b"] == src_ts - delta and row["f"] == src_ts - dt.timedelta(seconds=1)
        )
        assert row["c"] == src_d + dt.timedelta(days=2) and row["e"] == src_d - dt.timedelta(days=1)


def test_durations_compare_with_timedeltas() -> None:
    t = LTSeq.from_arrow(pa.table({"du": pa.array([1, 2000, None, 4], pa.duration("s"))}))
    assert t.filter(lambda r: r.du > dt.timedelta(seconds=3)).to_arrow().column("du").to_pylist() == [
        dt.timedelta(seconds=2000),
        dt.timedelta(seconds=4),
    ]


def test_iso_strings_without_seconds() -> None:
    times = [EPOCH + dt.timedelta(minutes=m) for m in (0, 9, 10, 11, 600)]
    t = LTSeq.from_dict({"ts": times, "d": [x.date() + dt.timedelta(days=i) for i, x in enumerate(times)]})
    assert t.filter(lambda r: r.ts > "2024-01-01T00:10").count() == 2
    assert t.filter(lambda r: r.ts >= "2024-01-01 00:10").count() == 3
    assert t.filter(lambda r: r.ts == "2024-01-01T00:09").count() == 1
    assert t.filter(lambda r: r.d > "2024-01-03").count() == 2
    assert t.filter(lambda r: "2024-01-01T00:10" < r.ts).count() == 2


def test_a_string_that_is_no_timestamp_is_a_clear_error() -> None:
    t = LTSeq.from_dict({"ts": [EPOCH], "d": [EPOCH.date()]})
    with pytest.raises(ValueError, match="cannot read 'yesterday' as a timestamp"):
        t.filter(lambda r: r.ts > "yesterday")
    with pytest.raises(ValueError, match="as a date"):
        t.filter(lambda r: r.d == "2024-13-01")


def test_naive_times_against_a_zoned_column_are_an_error() -> None:
    noon_utc = 12 * 3600 * 10**6
    t = LTSeq.from_arrow(
        pa.table(
            {
                "ts": pa.array([noon_utc, noon_utc + 3600 * 10**6], pa.timestamp("us", "Europe/Paris")),
                "naive": pa.array([noon_utc, noon_utc], pa.timestamp("us")),
            }
        )
    )
    at = dt.datetime(1970, 1, 1, 12, 30, tzinfo=dt.timezone.utc)
    assert t.filter(lambda r: r.ts >= at).count() == 1  # an instant
    assert t.filter(lambda r: r.ts > "1970-01-01T13:30+01:00").count() == 1
    assert t.filter(lambda r: r.ts == dt.datetime(1970, 1, 1, 13, 0, tzinfo=dt.timezone.utc)).count() == 1
    for naive in (dt.datetime(1970, 1, 1, 12, 30), "1970-01-01T12:30"):
        with pytest.raises(TypeError, match="time zone Europe/Paris"):
            t.filter(lambda r, naive=naive: r.ts > naive)
        with pytest.raises(TypeError, match="naive time"):
            t.filter(lambda r, naive=naive: naive < r["ts"])
    assert t.filter(lambda r: r.naive >= dt.datetime(1970, 1, 1, 12)).count() == 2  # naive with naive
