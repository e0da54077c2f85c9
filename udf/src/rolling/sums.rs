//! Rolling counts, sums and means.

use datafusion::arrow::array::{Array, Decimal128Array, Float64Array, Int64Array, PrimitiveArray};
use datafusion::arrow::datatypes::{Decimal128Type, Float64Type, Int64Type};

use crate::util::NullableBuilder;

/// Non-NULL counts of every window.
pub(super) fn window_counts(x: &dyn Array, w: usize) -> Vec<usize> {
    let n = x.len();
    if x.null_count() == 0 {
        return (0..n).map(|i| (i + 1).min(w)).collect();
    }
    let mut out = Vec::with_capacity(n);
    let mut count = 0usize;
    for i in 0..n {
        count += x.is_valid(i) as usize;
        if i >= w {
            count -= x.is_valid(i - w) as usize;
        }
        out.push(count);
    }
    out
}

pub(super) fn rolling_count(x: &dyn Array, w: usize, mp: usize) -> Int64Array {
    window_counts(x, w)
        .into_iter()
        .map(|c| (c >= mp).then_some(c as i64))
        .collect()
}

pub(super) fn rolling_sum_i64(x: &Int64Array, w: usize, mp: usize) -> Int64Array {
    let n = x.len();
    let values = x.values();
    let mut out = NullableBuilder::<Int64Type>::with_capacity(n);
    let (mut sum, mut count) = (0i64, 0usize);
    for i in 0..n {
        if x.is_valid(i) {
            sum = sum.wrapping_add(values[i]);
            count += 1;
        }
        if i >= w && x.is_valid(i - w) {
            sum = sum.wrapping_sub(values[i - w]);
            count -= 1;
        }
        out.push((count >= mp).then_some(sum));
    }
    out.finish()
}

pub(super) fn rolling_sum_i128(
    x: &PrimitiveArray<datafusion::arrow::datatypes::Decimal128Type>,
    w: usize,
    mp: usize,
) -> Decimal128Array {
    let n = x.len();
    let values = x.values();
    let mut out = NullableBuilder::<Decimal128Type>::with_capacity(n);
    let (mut sum, mut count) = (0i128, 0usize);
    for i in 0..n {
        if x.is_valid(i) {
            sum = sum.wrapping_add(values[i]);
            count += 1;
        }
        if i >= w && x.is_valid(i - w) {
            sum = sum.wrapping_sub(values[i - w]);
            count -= 1;
        }
        out.push((count >= mp).then_some(sum));
    }
    out.finish()
}

pub(super) fn rolling_avg_i64(x: &Int64Array, w: usize, mp: usize) -> Float64Array {
    let n = x.len();
    let values = x.values();
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    let (mut sum, mut count) = (0i128, 0usize);
    for i in 0..n {
        if x.is_valid(i) {
            sum += values[i] as i128;
            count += 1;
        }
        if i >= w && x.is_valid(i - w) {
            sum -= values[i - w] as i128;
            count -= 1;
        }
        out.push((count >= mp && count > 0).then(|| sum as f64 / count as f64));
    }
    out.finish()
}

fn float_window_sums(x: &Float64Array, w: usize, mp: usize, mean: bool) -> Float64Array {
    if x.null_count() == 0 && x.values().iter().all(|v| v.is_finite()) {
        return dense_float_window_sums(x.values(), w, mp, mean);
    }
    // Double-double prefix sums of the finite values (hi + lo holds each prefix sum to about
    // 106 bits), and prefix counts of NULLs, NaNs and infinities. A window's sum is then the
    // difference of two prefixes, so each row costs a few independent operations instead of
    // a dependent add-and-remove chain, and no rounding error carries from window to window.
    let n = x.len();
    let values = x.values();
    let mut hi = Vec::with_capacity(n + 1);
    let mut lo = Vec::with_capacity(n + 1);
    let mut counts = Vec::with_capacity(n + 1); // non-NULL values
    let mut specials = Vec::with_capacity(n + 1); // (NaN, +inf, -inf) counts
    let (mut s, mut c) = (0.0f64, 0.0f64);
    let (mut k, mut nan, mut pos, mut neg) = (0usize, 0usize, 0usize, 0usize);
    hi.push(0.0);
    lo.push(0.0);
    counts.push(0);
    specials.push((0usize, 0usize, 0usize));
    let has_nulls = x.null_count() > 0;
    for (i, &v) in values.iter().enumerate() {
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
        hi.push(s);
        lo.push(c);
        counts.push(k);
        specials.push((nan, pos, neg));
    }
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for i in 0..n {
        let start = (i + 1).saturating_sub(w);
        let count = counts[i + 1] - counts[start];
        if count < mp || count == 0 {
            out.push(None);
            continue;
        }
        let (n1, p1, m1) = specials[i + 1];
        let (n0, p0, m0) = specials[start];
        let (nan, pos, neg) = (n1 - n0, p1 - p0, m1 - m0);
        let sum = if nan > 0 || (pos > 0 && neg > 0) {
            f64::NAN
        } else if pos > 0 {
            f64::INFINITY
        } else if neg > 0 {
            f64::NEG_INFINITY
        } else {
            // (hi1 + lo1) - (hi0 + lo0), with the error of the leading difference kept.
            let d = hi[i + 1] - hi[start];
            let bp = d - hi[i + 1];
            let err = (hi[i + 1] - (d - bp)) + (-hi[start] - bp);
            d + (err + (lo[i + 1] - lo[start]))
        };
        out.push(Some(if mean { sum / count as f64 } else { sum }));
    }
    out.finish()
}

/// [`float_window_sums`] for values without NULLs, NaNs or infinities: the common case, with
/// only the double-double prefix sums to keep.
fn dense_float_window_sums(values: &[f64], w: usize, mp: usize, mean: bool) -> Float64Array {
    let n = values.len();
    let mut hi = Vec::with_capacity(n + 1);
    let mut lo = Vec::with_capacity(n + 1);
    let (mut s, mut c) = (0.0f64, 0.0f64);
    hi.push(0.0);
    lo.push(0.0);
    for &v in values {
        let t = s + v;
        let bp = t - s;
        c += (s - (t - bp)) + (v - bp);
        s = t;
        hi.push(s);
        lo.push(c);
    }
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for i in 0..n {
        let start = (i + 1).saturating_sub(w);
        let count = i + 1 - start;
        if count < mp {
            out.push(None);
            continue;
        }
        let d = hi[i + 1] - hi[start];
        let bp = d - hi[i + 1];
        let err = (hi[i + 1] - (d - bp)) + (-hi[start] - bp);
        let sum = d + (err + (lo[i + 1] - lo[start]));
        out.push(Some(if mean { sum / count as f64 } else { sum }));
    }
    out.finish()
}

pub(super) fn rolling_sum_f64(x: &Float64Array, w: usize, mp: usize) -> Float64Array {
    float_window_sums(x, w, mp, false)
}

pub(super) fn rolling_avg_f64(x: &Float64Array, w: usize, mp: usize) -> Float64Array {
    float_window_sums(x, w, mp, true)
}
