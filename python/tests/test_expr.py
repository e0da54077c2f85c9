"""Expression trees: capture, SQL text, dicts, Python-like semantics and clear errors."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from ltseq import LTSeq, if_else
from ltseq._proxy import RowProxy
from ltseq.exceptions import ColumnNotFoundError

R = RowProxy({"a": "int64", "b": "float64", "s": "string", "ok": "bool", "d": "date32", "first name": "string"})


def test_tree_sql_and_dict():
    e = (R.a + 1) * 2 > R.b
    assert e.to_sql() == '((("a" + 1) * 2) > "b")'
    assert e.to_dict() == {
        "type": "binary",
        "op": ">",
        "left": {
            "type": "binary",
            "op": "*",
            "left": {
                "type": "binary",
                "op": "+",
                "left": {"type": "column", "name": "a"},
                "right": {"type": "literal", "value": 1, "dtype": "int64"},
            },
            "right": {"type": "literal", "value": 2, "dtype": "int64"},
        },
        "right": {"type": "column", "name": "b"},
    }
    assert e.dtype == "bool"


def test_item_access_and_reversed_operators():
    assert R["first name"].to_sql() == '"first name"'
    assert (1 + R.a).to_sql() == '(1 + "a")'
    assert (10 - R.a).to_sql() == '(10 - "a")'
    assert (-R.a).to_sql() == '(- "a")'
    assert (~R.ok).to_sql() == '(NOT "ok")'
    assert ((R.a > 1) & (R.b < 2) | R.ok).to_sql() == '((("a" > 1) AND ("b" < 2)) OR "ok")'


def test_unknown_column_lists_columns():
    with pytest.raises(ColumnNotFoundError) as err:
        _ = R.aa
    msg = str(err.value)
    assert "'aa'" in msg and "'a'" in msg and "'first name'" in msg
    assert isinstance(err.value, AttributeError)
    with pytest.raises(ColumnNotFoundError):
        _ = R["nope"]


def test_python_boolean_syntax_is_rejected():
    with pytest.raises(TypeError, match="&"):
        bool(R.a > 1)
    with pytest.raises(TypeError):
        _ = (R.a > 1) and (R.b < 2)
    with pytest.raises(TypeError):
        1 < R.a < 5  # noqa: B015


def test_none_comparisons_are_null_tests():
    assert (R.a == None).to_sql() == '("a" IS NULL)'  # noqa: E711
    assert (R.a != None).to_sql() == '("a" IS NOT NULL)'  # noqa: E711


def test_literals_of_every_common_type():
    assert (R.a == 5).right.to_sql() == "5"
    assert (R.a == -5).right.to_sql() == "(-5)"
    assert (R.b == 2.5).right.to_sql() == "CAST(2.5 AS DOUBLE)"
    assert (R.s == "it's").right.to_sql() == "'it''s'"
    assert (R.ok == True).right.to_sql() == "TRUE"  # noqa: E712
    assert (R.d == dt.date(2024, 3, 5)).right.to_sql() == "CAST('2024-03-05' AS DATE)"
    ts = (R.d < dt.datetime(2024, 3, 5, 1, 2, 3)).right.to_sql()
    assert ts == "CAST('2024-03-05T01:02:03' AS TIMESTAMP)"
    assert (R.b == decimal.Decimal("1.25")).right.to_sql() == "CAST('1.25' AS DECIMAL(3, 2))"
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        _ = R.a == 2**70
    with pytest.raises(TypeError, match="unsupported literal"):
        _ = R.a == object()


def test_incompatible_comparisons_are_clear_type_errors():
    with pytest.raises(TypeError, match="cannot compare"):
        _ = R.a > "abc"
    with pytest.raises(TypeError, match="cannot compare"):
        _ = R.ok == 3
    with pytest.raises(TypeError, match="combines conditions"):
        _ = R.a & R.ok
    with pytest.raises(TypeError, match="cannot apply"):
        _ = R.s * 2
    # a date compared with an ISO string is fine
    assert (R.d >= "2024-01-01").dtype == "bool"


def test_methods():
    assert R.a.is_null().to_sql() == '("a" IS NULL)'
    assert R.a.fill_null(0).to_sql() == 'coalesce("a", 0)'
    assert R.a.is_in([1, 2]).to_sql() == '("a" IN (1, 2))'
    assert R.a.is_in([]).to_sql() == "FALSE"
    assert R.a.between(1, 3).to_sql() == '("a" BETWEEN 1 AND 3)'
    assert R.s.cast("int64").to_sql() == 'CAST("s" AS BIGINT)'
    assert R.s.cast("decimal(10, 2)").to_sql() == 'CAST("s" AS DECIMAL(10, 2))'
    assert R.b.abs().to_sql() == 'abs("b")'
    assert R.b.round(2).to_sql() == 'round("b", 2)'
    assert if_else(R.ok, 1, 0).to_sql() == 'CASE WHEN "ok" THEN 1 ELSE 0 END'
    with pytest.raises(ValueError, match="unknown cast target"):
        R.a.cast("nonsense")
    with pytest.raises(TypeError, match="needs a number"):
        R.s.abs()


def test_python_arithmetic_semantics_end_to_end():
    t = LTSeq.from_dict({"a": [7, -7, 7, -7, 6], "b": [2, 2, -2, -2, 3]})
    out = t.derive(
        div=lambda r: r.a / r.b,
        fdiv=lambda r: r.a // r.b,
        mod=lambda r: r.a % r.b,
        pw=lambda r: r.b**2,
        neg=lambda r: -r.a,
    ).to_dicts()
    for row in out:
        a, b = row["a"], row["b"]
        assert row["div"] == a / b
        assert row["fdiv"] == a // b
        assert row["mod"] == a % b
        assert row["pw"] == float(b**2)
        assert row["neg"] == -a


def test_string_concatenation_with_plus():
    t = LTSeq.from_dict({"s": ["a", "b"], "u": ["x", None]})
    assert [r["c"] for r in t.derive(c=lambda r: r.s + "-" + r.u).to_dicts()] == ["a-x", None]


def test_zoned_datetime_literals_compare_as_instants():
    """Issue 18, item 2: a time-zoned literal is an instant, also against a column in another
    zone (it used to become a naive timestamp read as wall time in the column's zone)."""
    import pyarrow as pa

    utc = dt.timezone.utc
    ts = pa.array(
        [dt.datetime(2024, 1, 15, 12, 0, tzinfo=utc), dt.datetime(2024, 1, 15, 13, 0, tzinfo=utc)],
        pa.timestamp("us", tz="Europe/Paris"),
    )
    t = LTSeq.from_arrow(pa.table({"i": [0, 1], "ts": ts}))
    assert t.filter(lambda r: r.ts >= dt.datetime(2024, 1, 15, 12, 30, tzinfo=utc)).count() == 1
    assert t.filter(lambda r: r.ts == dt.datetime(2024, 1, 15, 13, 0, tzinfo=utc)).count() == 1
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert t.filter(lambda r: r.ts == dt.datetime(2024, 1, 15, 14, 0, tzinfo=plus_one)).count() == 1
    # microseconds are kept
    assert t.filter(lambda r: r.ts > dt.datetime(2024, 1, 15, 12, 0, 0, 1, tzinfo=utc)).count() == 1
