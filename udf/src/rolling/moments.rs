//! Rolling variance and standard deviation.

use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::datatypes::Float64Type;

use super::blocks::block_windows;
use super::dd::{two_prod, Dd};
use crate::segments::Segments;
use crate::util::NullableBuilder;

/// Values beyond this magnitude could overflow a window's sum of squares: a window holding one
/// is computed on values scaled by 2^-520 (exact).
const HUGE: f64 = 1e135;

/// The sums of a run of rows: of the finite values and of their exact squares (double-double),
/// and the counts of non-NULL, non-finite and huge values.
#[derive(Clone, Copy, Default)]
struct Moments {
    s1: Dd,
    s2: Dd,
    count: usize,
    non_finite: usize,
    huge: usize,
}

impl Moments {
    fn join(self, o: Moments) -> Moments {
        Moments {
            s1: self.s1.add(o.s1),
            s2: self.s2.add(o.s2),
            count: self.count + o.count,
            non_finite: self.non_finite + o.non_finite,
            huge: self.huge + o.huge,
        }
    }

    /// The sample variance of the (scaled) finite values.
    fn variance(self) -> f64 {
        // var = (k * sum(x^2) - sum(x)^2) / (k * (k - 1)), the numerator in double-double
        let k = (self.count - self.non_finite) as f64;
        let numerator = self.s2.mul_f64(k).sub(self.s1.mul(self.s1));
        (numerator.hi / (k * (k - 1.0))).max(0.0)
    }
}

/// Sample variance (or standard deviation) over a sliding window, in each partition of
/// `segs`. Each window's sums of values and of their exact squares are double-doubles over
/// that window's rows only ([`block_windows`]), so `sum(x^2) - sum(x)^2 / k` is computed to
/// about 106 bits before rounding and no value outside the window (an outlier, a NaN, an
/// infinity) changes the result. A window whose finite values are all equal gives exactly 0. A
/// window holding a value beyond 1e135 in magnitude is computed on scaled values, so squares
/// do not overflow.
pub(super) fn rolling_var(
    x: &Float64Array,
    w: usize,
    mp: usize,
    std: bool,
    segs: &Segments,
) -> Float64Array {
    let raw = x.values();
    let valid = |j: usize| x.null_count() == 0 || x.is_valid(j);
    let mut out = NullableBuilder::<Float64Type>::with_capacity(x.len());
    let mut part: Vec<Option<f64>> = Vec::new();
    let mut scratch = (Vec::new(), Vec::new());
    for r in segs.ranges() {
        let has_huge = r
            .clone()
            .any(|j| raw[j].is_finite() && raw[j].abs() > HUGE && valid(j));
        part.clear();
        part.resize(r.len(), None);
        // the scaled pass (only where the partition has huge values) replaces the windows that
        // hold one
        let scales: &[f64] = if has_huge {
            &[1.0, 2f64.powi(-520)]
        } else {
            &[1.0]
        };
        for (pass, &scale) in scales.iter().enumerate() {
            // equal finite values ending at the current row (NULLs and non-finite skipped)
            let (mut run, mut last) = (0usize, f64::NAN);
            block_windows(
                r.clone(),
                w,
                Moments::default(),
                |mut m, j| {
                    if valid(j) {
                        let v = raw[j];
                        m.count += 1;
                        if v.is_finite() {
                            m.huge += (v.abs() > HUGE) as usize;
                            let v = v * scale;
                            m.s1 = m.s1.add_f64(v, 0.0);
                            let (p, e) = two_prod(v, v);
                            m.s2 = m.s2.add_f64(p, e);
                        } else {
                            m.non_finite += 1;
                        }
                    }
                    m
                },
                Moments::join,
                &mut scratch,
                |i, m| {
                    let v = raw[i];
                    if valid(i) && v.is_finite() {
                        run = if v == last { run + 1 } else { 1 };
                        last = v;
                    }
                    if pass == 1 && m.huge == 0 {
                        return;
                    }
                    part[i - r.start] = (m.count >= mp && m.count >= 2).then(|| {
                        let var = if m.non_finite > 0 {
                            f64::NAN
                        } else if run >= m.count {
                            0.0
                        } else {
                            m.variance()
                        };
                        // undo the scaling (in two steps for the variance: scale^2 would
                        // underflow)
                        if std {
                            var.sqrt() / scale
                        } else {
                            var / scale / scale
                        }
                    });
                },
            );
        }
        for v in &part {
            out.push(*v);
        }
    }
    out.finish()
}
