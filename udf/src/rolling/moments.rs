//! Rolling variance and standard deviation.

use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::datatypes::Float64Type;

use super::dd::{two_prod, Dd};
use super::sums::window_start;
use crate::segments::Segments;
use crate::util::NullableBuilder;

/// Sample variance (or standard deviation) over a sliding window, in each partition of
/// `segs`. Prefix sums of the values and of their exact squares are kept as double-doubles,
/// so a window's `sum(x^2) - sum(x)^2 / k` is computed to about 106 bits before rounding: no
/// drift from window to window, no cancellation when a far-off value leaves, strictly O(n). A
/// window whose finite values are all equal gives exactly 0. Values beyond 1e150 in magnitude
/// (whose squares would overflow) are handled by scaling their partition.
pub(super) fn rolling_var(
    x: &Float64Array,
    w: usize,
    mp: usize,
    std: bool,
    segs: &Segments,
) -> Float64Array {
    let n = x.len();
    let raw = x.values();
    let valid = |j: usize| x.null_count() == 0 || x.is_valid(j);
    let mut s1 = Vec::with_capacity(n);
    let mut s2 = Vec::with_capacity(n);
    let mut counts = Vec::with_capacity(n); // (non-NULL, non-finite)
    let mut runs = Vec::with_capacity(n); // equal finite values ending here (NULLs skipped)
    let mut scales = Vec::with_capacity(segs.count());
    for r in segs.ranges() {
        // Scale by a power of two (exact) if squares could overflow.
        let biggest = r
            .clone()
            .filter(|&j| valid(j) && raw[j].is_finite())
            .map(|j| raw[j].abs())
            .fold(0.0f64, f64::max);
        let scale = if biggest > 1e150 {
            2f64.powi(-520)
        } else {
            1.0
        };
        scales.push(scale);
        let (mut a, mut b) = (Dd::default(), Dd::default());
        let (mut k, mut bad, mut run, mut last) = (0usize, 0usize, 0usize, f64::NAN);
        for j in r {
            let v = raw[j];
            if valid(j) {
                k += 1;
                if v.is_finite() {
                    run = if v == last { run + 1 } else { 1 };
                    last = v;
                    let v = v * scale;
                    a = a.add_f64(v, 0.0);
                    let (p, e) = two_prod(v, v);
                    b = b.add_f64(p, e);
                } else {
                    bad += 1;
                }
            }
            s1.push(a);
            s2.push(b);
            counts.push((k, bad));
            runs.push(run);
        }
    }
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for (r, scale) in segs.ranges().zip(scales) {
        for i in r.clone() {
            let start = window_start(i, w, r.start);
            let (c0, a0, b0) = if start > r.start {
                (counts[start - 1], s1[start - 1], s2[start - 1])
            } else {
                ((0, 0), Dd::default(), Dd::default())
            };
            let count = counts[i].0 - c0.0;
            if count < mp || count < 2 {
                out.push(None);
                continue;
            }
            let non_finite = counts[i].1 - c0.1;
            let finite = count - non_finite;
            let var = if non_finite > 0 {
                f64::NAN
            } else if runs[i] >= finite {
                0.0
            } else {
                // var = (k * sum(x^2) - sum(x)^2) / (k * (k - 1)), the numerator in
                // double-double.
                let k = finite as f64;
                let sum = s1[i].sub(a0);
                let sq = s2[i].sub(b0);
                let numerator = sq.mul_f64(k).sub(sum.mul(sum));
                (numerator.hi / (k * (k - 1.0))).max(0.0)
            };
            // Undo the scaling (in two steps for the variance: scale^2 alone would underflow).
            out.push(Some(if std {
                var.sqrt() / scale
            } else {
                var / scale / scale
            }));
        }
    }
    out.finish()
}
