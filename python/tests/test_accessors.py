"""The string (.s) and time (.dt) accessors against plain Python on random strings (unicode,
NULLs, separators) and dates."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltseq import LTSeq

ALPHABET = st.sampled_from(list("abAB ,;é日-_x1"))


def col(t: LTSeq, fn) -> list:
    return t.derive(out=fn).to_arrow().column("out").to_pylist()


def py_strip(v, chars=None):
    return None if v is None else v.strip(chars)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=8)), min_size=1, max_size=12))
def test_string_functions_match_python(values):
    t = LTSeq.from_arrow(pa.table({"v": pa.array(values, pa.string())}))

    def each(f):
        return [None if v is None else f(v) for v in values]

    assert col(t, lambda r: r.v.s.lower()) == each(str.lower)
    assert col(t, lambda r: r.v.s.upper()) == each(str.upper)
    assert col(t, lambda r: r.v.s.len()) == each(len)
    assert col(t, lambda r: r.v.s.strip()) == each(lambda v: v.strip(" "))
    assert col(t, lambda r: r.v.s.lstrip("a")) == each(lambda v: v.lstrip("a"))
    assert col(t, lambda r: r.v.s.rstrip()) == each(lambda v: v.rstrip(" "))
    assert col(t, lambda r: r.v.s.contains("b,")) == each(lambda v: "b," in v)
    assert col(t, lambda r: r.v.s.starts_with("a")) == each(lambda v: v.startswith("a"))
    assert col(t, lambda r: r.v.s.ends_with("é")) == each(lambda v: v.endswith("é"))
    assert col(t, lambda r: r.v.s.slice(1, 3)) == each(lambda v: v[1:4])
    assert col(t, lambda r: r.v.s.slice(2)) == each(lambda v: v[2:])
    assert col(t, lambda r: r.v.s.replace_all("a", "日")) == each(lambda v: v.replace("a", "日"))
    assert col(t, lambda r: r.v.s.replace("a", "日")) == each(lambda v: v.replace("a", "日", 1))
    assert col(t, lambda r: r.v.s.replace("[ab]+", "-")) == each(lambda v: re.sub("[ab]+", "-", v, count=1))
    assert col(t, lambda r: r.v.s.replace_all("[ab]", "-")) == each(lambda v: re.sub("[ab]", "-", v))
    assert col(t, lambda r: r.v.s.contains("b|é")) == each(lambda v: re.search("b|é", v) is not None)
    assert col(t, lambda r: r.v.s.contains("a|b", literal=True)) == each(lambda v: "a|b" in v)
    assert col(t, lambda r: r.v.s.regex_match("^[ab]+$")) == each(lambda v: re.search("^[ab]+$", v) is not None)
    assert col(t, lambda r: r.v.s.concat("!", r.v)) == each(lambda v: v + "!" + v)
    assert col(t, lambda r: r.v.s.pad_left(5, "*")) == each(lambda v: v.rjust(5, "*")[:5] if len(v) < 5 else v[:5])
    assert col(t, lambda r: r.v.s.pad_right(5)) == each(lambda v: v.ljust(5)[:5])
    parts = each(lambda v: v.split(",")[1] if len(v.split(",")) > 1 else "")
    assert col(t, lambda r: r.v.s.split(",", 2)) == parts


def test_string_accessor_errors_and_quoting():
    t = LTSeq.from_dict({"v": ["it's", "a'b"], "n": [1, 2]})
    assert col(t, lambda r: r.v.s.replace("'", "''")) == ["it''s", "a''b"]
    assert col(t, lambda r: r.v.s.replace_all("'", "''", literal=True)) == ["it''s", "a''b"]
    # literal text with every regex and replacement metacharacter
    u = LTSeq.from_dict({"v": ["a.b*c$1(x)[y]{z}^|\\?+", "none"]})
    odd = ".b*c$1(x)[y]{z}^|\\?+"
    assert col(u, lambda r: r.v.s.replace(odd, "$0&\\1", literal=True)) == ["a$0&\\1", "none"]
    assert col(u, lambda r: r.v.s.contains(odd, literal=True)) == [True, False]
    with pytest.raises(ValueError, match="n must be 1"):
        t.derive(x=lambda r: r.v.s.replace("a", "b", n=2))
    assert col(t, lambda r: r.v.s.contains("'")) == [True, True]
    assert col(t, lambda r: r.v.s.concat(r.n)) == ["it's1", "a'b2"]
    with pytest.raises(TypeError, match="needs a string"):
        t.derive(x=lambda r: r.n.s.lower())
    with pytest.raises(ValueError, match="at least 1"):
        t.derive(x=lambda r: r.v.s.split(",", 0))
    with pytest.raises(ValueError, match="one character"):
        t.derive(x=lambda r: r.v.s.pad_left(3, "ab"))
    assert t.filter(lambda r: r.v.s.starts_with("a")).to_dicts() == [{"v": "a'b", "n": 2}]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1))),
        min_size=1,
        max_size=10,
    )
)
def test_time_functions_match_python(values):
    values = [None if v is None else v.replace(microsecond=0) for v in values]
    t = LTSeq.from_arrow(pa.table({"ts": pa.array(values, pa.timestamp("us"))}))

    def each(f):
        return [None if v is None else f(v) for v in values]

    assert col(t, lambda r: r.ts.dt.year()) == each(lambda v: v.year)
    assert col(t, lambda r: r.ts.dt.month()) == each(lambda v: v.month)
    assert col(t, lambda r: r.ts.dt.day()) == each(lambda v: v.day)
    assert col(t, lambda r: r.ts.dt.hour()) == each(lambda v: v.hour)
    assert col(t, lambda r: r.ts.dt.minute()) == each(lambda v: v.minute)
    assert col(t, lambda r: r.ts.dt.second()) == each(lambda v: v.second)
    assert col(t, lambda r: r.ts.dt.weekday()) == each(lambda v: v.weekday())
    got = col(t, lambda r: r.ts.dt.add(days=3).dt.diff(r.ts))
    assert got == each(lambda v: 3.0)


def test_dates_from_strings_add_and_diff():
    t = LTSeq.from_dict({"d": ["2024-01-31", "2023-02-28", None], "e": ["2024-03-01", "2023-03-01", "2020-01-01"]})
    assert col(t, lambda r: r.d.cast("date").dt.add(months=1)) == [dt.date(2024, 2, 29), dt.date(2023, 3, 28), None]
    assert col(t, lambda r: r.d.cast("date").dt.add(years=-1, days=1)) == [
        dt.date(2023, 2, 1),
        dt.date(2022, 3, 1),
        None,
    ]
    assert col(t, lambda r: r.e.cast("date").dt.diff(r.d.cast("date"))) == [30.0, 1.0, None]
    assert col(t, lambda r: r.d.cast("date").dt.weekday()) == [2, 1, None]
    with pytest.raises(TypeError, match="cast strings"):
        t.derive(x=lambda r: r.d.dt.year())
    with pytest.raises(TypeError, match="takes an int"):
        t.derive(x=lambda r: r.d.cast("date").dt.add(days=1.5))
