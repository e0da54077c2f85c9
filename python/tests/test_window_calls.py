"""What a window call is (its argument checks, constants and result type) comes from the
function itself, through the native module: the DSL gives the same answers as SQL, and a
constant the native module cannot carry (a date, a decimal) still works."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from ltseq import LTSeq


@pytest.fixture
def t():
    return LTSeq.from_dict(
        {
            "i": [1, 2, 3, 4],
            "d": [dt.date(2024, 1, day) for day in (1, 2, 3, 4)],
            "m": [decimal.Decimal("1.50"), decimal.Decimal("2.25"), None, decimal.Decimal("4.00")],
            "s": ["a", "b", "c", "d"],
        }
    ).assume_sorted("i")


def test_shift_takes_defaults_of_every_literal_type(t):
    out = t.derive(
        pd=lambda r: r.d.shift(1, default=dt.date(2000, 1, 1)),
        pm=lambda r: r.m.shift(1, default=decimal.Decimal("0.00")),
        ps=lambda r: r.s.shift(-1, default="z"),
        pi=lambda r: r.i.shift(2, default=0),
    ).to_dicts()
    assert [r["pd"] for r in out] == [dt.date(2000, 1, 1), *[dt.date(2024, 1, k) for k in (1, 2, 3)]]
    assert [r["pm"] for r in out] == [decimal.Decimal("0.00"), decimal.Decimal("1.50"), decimal.Decimal("2.25"), None]
    assert [r["ps"] for r in out] == ["b", "c", "d", "z"]
    assert [r["pi"] for r in out] == [0, 0, 1, 2]


def test_result_types_are_the_functions_own(t):
    out = t.derive(
        a=lambda r: r.i.rolling(2).sum(),
        b=lambda r: r.i.rolling(2).mean(),
        c=lambda r: r.m.cum_sum(),
        e=lambda r: r.d.diff(),
        f=lambda r: r.i.cum_count(),
    )
    schema = out.arrow_schema
    assert schema.field("a").type == pa.int64()
    assert schema.field("b").type == pa.float64()
    assert pa.types.is_decimal(schema.field("c").type)
    assert pa.types.is_duration(schema.field("e").type) or pa.types.is_interval(schema.field("e").type)
    assert out.schema["f"] == "int64"


def test_errors_come_from_the_function_and_name_the_expression(t):
    with pytest.raises(ValueError, match=r"r\.i\.rolling\(0\)\.sum\(\): rolling_sum: the window size w must be"):
        t.derive(x=lambda r: r.i.rolling(0).sum())
    with pytest.raises(TypeError, match=r"r\.s\.cum_prod\(\): cum_prod: the expression must be numeric"):
        t.derive(x=lambda r: r.s.cum_prod())
    with pytest.raises(TypeError, match="rolling_max"):
        t.derive(x=lambda r: r.s.rolling(2).max())
