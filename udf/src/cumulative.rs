//! Running aggregates from the start of the window partition to the current row:
//! `cum_sum`, `cum_prod`, `cum_min`, `cum_max`, `cum_count`, each `(x)`.

use std::sync::Arc;

use datafusion::arrow::array::{
    downcast_primitive_array, Array, ArrayRef, ArrowPrimitiveType, Decimal128Array, Float64Array,
    Int64Array, PrimitiveArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{
    i256, ArrowNativeTypeOp, DataType, Decimal128Type, Field, FieldRef, Float64Type, Int64Type,
};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    DocSection, Documentation, Expr, LimitEffect, PartitionEvaluator, Signature, Volatility,
    WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::args::{numeric_coercion, orderable_coercion, plan_err};
use crate::segments::{first_arg, SegmentedEvaluator, Segments, WholePartition};
use crate::util::{as_primitive, decimal38, no_panic, NullableBuilder};

const DOC_SECTION_CUMULATIVE: DocSection = DocSection {
    include: true,
    label: "Cumulative functions",
    description: Some(
        "Running aggregates from the start of the window partition to the current row.",
    ),
};

/// Which running aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CumulativeKind {
    Sum,
    Prod,
    Min,
    Max,
    Count,
}

impl CumulativeKind {
    pub const ALL: [CumulativeKind; 5] = [Self::Sum, Self::Prod, Self::Min, Self::Max, Self::Count];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "cum_sum",
            Self::Prod => "cum_prod",
            Self::Min => "cum_min",
            Self::Max => "cum_max",
            Self::Count => "cum_count",
        }
    }

    fn description(self) -> String {
        let (what, result, nulls) = match self {
            Self::Sum => (
                "the running sum",
                "BIGINT for integer input (wrapping on overflow, as DataFusion's `sum`), DOUBLE for float input, \
                 DECIMAL(38, s) for DECIMAL(p, s) input (a sum beyond 38 digits is an error)",
                "NULL until the first non-NULL value",
            ),
            Self::Prod => (
                "the running product",
                "BIGINT for integer input (wrapping on overflow), DOUBLE otherwise (decimals are multiplied as DOUBLE)",
                "NULL until the first non-NULL value",
            ),
            Self::Min => ("the running minimum", "the input's type", "NULL until the first non-NULL value"),
            Self::Max => ("the running maximum", "the input's type", "NULL until the first non-NULL value"),
            Self::Count => (
                "the running number of non-NULL values",
                "BIGINT",
                "0 (not NULL) before the first non-NULL value",
            ),
        };
        format!(
            "From the start of the window partition to the current row (in the ORDER BY order of the OVER clause), \
             {what}. NULLs are skipped: the value carries over a NULL row; {nulls}. NaN is a value: once in a float \
             sum or product it stays. Result type: {result}. Evaluated on whole partitions in one O(n) pass."
        )
    }
}

fn documentation(kind: CumulativeKind) -> Documentation {
    let name = kind.name();
    let result = match kind {
        CumulativeKind::Sum => "5, 5, 7, 10",
        CumulativeKind::Prod => "5, 5, 10, 30",
        CumulativeKind::Min => "5, 5, 2, 2",
        CumulativeKind::Max => "5, 5, 5, 5",
        CumulativeKind::Count => "1, 1, 2, 3",
    };
    Documentation::builder(
        DOC_SECTION_CUMULATIVE,
        kind.description(),
        format!("{name}(expression) OVER ([PARTITION BY ...] ORDER BY ...)"),
    )
    .with_argument("expression", "The values: a column or expression.")
    .with_sql_example(format!(
        "```sql\n> SELECT t, v, {name}(v) OVER (ORDER BY t) AS r\n  FROM (VALUES (1, 5), (2, NULL), (3, 2), (4, 3)) AS s(t, v);\n\
         -- r = {result}\n```"
    ))
    .build()
}

/// A running aggregate as a [`WindowUDF`] (the one in ltseq's registry).
pub fn cumulative_udwf(kind: CumulativeKind) -> Arc<WindowUDF> {
    crate::registry::get(kind.name(), || Cumulative::new(kind).into())
}

/// `cum_<kind>(x)` as an expression; add `OVER (...)` with its window builder.
pub fn cumulative(kind: CumulativeKind, x: Expr) -> Expr {
    cumulative_udwf(kind).call(vec![x])
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Cumulative {
    kind: CumulativeKind,
    signature: Signature,
    doc: Documentation,
}

impl Cumulative {
    pub fn new(kind: CumulativeKind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: documentation(kind),
        }
    }
}

impl WindowUDFImpl for Cumulative {
    fn name(&self) -> &str {
        self.kind.name()
    }

    /// Within each partition in window order, a running count rises and a running maximum
    /// (minimum) never falls (rises), after the NULLs before the first value; DataFusion
    /// can then stream what sorts by it (a `GROUP BY`, an `ORDER BY` of the partition keys and
    /// the result).
    fn sort_options(&self) -> Option<SortOptions> {
        match self.kind {
            CumulativeKind::Count => Some(SortOptions::new(false, false)),
            CumulativeKind::Max => Some(SortOptions::new(false, true)),
            CumulativeKind::Min => Some(SortOptions::new(true, true)),
            CumulativeKind::Sum | CumulativeKind::Prod => None,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        if arg_types.len() != 1 {
            return plan_err(format!(
                "{name} expects 1 argument: {name}(expression), got {}",
                arg_types.len()
            ));
        }
        let t = &arg_types[0];
        let x = match self.kind {
            CumulativeKind::Min | CumulativeKind::Max => {
                orderable_coercion(name, "the expression", t)?
            }
            CumulativeKind::Count => t.clone(),
            CumulativeKind::Prod => match numeric_coercion(name, "the expression", t)? {
                DataType::Decimal128(_, _) => DataType::Float64,
                other => other,
            },
            CumulativeKind::Sum => numeric_coercion(name, "the expression", t)?,
        };
        Ok(vec![x])
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        crate::clauses::check_evaluator(self.kind.name(), &args)?;
        Ok(Box::new(WholePartition(CumulativeEvaluator {
            kind: self.kind,
        })))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        crate::clauses::check_call(self.kind.name(), &field_args)?;
        let input = field_args
            .input_fields()
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Float64);
        let (dt, nullable) = match self.kind {
            CumulativeKind::Sum => (
                match input {
                    DataType::Decimal128(_, s) => DataType::Decimal128(38, s),
                    DataType::Int64 => DataType::Int64,
                    _ => DataType::Float64,
                },
                true,
            ),
            CumulativeKind::Prod => (
                if input == DataType::Int64 {
                    DataType::Int64
                } else {
                    DataType::Float64
                },
                true,
            ),
            CumulativeKind::Min | CumulativeKind::Max => (input, true),
            CumulativeKind::Count => (DataType::Int64, false),
        };
        Ok(Arc::new(Field::new(field_args.name(), dt, nullable)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }

    fn limit_effect(&self, _args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        LimitEffect::None
    }
}

impl Cumulative {
    /// The evaluator over many partitions at once (see [`crate::segments`]).
    pub(crate) fn segmented(&self) -> Box<dyn SegmentedEvaluator> {
        Box::new(CumulativeEvaluator { kind: self.kind })
    }
}

#[derive(Debug)]
struct CumulativeEvaluator {
    kind: CumulativeKind,
}

impl SegmentedEvaluator for CumulativeEvaluator {
    fn evaluate_segments(&mut self, values: &[ArrayRef], segs: &Segments) -> Result<ArrayRef> {
        no_panic(self.kind.name(), || {
            let x = first_arg(self.kind.name(), values, segs)?;
            cumulative_segments(self.kind, x, segs)
        })
    }
}

/// The running aggregate of a whole partition.
pub fn cumulative_array(kind: CumulativeKind, x: &ArrayRef) -> Result<ArrayRef> {
    cumulative_segments(kind, x, &Segments::whole(x.len()))
}

/// The running aggregate of each partition of `segs`.
pub fn cumulative_segments(
    kind: CumulativeKind,
    x: &ArrayRef,
    segs: &Segments,
) -> Result<ArrayRef> {
    Ok(match kind {
        CumulativeKind::Count => {
            let mut out = Vec::with_capacity(x.len());
            for r in segs.ranges() {
                let mut count = 0i64;
                out.extend(r.map(|i| {
                    count += x.is_valid(i) as i64;
                    count
                }));
            }
            Arc::new(Int64Array::from(out))
        }
        CumulativeKind::Min | CumulativeKind::Max => {
            running_extreme(x, kind == CumulativeKind::Max, segs)?
        }
        CumulativeKind::Sum => match x.data_type() {
            DataType::Int64 => Arc::new(running::<Int64Type>(as_primitive(x)?, segs, |a, b| {
                a.wrapping_add(b)
            })),
            DataType::Decimal128(_, s) => Arc::new(running_decimal_sum(
                as_primitive::<Decimal128Type>(x)?,
                *s,
                segs,
            )?),
            _ => {
                let f = cast(x, &DataType::Float64)?;
                Arc::new(running_float_sum(as_primitive::<Float64Type>(&f)?, segs))
            }
        },
        CumulativeKind::Prod => match x.data_type() {
            DataType::Int64 => Arc::new(running::<Int64Type>(as_primitive(x)?, segs, |a, b| {
                a.wrapping_mul(b)
            })),
            _ => {
                let f = cast(x, &DataType::Float64)?;
                Arc::new(running::<Float64Type>(as_primitive(&f)?, segs, |a, b| {
                    a * b
                }))
            }
        },
    })
}

/// A running fold that skips NULLs and is NULL before the first value of each partition.
fn running<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    segs: &Segments,
    f: impl Fn(T::Native, T::Native) -> T::Native,
) -> PrimitiveArray<T> {
    let values = x.values();
    let mut out = NullableBuilder::<T>::with_capacity(x.len());
    for r in segs.ranges() {
        let mut acc: Option<T::Native> = None;
        for i in r {
            if x.is_valid(i) {
                acc = Some(match acc {
                    Some(a) => f(a, values[i]),
                    None => values[i],
                });
            }
            out.push(acc);
        }
    }
    out.finish().with_data_type(x.data_type().clone())
}

/// A running decimal sum, exact; a sum beyond 38 digits is an error.
fn running_decimal_sum(x: &Decimal128Array, scale: i8, segs: &Segments) -> Result<Decimal128Array> {
    let values = x.values();
    let mut out = NullableBuilder::<Decimal128Type>::with_capacity(x.len());
    for r in segs.ranges() {
        let mut acc: Option<i256> = None;
        for i in r {
            if x.is_valid(i) {
                let v = i256::from_i128(values[i]);
                acc = Some(acc.map_or(v, |a| a.wrapping_add(v)));
            }
            out.push(acc.map(|a| decimal38("cum_sum", a, scale)).transpose()?);
        }
    }
    Ok(out.finish().with_precision_and_scale(38, scale)?)
}

/// A running float sum, compensated (Neumaier) so long partitions keep their precision.
fn running_float_sum(x: &Float64Array, segs: &Segments) -> Float64Array {
    let values = x.values();
    let mut out = NullableBuilder::<Float64Type>::with_capacity(x.len());
    for r in segs.ranges() {
        let (mut sum, mut comp, mut seen) = (0.0f64, 0.0f64, false);
        let (mut nan, mut pos, mut neg) = (false, false, false);
        for i in r {
            if x.is_valid(i) {
                seen = true;
                let v = values[i];
                if v.is_nan() {
                    nan = true;
                } else if v == f64::INFINITY {
                    pos = true;
                } else if v == f64::NEG_INFINITY {
                    neg = true;
                } else {
                    let t = sum + v;
                    if !t.is_finite() {
                        // finite values overflowing: the sum is that infinity from here on
                        pos |= t > 0.0;
                        neg |= t < 0.0;
                    } else if sum.abs() >= v.abs() {
                        comp += (sum - t) + v;
                    } else {
                        comp += (v - t) + sum;
                    }
                    sum = t;
                }
            }
            let value = if nan || (pos && neg) {
                f64::NAN
            } else if pos {
                f64::INFINITY
            } else if neg {
                f64::NEG_INFINITY
            } else {
                sum + comp
            };
            out.push(seen.then_some(value));
        }
    }
    out.finish()
}

fn running_extreme_prim<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    max: bool,
    segs: &Segments,
) -> PrimitiveArray<T> {
    running::<T>(x, segs, |a, b| {
        let take_b = if max { b.is_gt(a) } else { b.is_lt(a) };
        if take_b {
            b
        } else {
            a
        }
    })
}

fn running_extreme(x: &ArrayRef, max: bool, segs: &Segments) -> Result<ArrayRef> {
    downcast_primitive_array!(
        x => Ok(Arc::new(running_extreme_prim(x, max, segs))),
        DataType::Null => Ok(Arc::clone(x)),
        other => plan_err(format!("{}: unsupported type {other}", if max { "cum_max" } else { "cum_min" }))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_example() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None, Some(2), Some(3)]));
        let got = |k| -> Vec<Option<i64>> {
            cumulative_array(k, &v)
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .iter()
                .collect()
        };
        assert_eq!(
            got(CumulativeKind::Sum),
            vec![Some(5), Some(5), Some(7), Some(10)]
        );
        assert_eq!(
            got(CumulativeKind::Prod),
            vec![Some(5), Some(5), Some(10), Some(30)]
        );
        assert_eq!(
            got(CumulativeKind::Min),
            vec![Some(5), Some(5), Some(2), Some(2)]
        );
        assert_eq!(
            got(CumulativeKind::Count),
            vec![Some(1), Some(1), Some(2), Some(3)]
        );
        let lead_null: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(1)]));
        let s: Vec<Option<i64>> = cumulative_array(CumulativeKind::Sum, &lead_null)
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(s, vec![None, Some(1)]);
    }
}
