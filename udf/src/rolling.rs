//! Rolling aggregates over the `w` rows ending at the current row:
//! `rolling_sum`, `rolling_avg` (alias `rolling_mean`), `rolling_min`, `rolling_max`,
//! `rolling_count`, `rolling_std`, `rolling_var`, each `(x, w [, min_periods])`.
//!
//! Every one is O(n) per partition whatever `w`: float sums and variances are differences of
//! double-double prefix sums (about 106 bits, so nothing drifts from window to window), integer
//! sums and counts are updated as rows enter and leave the window, and min/max use running
//! extremes per block of `w` rows (a monotonic deque when there are NULLs).

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    downcast_primitive_array, Array, ArrayRef, ArrowPrimitiveType, Decimal128Array, Float64Array,
    Int64Array, PrimitiveArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    ArrowNativeTypeOp, DataType, Decimal128Type, Field, FieldRef, Float64Type, Int64Type,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    DocSection, Documentation, Expr, LimitEffect, PartitionEvaluator, Signature, Volatility,
    WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::args::{integer_arg, literal_i64, numeric_coercion, orderable_coercion, plan_err};
use crate::util::{no_panic, NullableBuilder};

pub(crate) const DOC_SECTION_ROLLING: DocSection = DocSection {
    include: true,
    label: "Rolling functions",
    description: Some(
        "Aggregates over a sliding window of the `w` rows ending at the current row.",
    ),
};

/// Which rolling aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollingKind {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Std,
    Var,
}

impl RollingKind {
    pub const ALL: [RollingKind; 7] = [
        Self::Sum,
        Self::Avg,
        Self::Min,
        Self::Max,
        Self::Count,
        Self::Std,
        Self::Var,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "rolling_sum",
            Self::Avg => "rolling_avg",
            Self::Min => "rolling_min",
            Self::Max => "rolling_max",
            Self::Count => "rolling_count",
            Self::Std => "rolling_std",
            Self::Var => "rolling_var",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    fn what(self) -> &'static str {
        match self {
            Self::Sum => "the sum of the non-NULL values",
            Self::Avg => "the mean of the non-NULL values",
            Self::Min => "the smallest non-NULL value",
            Self::Max => "the largest non-NULL value",
            Self::Count => "the number of non-NULL values",
            Self::Std => "the sample standard deviation of the non-NULL values",
            Self::Var => "the sample variance of the non-NULL values",
        }
    }

    fn result_type(self) -> &'static str {
        match self {
            Self::Sum => "BIGINT for integer input, DOUBLE for float input, DECIMAL(38, s) for DECIMAL(p, s) input. \
                          Integer sums wrap on overflow, as DataFusion's `sum` does",
            Self::Avg | Self::Std | Self::Var => "DOUBLE",
            Self::Min | Self::Max => "the input's type (numbers, decimals, dates, times, timestamps, durations)",
            Self::Count => "BIGINT",
        }
    }

    fn example(self) -> (&'static str, &'static str) {
        match self {
            Self::Sum => ("rolling_sum(v, 2)", "10, 30, 50, 70"),
            Self::Avg => ("rolling_avg(v, 3)", "10, 15, 20, 30"),
            Self::Min => ("rolling_min(v, 2)", "10, 10, 20, 30"),
            Self::Max => ("rolling_max(v, 2)", "10, 20, 30, 40"),
            Self::Count => ("rolling_count(v, 3)", "1, 2, 3, 3"),
            Self::Std => ("rolling_std(v, 3)", "NULL, 7.0710678118654755, 10, 10"),
            Self::Var => ("rolling_var(v, 3, 3)", "NULL, NULL, 100, 100"),
        }
    }
}

fn documentation(kind: RollingKind) -> &'static Documentation {
    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: OnceLock<Documentation> = OnceLock::new();
    static DOCS: [OnceLock<Documentation>; 7] = [EMPTY; 7];
    DOCS[kind.index()].get_or_init(|| {
        let name = kind.name();
        let (call, result) = kind.example();
        let extra = match kind {
            RollingKind::Std | RollingKind::Var => {
                " NULL also where the window holds fewer than two values; exactly 0 where its values are all equal. \
                 Computed from double-double prefix sums of the values and their squares, so precision does not \
                 depend on the values before the window."
            }
            RollingKind::Sum | RollingKind::Avg => {
                " A NaN in the window makes the result NaN (NaN is a value, not a missing one); +inf and -inf together also give NaN."
            }
            RollingKind::Min | RollingKind::Max => " Floats are ordered as DataFusion's `min`/`max` order them: NaN above +inf.",
            RollingKind::Count => "",
        };
        Documentation::builder(
            DOC_SECTION_ROLLING,
            format!(
                "Over the `w` rows ending at the current row of the window partition (in the ORDER BY order of the OVER \
                 clause), {}. NULLs are skipped. The result is NULL where the window holds fewer than `min_periods` \
                 non-NULL values; with the default `min_periods` of 1 the first rows aggregate the rows available \
                 (partial windows), and `min_periods = w` gives pandas' default.{extra} Result type: {}. Evaluated on \
                 whole partitions in one O(n) pass (the partition is buffered in memory).",
                kind.what(),
                kind.result_type()
            ),
            format!("{name}(expression, w [, min_periods]) OVER ([PARTITION BY ...] ORDER BY ...)"),
        )
        .with_argument("expression", "The values: a column or expression.")
        .with_argument("w", "The window size in rows: a positive integer literal.")
        .with_argument(
            "min_periods",
            "The least number of non-NULL values the window must hold (default 1): an integer literal from 1 to w.",
        )
        .with_sql_example(format!(
            "```sql\n> SELECT t, v, {call} OVER (ORDER BY t) AS r\n  FROM (VALUES (1, 10), (2, 20), (3, 30), (4, 40)) AS s(t, v);\n\
             -- r = {result}\n```"
        ))
        .build()
    })
}

/// A rolling aggregate as a [`WindowUDF`].
pub fn rolling_udwf(kind: RollingKind) -> Arc<WindowUDF> {
    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: OnceLock<Arc<WindowUDF>> = OnceLock::new();
    static UDWFS: [OnceLock<Arc<WindowUDF>>; 7] = [EMPTY; 7];
    Arc::clone(UDWFS[kind.index()].get_or_init(|| Arc::new(WindowUDF::from(Rolling::new(kind)))))
}

/// `rolling_<kind>(x, w [, min_periods])` as an expression; add `OVER (...)` with its window builder.
pub fn rolling(kind: RollingKind, args: Vec<Expr>) -> Expr {
    rolling_udwf(kind).call(args)
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rolling {
    kind: RollingKind,
    signature: Signature,
    aliases: Vec<String>,
}

impl Rolling {
    pub fn new(kind: RollingKind) -> Self {
        let aliases = if kind == RollingKind::Avg {
            vec!["rolling_mean".to_string()]
        } else {
            vec![]
        };
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
            aliases,
        }
    }
}

impl WindowUDFImpl for Rolling {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err(format!(
                "{name} expects 2 or 3 arguments: {name}(expression, w [, min_periods]), got {}",
                arg_types.len()
            ));
        }
        let x = match self.kind {
            RollingKind::Min | RollingKind::Max => {
                orderable_coercion(name, "the expression", &arg_types[0])?
            }
            RollingKind::Count => arg_types[0].clone(),
            _ => numeric_coercion(name, "the expression", &arg_types[0])?,
        };
        let mut out = vec![x, integer_arg(name, "the window size w", &arg_types[1])?];
        if let Some(t) = arg_types.get(2) {
            out.push(integer_arg(name, "min_periods", t)?);
        }
        Ok(out)
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let name = self.kind.name();
        let w = literal_i64(args.input_exprs(), 1, name, "the window size w")?
            .ok_or_else(|| DataFusionError::Plan(format!("{name} needs a window size w")))?;
        if w < 1 {
            return plan_err(format!(
                "{name}: the window size w must be a positive integer, got {w}"
            ));
        }
        let min_periods = literal_i64(args.input_exprs(), 2, name, "min_periods")?.unwrap_or(1);
        if min_periods < 1 || min_periods > w {
            return plan_err(format!(
                "{name}: min_periods must be between 1 and w = {w}, got {min_periods}"
            ));
        }
        Ok(Box::new(RollingEvaluator {
            kind: self.kind,
            w: w as usize,
            min_periods: min_periods as usize,
        }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let input = field_args
            .input_fields()
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Float64);
        let dt = match self.kind {
            RollingKind::Sum => match input {
                DataType::Decimal128(_, s) => DataType::Decimal128(38, s),
                DataType::Int64 => DataType::Int64,
                _ => DataType::Float64,
            },
            RollingKind::Min | RollingKind::Max => input,
            RollingKind::Count => DataType::Int64,
            RollingKind::Avg | RollingKind::Std | RollingKind::Var => DataType::Float64,
        };
        Ok(Arc::new(Field::new(field_args.name(), dt, true)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(documentation(self.kind))
    }

    fn limit_effect(&self, _args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        LimitEffect::None
    }
}

#[derive(Debug)]
struct RollingEvaluator {
    kind: RollingKind,
    w: usize,
    min_periods: usize,
}

impl PartitionEvaluator for RollingEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        no_panic(self.kind.name(), || {
            let x = values.first().ok_or_else(|| {
                DataFusionError::Internal(format!("{} got no input", self.kind.name()))
            })?;
            if x.len() != num_rows {
                return Err(DataFusionError::Internal(format!(
                    "{}: input length mismatch",
                    self.kind.name()
                )));
            }
            rolling_array(self.kind, x, self.w, self.min_periods)
        })
    }
}

/// The rolling aggregate of a whole partition.
pub fn rolling_array(
    kind: RollingKind,
    x: &ArrayRef,
    w: usize,
    min_periods: usize,
) -> Result<ArrayRef> {
    let w = w.max(1);
    Ok(match kind {
        RollingKind::Count => Arc::new(rolling_count(x.as_ref(), w, min_periods)),
        RollingKind::Min | RollingKind::Max => {
            rolling_extreme(x, w, min_periods, kind == RollingKind::Max)?
        }
        RollingKind::Sum => match x.data_type() {
            DataType::Int64 => Arc::new(rolling_sum_i64(
                as_prim::<datafusion::arrow::datatypes::Int64Type>(x)?,
                w,
                min_periods,
            )),
            DataType::Decimal128(_, s) => {
                let s = *s;
                let arr = rolling_sum_i128(
                    as_prim::<datafusion::arrow::datatypes::Decimal128Type>(x)?,
                    w,
                    min_periods,
                );
                Arc::new(arr.with_precision_and_scale(38, s)?)
            }
            _ => Arc::new(rolling_sum_f64(&to_f64(x)?, w, min_periods)),
        },
        RollingKind::Avg => match x.data_type() {
            DataType::Int64 => Arc::new(rolling_avg_i64(
                as_prim::<datafusion::arrow::datatypes::Int64Type>(x)?,
                w,
                min_periods,
            )),
            _ => Arc::new(rolling_avg_f64(&to_f64(x)?, w, min_periods)),
        },
        RollingKind::Var => Arc::new(rolling_var(&to_f64(x)?, w, min_periods, false)),
        RollingKind::Std => Arc::new(rolling_var(&to_f64(x)?, w, min_periods, true)),
    })
}

fn as_prim<T: ArrowPrimitiveType>(x: &ArrayRef) -> Result<&PrimitiveArray<T>> {
    x.as_any()
        .downcast_ref::<PrimitiveArray<T>>()
        .ok_or_else(|| {
            DataFusionError::Internal(format!("unexpected array type {}", x.data_type()))
        })
}

fn to_f64(x: &ArrayRef) -> Result<Float64Array> {
    let c = cast(x, &DataType::Float64)?;
    Ok(as_prim::<datafusion::arrow::datatypes::Float64Type>(&c)?.clone())
}

/// Non-NULL counts of every window.
fn window_counts(x: &dyn Array, w: usize) -> Vec<usize> {
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

fn rolling_count(x: &dyn Array, w: usize, mp: usize) -> Int64Array {
    window_counts(x, w)
        .into_iter()
        .map(|c| (c >= mp).then_some(c as i64))
        .collect()
}

fn rolling_sum_i64(x: &Int64Array, w: usize, mp: usize) -> Int64Array {
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

fn rolling_sum_i128(
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

fn rolling_avg_i64(x: &Int64Array, w: usize, mp: usize) -> Float64Array {
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

fn rolling_sum_f64(x: &Float64Array, w: usize, mp: usize) -> Float64Array {
    float_window_sums(x, w, mp, false)
}

fn rolling_avg_f64(x: &Float64Array, w: usize, mp: usize) -> Float64Array {
    float_window_sums(x, w, mp, true)
}

/// A double-double number: `hi + lo` with `|lo| <= ulp(hi) / 2`, about 106 significant bits.
#[derive(Clone, Copy, Default)]
struct Dd {
    hi: f64,
    lo: f64,
}

#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bp = s - a;
    (s, (a - (s - bp)) + (b - bp))
}

#[inline]
fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd {
        hi: s,
        lo: b - (s - a),
    }
}

/// Dekker's exact product (no FMA needed): `a * b = p + e` exactly.
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
    let split = |v: f64| {
        let t = SPLIT * v;
        let hi = t - (t - v);
        (hi, v - hi)
    };
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    /// `self + v + e` for a double `v` and a small correction `e` (running sums).
    #[inline]
    fn add_f64(self, v: f64, e: f64) -> Dd {
        let (s, t) = two_sum(self.hi, v);
        quick_two_sum(s, t + (self.lo + e))
    }

    /// `self - o`, accurate to about 2^-104 of the larger operand.
    #[inline]
    fn sub(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, -o.hi);
        quick_two_sum(s, e + (self.lo - o.lo))
    }

    #[inline]
    fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        quick_two_sum(p, e + (self.hi * o.lo + self.lo * o.hi))
    }

    #[inline]
    fn mul_f64(self, b: f64) -> Dd {
        let (p, e) = two_prod(self.hi, b);
        quick_two_sum(p, e + self.lo * b)
    }
}

/// Sample variance (or standard deviation) over a sliding window. Prefix sums of the values
/// and of their exact squares are kept as double-doubles, so a window's `sum(x^2) - sum(x)^2 / k`
/// is computed to about 106 bits before rounding: no drift from window to window, no
/// cancellation when a far-off value leaves, strictly O(n). A window whose finite values are all
/// equal gives exactly 0. Values beyond 1e150 in magnitude (whose squares would overflow) are
/// handled by scaling the partition.
fn rolling_var(x: &Float64Array, w: usize, mp: usize, std: bool) -> Float64Array {
    let n = x.len();
    let raw = x.values();
    let valid = |j: usize| x.null_count() == 0 || x.is_valid(j);
    // Scale by a power of two (exact) if squares could overflow.
    let biggest = (0..n)
        .filter(|&j| valid(j) && raw[j].is_finite())
        .map(|j| raw[j].abs())
        .fold(0.0f64, f64::max);
    let scale = if biggest > 1e150 {
        2f64.powi(-520)
    } else {
        1.0
    };
    let mut s1 = Vec::with_capacity(n + 1);
    let mut s2 = Vec::with_capacity(n + 1);
    let mut counts = Vec::with_capacity(n + 1); // (non-NULL, non-finite)
    let mut runs = Vec::with_capacity(n); // equal finite values ending here (NULLs skipped)
    let (mut a, mut b) = (Dd::default(), Dd::default());
    let (mut k, mut bad, mut run, mut last) = (0usize, 0usize, 0usize, f64::NAN);
    s1.push(a);
    s2.push(b);
    counts.push((0usize, 0usize));
    for (j, &v) in raw.iter().enumerate() {
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
    let mut out = NullableBuilder::<Float64Type>::with_capacity(n);
    for i in 0..n {
        let start = (i + 1).saturating_sub(w);
        let count = counts[i + 1].0 - counts[start].0;
        if count < mp || count < 2 {
            out.push(None);
            continue;
        }
        let non_finite = counts[i + 1].1 - counts[start].1;
        let finite = count - non_finite;
        let var = if non_finite > 0 {
            f64::NAN
        } else if runs[i] >= finite {
            0.0
        } else {
            // var = (k * sum(x^2) - sum(x)^2) / (k * (k - 1)), the numerator in double-double.
            let k = finite as f64;
            let sum = s1[i + 1].sub(s1[start]);
            let sq = s2[i + 1].sub(s2[start]);
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
    out.finish()
}

/// Rolling min or max with a monotonic deque: each row enters and leaves the deque once.
fn rolling_extreme_prim<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    w: usize,
    mp: usize,
    max: bool,
) -> PrimitiveArray<T> {
    if x.null_count() == 0 {
        return rolling_extreme_dense(x, w, mp, max);
    }
    let n = x.len();
    let values = x.values();
    let counts = window_counts(x, w);
    let mut deque: VecDeque<usize> = VecDeque::with_capacity(w.min(n));
    let mut out = NullableBuilder::<T>::with_capacity(n);
    for i in 0..n {
        if let Some(&front) = deque.front() {
            if front + w <= i {
                deque.pop_front();
            }
        }
        if x.is_valid(i) {
            let v = values[i];
            while let Some(&back) = deque.back() {
                let b = values[back];
                let dominated = if max { !b.is_gt(v) } else { !b.is_lt(v) };
                if dominated {
                    deque.pop_back();
                } else {
                    break;
                }
            }
            deque.push_back(i);
        }
        out.push(if counts[i] >= mp {
            deque.front().map(|&j| values[j])
        } else {
            None
        });
    }
    out.finish().with_data_type(x.data_type().clone())
}

/// Rolling min or max without NULLs, by blocks (van Herk / Gil-Werman): within each block of
/// `w` rows a running extreme from the block start and one from the block end; the window
/// ending at row `i` spans at most two blocks, so its extreme is the better of the two. Three
/// comparisons per row, no data-dependent branching.
fn rolling_extreme_dense<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    w: usize,
    mp: usize,
    max: bool,
) -> PrimitiveArray<T> {
    let values = x.values();
    let n = values.len();
    let better = |a: T::Native, b: T::Native| -> T::Native {
        let a_wins = if max { a.is_gt(b) } else { a.is_lt(b) };
        if a_wins {
            a
        } else {
            b
        }
    };
    // prefix[i]: extreme from the start of i's block to i; suffix[i]: from i to its block end.
    let mut prefix = values.to_vec();
    let mut suffix = values.to_vec();
    for start in (0..n).step_by(w) {
        let end = (start + w).min(n);
        for i in start + 1..end {
            prefix[i] = better(prefix[i - 1], prefix[i]);
        }
        for i in (start..end - 1).rev() {
            suffix[i] = better(suffix[i], suffix[i + 1]);
        }
    }
    let mut out = NullableBuilder::<T>::with_capacity(n);
    for (i, &head) in prefix.iter().enumerate() {
        let count = (i + 1).min(w);
        if count < mp {
            out.push(None);
        } else if i + 1 < w {
            out.push(Some(head));
        } else {
            out.push(Some(better(suffix[i + 1 - w], head)));
        }
    }
    out.finish().with_data_type(x.data_type().clone())
}

fn rolling_extreme(x: &ArrayRef, w: usize, mp: usize, max: bool) -> Result<ArrayRef> {
    downcast_primitive_array!(
        x => Ok(Arc::new(rolling_extreme_prim(x, w, mp, max))),
        DataType::Null => Ok(Arc::clone(x)),
        other => plan_err(format!("{}: unsupported type {other}", if max { "rolling_max" } else { "rolling_min" }))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    fn floats(a: &ArrayRef) -> Vec<Option<f64>> {
        a.as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn variance_is_stable() {
        let var = |v: &[Option<f64>], w: usize| {
            floats(&rolling_array(RollingKind::Var, &f(v), w, 1).unwrap())
        };
        // a far-off value leaving the window leaves no residue
        assert_eq!(
            var(&[Some(134.0), Some(0.0), Some(0.0)], 2),
            vec![None, Some(8978.0), Some(0.0)]
        );
        let got = var(&[Some(149442.0), None, Some(0.0), Some(1.0)], 3);
        assert_eq!(got[3], Some(0.5));
        // constant windows are exactly 0, also for values with no exact binary form
        assert!(var(&[Some(0.1); 50], 7)
            .iter()
            .skip(1)
            .all(|v| *v == Some(0.0)));
        // a large offset does not cost precision: var(1e9 + [1, 2, 3]) = 1
        let got = var(&[Some(1e9 + 1.0), Some(1e9 + 2.0), Some(1e9 + 3.0)], 3);
        assert_eq!(got[2], Some(1.0));
        // values whose squares would overflow are scaled: the standard deviation is exact, the
        // variance (2e400) is beyond a double
        let big = [Some(1e200), Some(3e200)];
        assert_eq!(var(&big, 2)[1], Some(f64::INFINITY));
        let std = floats(&rolling_array(RollingKind::Std, &f(&big), 2, 1).unwrap());
        assert!((std[1].unwrap() / (2f64.sqrt() * 1e200) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn reference_examples() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30, 40]));
        let sum = rolling_array(RollingKind::Sum, &v, 2, 1).unwrap();
        assert_eq!(
            sum.as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec(),
            vec![10, 30, 50, 70]
        );
        let mean = rolling_array(RollingKind::Avg, &v, 3, 1).unwrap();
        assert_eq!(
            floats(&mean),
            vec![Some(10.0), Some(15.0), Some(20.0), Some(30.0)]
        );
        let std = floats(&rolling_array(RollingKind::Std, &v, 3, 1).unwrap());
        assert_eq!(std[0], None);
        assert!((std[1].unwrap() - 7.0710678118654755).abs() < 1e-12);
        assert!((std[3].unwrap() - 10.0).abs() < 1e-12);
        let mx = rolling_array(RollingKind::Max, &v, 2, 2).unwrap();
        let mx: Vec<Option<i64>> = mx
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(mx, vec![None, Some(20), Some(30), Some(40)]);
    }

    #[test]
    fn nulls_nan_and_infinities() {
        let x = f(&[
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(2.0),
            Some(3.0),
            Some(f64::INFINITY),
            Some(1.0),
            Some(1.0),
        ]);
        let s = floats(&rolling_array(RollingKind::Sum, &x, 2, 1).unwrap());
        assert_eq!(s[0], Some(1.0));
        assert_eq!(s[1], Some(1.0));
        assert!(s[2].unwrap().is_nan() && s[3].unwrap().is_nan());
        assert_eq!(s[4], Some(5.0)); // the NaN has left the window
        assert_eq!(s[5], Some(f64::INFINITY));
        assert_eq!(s[7], Some(2.0));
        let c: Vec<Option<i64>> = rolling_array(RollingKind::Count, &x, 3, 3)
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            c,
            vec![None, None, None, None, Some(3), Some(3), Some(3), Some(3)]
        );
    }

    #[test]
    fn long_windows_stay_exact() {
        let n = 100_000;
        let v: Vec<Option<f64>> = (0..n)
            .map(|i| Some(((i * 7919) % 1000) as f64 * 0.001 + 1e6))
            .collect();
        let got = floats(&rolling_array(RollingKind::Avg, &f(&v), 50, 1).unwrap());
        for i in [49, 5_000, n - 1] {
            let exact: f64 = v[i + 1 - 50..=i].iter().map(|x| x.unwrap()).sum::<f64>() / 50.0;
            assert!((got[i].unwrap() - exact).abs() < 1e-9, "{i}");
        }
        let var = floats(&rolling_array(RollingKind::Var, &f(&v), 50, 1).unwrap());
        let w = &v[n - 50..];
        let m = w.iter().map(|x| x.unwrap()).sum::<f64>() / 50.0;
        let exact = w.iter().map(|x| (x.unwrap() - m).powi(2)).sum::<f64>() / 49.0;
        assert!((var[n - 1].unwrap() - exact).abs() < 1e-9);
    }
}
