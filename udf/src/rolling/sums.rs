//! Rolling counts, sums and means, over each partition of [`Segments`]: a window never
//! reaches back past its partition's first row, and running state starts afresh there.

use datafusion::arrow::array::{Array, Decimal128Array, Float64Array, Int64Array, PrimitiveArray};
use datafusion::arrow::datatypes::{
    i256, ArrowPrimitiveType, Decimal128Type, Float64Type, Int64Type,
};
use datafusion::error::Result;

use super::blocks::block_windows;
use crate::segments::Segments;
use crate::util::{decimal38, NullableBuilder};

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

/// Rolling decimal sums, exact (in 256 bits while rows enter and leave); a window's sum
/// beyond 38 digits is an error, never a wrapped value.
pub(super) fn rolling_sum_decimal(
    x: &Decimal128Array,
    w: usize,
    mp: usize,
    scale: i8,
    segs: &Segments,
) -> Result<Decimal128Array> {
    let values = x.values();
    let mut out = NullableBuilder::<Decimal128Type>::with_capacity(x.len());
    for r in segs.ranges() {
        let (mut sum, mut count) = (i256::ZERO, 0usize);
        for i in r.clone() {
            if x.is_valid(i) {
                sum = sum.wrapping_add(i256::from_i128(values[i]));
                count += 1;
            }
            if i >= r.start + w && x.is_valid(i - w) {
                sum = sum.wrapping_sub(i256::from_i128(values[i - w]));
                count -= 1;
            }
            let value = (count >= mp && count > 0)
                .then(|| decimal38("rolling_sum", sum, scale))
                .transpose()?;
            out.push(value);
        }
    }
    Ok(out.finish().with_precision_and_scale(38, scale)?)
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

/// A compensated sum (Kahan-Babuska): the rounded sum and the sum of its exact rounding
/// errors. The result is the true sum rounded once, up to an error of order `w * eps^2` times
/// the sum of the magnitudes of the window's values.
#[derive(Clone, Copy, Default)]
struct Compensated {
    sum: f64,
    err: f64,
}

impl Compensated {
    #[inline]
    fn add(self, v: f64) -> Compensated {
        let t = self.sum + v;
        let bp = t - self.sum;
        Compensated {
            sum: t,
            err: self.err + ((self.sum - (t - bp)) + (v - bp)),
        }
    }

    #[inline]
    fn join(self, o: Compensated) -> Compensated {
        Compensated {
            err: self.err + o.err,
            ..self.add(o.sum)
        }
    }

    /// The sum. Once the rounded sum is not finite (an infinity, a NaN or an overflow in the
    /// window) it is the IEEE result and the correction (then NaN) is dropped.
    #[inline]
    fn value(self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.err
        } else {
            self.sum
        }
    }
}

/// Rolling float sums (or means) of each window, compensated, over the window's own rows
/// ([`block_windows`]): a value that has left the window (an outlier, an overflow to
/// infinity, a NaN) leaves no trace. NaN and infinities propagate as in IEEE arithmetic
/// (`inf + -inf` is NaN).
fn float_window_sums(
    x: &Float64Array,
    w: usize,
    mp: usize,
    mean: bool,
    segs: &Segments,
) -> Float64Array {
    let values = x.values();
    let has_nulls = x.null_count() > 0;
    let counts = window_counts(x, w, segs);
    let mut out = NullableBuilder::<Float64Type>::with_capacity(x.len());
    let mut scratch = (Vec::new(), Vec::new());
    for r in segs.ranges() {
        block_windows(
            r,
            w,
            Compensated::default(),
            |a, j| {
                if has_nulls && !x.is_valid(j) {
                    a
                } else {
                    a.add(values[j])
                }
            },
            Compensated::join,
            &mut scratch,
            |i, a| {
                let count = counts[i];
                if count < mp || count == 0 {
                    return out.push(None);
                }
                let sum = a.value();
                out.push(Some(if mean { sum / count as f64 } else { sum }));
            },
        );
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
