//! Rolling counts, sums and means, over each partition of [`Segments`]: a window never
//! reaches back past its partition's first row, and running state starts afresh there.

use datafusion::arrow::array::{Array, Decimal128Array, Float64Array, Int64Array, PrimitiveArray};
use datafusion::arrow::datatypes::{ArrowPrimitiveType, Decimal128Type, Float64Type, Int64Type};

use crate::segments::Segments;
use crate::util::NullableBuilder;

/// Non-NULL counts of every window.
pub(super) fn window_counts(x: &dyn Array, w: usize, segs: &Segments) -> Vec<usize> {
    let mut out = Vec::with_capacity(x.len());
    if x.null_count() == 0 {
        for r in segs.ranges() {
            out.extend((1..=r.len()).map(|k| k.min(w)));
        }
        return out;
    }
    for r in segs.ranges() {
        let mut count = 0usize;
        for i in r.clone() {
            count += x.is_valid(i) as usize;
            if i >= r.start + w {
                count -= x.is_valid(i - w) as usize;
            }
            out.push(count);
        }
    }
    out
}

/// The non-NULL count of every window; `min_periods` counts the window's rows (as pandas'
/// `rolling().count()` does), so a window of NULLs counts 0 and only a partial window at a
/// partition's start with fewer than `mp` rows is NULL.
pub(super) fn rolling_count(x: &dyn Array, w: usize, mp: usize, segs: &Segments) -> Int64Array {
    let counts = window_counts(x, w, segs);
    let mut out = Vec::with_capacity(counts.len());
    let mut next = counts.iter();
    for r in segs.ranges() {
        for (k, c) in (1..=r.len()).zip(next.by_ref()) {
            out.push((k.min(w) >= mp).then_some(*c as i64));
        }
    }
    out.into_iter().collect()
}

/// A sliding sum updated as rows enter and leave the window, in the accumulator `A`; `out`
/// turns (sum, count) into the result.
fn sliding<T, A, O>(
    x: &PrimitiveArray<T>,
    w: usize,
    segs: &Segments,
    add: impl Fn(A, T::Native) -> A,
    sub: impl Fn(A, T::Native) -> A,
    out: impl Fn(A, usize) -> Option<O::Native>,
) -> PrimitiveArray<O>
where
    T: ArrowPrimitiveType,
    O: ArrowPrimitiveType,
    A: Copy + Default,
{
    let values = x.values();
    let mut result = NullableBuilder::<O>::with_capacity(x.len());
    for r in segs.ranges() {
        let (mut sum, mut count) = (A::default(), 0usize);
        for i in r.clone() {
            if x.is_valid(i) {
                sum = add(sum, values[i]);
                count += 1;
            }
            if i >= r.start + w && x.is_valid(i - w) {
                sum = sub(sum, values[i - w]);
                count -= 1;
            }
            result.push(out(sum, count));
        }
    }
    result.finish()
}

pub(super) fn rolling_sum_i64(x: &Int64Array, w: usize, mp: usize, segs: &Segments) -> Int64Array {
    sliding::<Int64Type, i64, Int64Type>(
        x,
        w,
        segs,
        |s, v| s.wrapping_add(v),
        |s, v| s.wrapping_sub(v),
        |s, c| (c >= mp).then_some(s),
    )
}

pub(super) fn rolling_sum_i128(
    x: &PrimitiveArray<Decimal128Type>,
    w: usize,
    mp: usize,
    segs: &Segments,
) -> Decimal128Array {
    sliding::<Decimal128Type, i128, Decimal128Type>(
        x,
        w,
        segs,
        |s, v| s.wrapping_add(v),
        |s, v| s.wrapping_sub(v),
        |s, c| (c >= mp).then_some(s),
    )
}

pub(super) fn rolling_avg_i64(
    x: &Int64Array,
    w: usize,
    mp: usize,
    segs: &Segments,
) -> Float64Array {
    sliding::<Int64Type, i128, Float64Type>(
        x,
        w,
        segs,
        |s, v| s + v as i128,
        |s, v| s - v as i128,
        |s, c| (c >= mp && c > 0).then(|| s as f64 / c as f64),
    )
}

/// The first row of row `i`'s window, which starts at most `w` rows back and never before its
/// partition's first row `start`.
#[inline]
pub(super) fn window_start(i: usize, w: usize, start: usize) -> usize {
    (i + 1).saturating_sub(w).max(start)
}

/// The double-double sum of `(hi, lo)` prefix pairs `a - b`, keeping the error of the leading
/// difference (the prefixes hold each running sum to about 106 bits).
#[inline]
fn prefix_difference(a: (f64, f64), b: (f64, f64)) -> f64 {
    let d = a.0 - b.0;
    let bp = d - a.0;
    let err = (a.0 - (d - bp)) + (-b.0 - bp);
    d + (err + (a.1 - b.1))
}

fn float_window_sums(
    x: &Float64Array,
    w: usize,
    mp: usize,
    mean: bool,
    segs: &Segments,
) -> Float64Array {
    if x.null_count() == 0 && x.values().iter().all(|v| v.is_finite()) {
        return dense_float_window_sums(x.values(), w, mp, mean, segs);
    }
    // Per partition, double-double prefix sums of the finite values (hi + lo holds each prefix
    // sum to about 106 bits), and prefix counts of NULLs, NaNs and infinities; `incl[i]` covers
    // the partition's rows up to and including row i. A window's sum is the difference of two
    // prefixes, so each row costs a few independent operations instead of a dependent
    // add-and-remove chain, and no rounding error carries from window to window.
    let n = x.len();
    let values = x.values();
    let has_nulls = x.null_count() > 0;
    let mut sums = Vec::with_capacity(n); // (hi, lo)
    let mut counts = Vec::with_capacity(n); // non-NULL values
    let mut specials = Vec::with_capacity(n); // (NaN, +inf, -inf) counts
    for r in segs.ranges() {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        let (mut k, mut nan, mut pos, mut neg) = (0usize, 0usize, 0usize, 0usize);
        for i in r {
            let v = values[i];
            if !has_nulls || x.is_valid(i) {
                k += 1;
                if v.is_finite() {
                    let t = s + v;
                    let bp = t - s;
                    c += (s - (t - bp)) + (v - bp);
                    s = t;
                } else if v.is_nan() {
                    nan += 1;
                } else if v > 0.0 {
                    pos += 1;
                } else {
                    neg += 1;
                }
            }
            sums.push((s, c));
            counts.push(k);
            specials.push((nan, pos, neg));
        }
    }
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for r in segs.ranges() {
        for i in r.clone() {
            let start = window_start(i, w, r.start);
            let (c0, s0, sp0) = if start > r.start {
                (counts[start - 1], sums[start - 1], specials[start - 1])
            } else {
                (0, (0.0, 0.0), (0, 0, 0))
            };
            let count = counts[i] - c0;
            if count < mp || count == 0 {
                out.push(None);
                continue;
            }
            let (n1, p1, m1) = specials[i];
            let (nan, pos, neg) = (n1 - sp0.0, p1 - sp0.1, m1 - sp0.2);
            let sum = if nan > 0 || (pos > 0 && neg > 0) {
                f64::NAN
            } else if pos > 0 {
                f64::INFINITY
            } else if neg > 0 {
                f64::NEG_INFINITY
            } else {
                prefix_difference(sums[i], s0)
            };
            out.push(Some(if mean { sum / count as f64 } else { sum }));
        }
    }
    out.finish()
}

/// [`float_window_sums`] for values without NULLs, NaNs or infinities: the common case, with
/// only the double-double prefix sums to keep.
fn dense_float_window_sums(
    values: &[f64],
    w: usize,
    mp: usize,
    mean: bool,
    segs: &Segments,
) -> Float64Array {
    let n = values.len();
    let mut sums = Vec::with_capacity(n);
    for r in segs.ranges() {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for &v in &values[r] {
            let t = s + v;
            let bp = t - s;
            c += (s - (t - bp)) + (v - bp);
            s = t;
            sums.push((s, c));
        }
    }
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for r in segs.ranges() {
        for i in r.clone() {
            let start = window_start(i, w, r.start);
            let count = i + 1 - start;
            if count < mp {
                out.push(None);
                continue;
            }
            let before = if start > r.start {
                sums[start - 1]
            } else {
                (0.0, 0.0)
            };
            let sum = prefix_difference(sums[i], before);
            out.push(Some(if mean { sum / count as f64 } else { sum }));
        }
    }
    out.finish()
}

pub(super) fn rolling_sum_f64(
    x: &Float64Array,
    w: usize,
    mp: usize,
    segs: &Segments,
) -> Float64Array {
    float_window_sums(x, w, mp, false, segs)
}

pub(super) fn rolling_avg_f64(
    x: &Float64Array,
    w: usize,
    mp: usize,
    segs: &Segments,
) -> Float64Array {
    float_window_sums(x, w, mp, true, segs)
}
