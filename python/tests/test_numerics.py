"""Rolling and cumulative statistics on adversarial values (issue 18, items 3, 4 and 6),
against exact references (`fractions.Fraction`, `math.fsum`): outliers of 1e16..1e300 leave no
trace in later windows, sums that overflow are infinite (never NaN) and only where the window
holds the overflow, and a decimal sum beyond 38 digits is an error, never a wrapped value."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import datafusion
import pyarrow as pa
import pytest

import ltseq
from ltseq import LTSeq


def exact_var(window: list[float]) -> Fraction:
    xs = [Fraction(v) for v in window]
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)


def as_float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def exact_sd(window: list[float]) -> float:
    # sqrt of the exact variance; a variance beyond a double is scaled by a power of four
    var = exact_var(window)
    if var < 10**300:
        return math.sqrt(var)
    return math.sqrt(float(var / 4**600)) * 2**600


def rolled(values: list[float], w: int) -> dict[str, list]:
    t = LTSeq.from_dict({"i": list(range(len(values))), "v": values}).assume_sorted("i")
    out = t.derive(
        s=lambda r: r.v.rolling(w).sum(),
        m=lambda r: r.v.rolling(w).mean(),
        sd=lambda r: r.v.rolling(w).std(),
        var=lambda r: r.v.rolling(w).var(),
        cs=lambda r: r.v.cum_sum(),
    ).to_arrow()
    return {c: out[c].to_pylist() for c in ("s", "m", "sd", "var", "cs")}


def close(got: float | None, want: float | None, rel: float) -> bool:
    if want is None or got is None:
        return got is want
    if math.isinf(want) or want == 0:
        return got == want
    return abs(got - want) <= rel * abs(want)


@pytest.mark.parametrize("outlier", [1e16, 1e18, 1e140, 1e200, -1e300])
def test_an_outlier_leaves_no_trace(outlier):
    rng = random.Random(7)
    values = [100 + rng.random() for _ in range(2000)]
    values[10] = outlier
    w = 20
    got = rolled(values, w)
    for i in range(w, len(values)):
        window = values[i + 1 - w : i + 1]
        var = as_float(exact_var(window))
        assert close(got["var"][i], var, 1e-12), (i, got["var"][i], var)
        assert close(got["sd"][i], exact_sd(window), 1e-12), i
        assert close(got["s"][i], math.fsum(window), 1e-15), i
        assert close(got["m"][i], math.fsum(window) / w, 1e-15), i


def test_overflow_is_infinite_and_stays_in_its_windows():
    values = [1e308, 1e308] + [1.0, 5.0, 6.0, 2.5] * 5
    got = rolled(values, 2)
    assert got["s"][1] == math.inf and got["m"][1] == math.inf
    for i in range(3, len(values)):
        window = values[i - 1 : i + 1]
        assert got["s"][i] == math.fsum(window), i
        assert got["m"][i] == math.fsum(window) / 2, i
        assert close(got["sd"][i], exact_sd(window), 1e-15), i
    assert all(c == math.inf for c in got["cs"][1:]), got["cs"]


def test_nan_and_infinities_stay_in_their_windows():
    values = [1.0, math.nan, 2.0, 3.0, math.inf, 4.0, 5.0, -math.inf, math.inf, 6.0, 7.0]
    got = rolled(values, 2)
    for i in range(1, len(values)):
        window = values[i - 1 : i + 1]
        want = sum(window)  # IEEE: NaN, inf, inf + -inf = NaN
        if math.isnan(want):
            assert math.isnan(got["s"][i]) and math.isnan(got["sd"][i]), i
        else:
            assert got["s"][i] == want, i


def dec(values: list[Decimal]) -> pa.Array:
    return pa.array([str(v) for v in values]).cast(pa.decimal128(38, 2))


def test_decimal_sum_beyond_38_digits_is_an_error():
    biggest = Decimal("9" * 36 + ".99")  # 38 digits
    table = pa.table({"i": [0, 1], "d": dec([biggest, biggest])})
    t = LTSeq.from_arrow(table).assume_sorted("i")
    for form in (lambda r: r.d.cum_sum(), lambda r: r.d.rolling(2).sum()):
        with pytest.raises(Exception, match="overflows DECIMAL\\(38, 2\\)"):
            t.derive(s=form).to_arrow()
    ctx = ltseq.register(datafusion.SessionContext())
    ctx.from_arrow(table, name="t")
    for call in ("cum_sum(d)", "rolling_sum(d, 2)"):
        with pytest.raises(Exception, match="overflows DECIMAL"):
            ctx.sql(f"SELECT {call} OVER (ORDER BY i) FROM t").collect()
    # sums that fit are exact
    small = pa.table({"i": [0, 1, 2], "d": dec([biggest, Decimal("-1.25"), Decimal("1.25")])})
    got = LTSeq.from_arrow(small).assume_sorted("i").derive(s=lambda r: r.d.cum_sum()).to_arrow()
    assert got["s"].to_pylist() == [biggest, Decimal("9" * 35 + "8.74"), biggest]
