//! Rolling aggregates over the `w` rows ending at the current row:
//! `rolling_sum`, `rolling_avg` (alias `rolling_mean`), `rolling_min`, `rolling_max`,
//! `rolling_count`, `rolling_std`, `rolling_var`, each `(x, w [, min_periods])`.
//!
//! Every one is O(n) per partition whatever `w`: float sums and variances are differences of
//! double-double prefix sums (about 106 bits, so nothing drifts from window to window), integer
//! sums and counts are updated as rows enter and leave the window, and min/max use running
//! extremes per block of `w` rows (a monotonic deque when there are NULLs).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Float64Type};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    DocSection, Documentation, Expr, LimitEffect, PartitionEvaluator, Signature, Volatility,
    WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::args::{integer_arg, literal_i64, numeric_coercion, orderable_coercion, plan_err};
use crate::segments::{first_arg, SegmentedEvaluator, Segments, WholePartition};
use crate::util::{as_primitive, no_panic};
use extremes::rolling_extreme;
use moments::rolling_var;
use sums::{
    rolling_avg_f64, rolling_avg_i64, rolling_count, rolling_sum_decimal, rolling_sum_f64,
    rolling_sum_i64,
};

mod blocks;
mod dd;
mod extremes;
mod moments;
mod sums;
#[cfg(test)]
mod tests;

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
                          Integer sums wrap on overflow, as DataFusion's `sum` does; a decimal sum beyond 38 \
                          digits is an error",
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

fn documentation(kind: RollingKind) -> Documentation {
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
        RollingKind::Count => {
            " For `rolling_count`, `min_periods` counts the rows in the window, as pandas' `rolling().count()` does: \
             a window without a non-NULL value counts 0, and only a partial window at the partition's start with \
             fewer than `min_periods` rows is NULL."
        }
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
}

/// A rolling aggregate as a [`WindowUDF`] (the one in ltseq's registry).
pub fn rolling_udwf(kind: RollingKind) -> Arc<WindowUDF> {
    crate::registry::get(kind.name(), || Rolling::new(kind).into())
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
    doc: Documentation,
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
            doc: documentation(kind),
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
        crate::clauses::check_evaluator(self.kind.name(), &args)?;
        Ok(Box::new(WholePartition(self.evaluator(&args)?)))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        crate::clauses::check_call(self.kind.name(), &field_args)?;
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
        Some(&self.doc)
    }

    fn limit_effect(&self, _args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        LimitEffect::None
    }
}

impl Rolling {
    fn evaluator(&self, args: &PartitionEvaluatorArgs) -> Result<RollingEvaluator> {
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
        Ok(RollingEvaluator {
            kind: self.kind,
            w: w as usize,
            min_periods: min_periods as usize,
        })
    }

    /// The evaluator over many partitions at once (see [`crate::segments`]).
    pub(crate) fn segmented(
        &self,
        args: &PartitionEvaluatorArgs,
    ) -> Result<Box<dyn SegmentedEvaluator>> {
        Ok(Box::new(self.evaluator(args)?))
    }
}

#[derive(Debug)]
struct RollingEvaluator {
    kind: RollingKind,
    w: usize,
    min_periods: usize,
}

impl SegmentedEvaluator for RollingEvaluator {
    fn evaluate_segments(&mut self, values: &[ArrayRef], segs: &Segments) -> Result<ArrayRef> {
        no_panic(self.kind.name(), || {
            let x = first_arg(self.kind.name(), values, segs)?;
            rolling_segments(self.kind, x, self.w, self.min_periods, segs)
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
    rolling_segments(kind, x, w, min_periods, &Segments::whole(x.len()))
}

/// The rolling aggregate of each partition of `segs`.
pub fn rolling_segments(
    kind: RollingKind,
    x: &ArrayRef,
    w: usize,
    mp: usize,
    segs: &Segments,
) -> Result<ArrayRef> {
    let w = w.max(1);
    Ok(match kind {
        RollingKind::Count => Arc::new(rolling_count(x.as_ref(), w, mp, segs)),
        RollingKind::Min | RollingKind::Max => {
            rolling_extreme(x, w, mp, kind == RollingKind::Max, segs)?
        }
        RollingKind::Sum => match x.data_type() {
            DataType::Int64 => Arc::new(rolling_sum_i64(as_primitive(x)?, w, mp, segs)),
            DataType::Decimal128(_, s) => Arc::new(rolling_sum_decimal(
                as_primitive::<Decimal128Type>(x)?,
                w,
                mp,
                *s,
                segs,
            )?),
            _ => Arc::new(rolling_sum_f64(&to_f64(x)?, w, mp, segs)),
        },
        RollingKind::Avg => match x.data_type() {
            DataType::Int64 => Arc::new(rolling_avg_i64(as_primitive(x)?, w, mp, segs)),
            _ => Arc::new(rolling_avg_f64(&to_f64(x)?, w, mp, segs)),
        },
        RollingKind::Var => Arc::new(rolling_var(&to_f64(x)?, w, mp, false, segs)),
        RollingKind::Std => Arc::new(rolling_var(&to_f64(x)?, w, mp, true, segs)),
    })
}

fn to_f64(x: &ArrayRef) -> Result<Float64Array> {
    let c = cast(x, &DataType::Float64)?;
    Ok(as_primitive::<Float64Type>(&c)?.clone())
}
