//! Differences with an earlier (or later) row: `diff(x [, n])` and `pct_change(x [, n])`.

use std::sync::Arc;

use datafusion::arrow::array::{new_empty_array, new_null_array, Array, ArrayRef, BooleanArray};
use datafusion::arrow::compute::kernels::numeric::{div, sub, sub_wrapping};
use datafusion::arrow::compute::{cast, concat, nullif};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    DocSection, Documentation, Expr, LimitEffect, PartitionEvaluator, Signature, Volatility,
    WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::args::{integer_arg, is_temporal, literal_i64, numeric_coercion, plan_err};
use crate::segments::{first_arg, SegmentedEvaluator, Segments, WholePartition};
use crate::util::no_panic;

const DOC_SECTION_DIFFERENCE: DocSection = DocSection {
    include: true,
    label: "Difference functions",
    description: Some(
        "Compare each row with the row n places before it (or after it, for negative n).",
    ),
};

/// `diff` or `pct_change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DifferenceKind {
    Diff,
    PctChange,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 2] = [Self::Diff, Self::PctChange];

    pub fn name(self) -> &'static str {
        match self {
            Self::Diff => "diff",
            Self::PctChange => "pct_change",
        }
    }
}

fn documentation(kind: DifferenceKind) -> Documentation {
    match kind {
    DifferenceKind::Diff => Documentation::builder(
        DOC_SECTION_DIFFERENCE,
        "The value minus the value `n` rows earlier in the window partition (in the ORDER BY order of the OVER \
         clause); NULL where there is no such row or either value is NULL. A negative `n` looks ahead: \
         `diff(x, -1)` is x minus the next row's x. Result type: BIGINT for integer input (wrapping on \
         overflow), DOUBLE for float input, DECIMAL for decimal input, INTERVAL/duration for timestamps. \
         Evaluated on whole partitions (vectorized).",
        "diff(expression [, n]) OVER ([PARTITION BY ...] ORDER BY ...)",
    )
    .with_argument("expression", "The values: numbers, decimals or temporal values.")
    .with_argument("n", "How many rows back (default 1; negative looks ahead): an integer literal.")
    .with_sql_example(
        "```sql\n> SELECT t, v, diff(v) OVER (ORDER BY t) AS d, diff(v, 2) OVER (ORDER BY t) AS d2\n  \
         FROM (VALUES (1, 100), (2, 102), (3, 101), (4, 105)) AS s(t, v);\n-- d = NULL, 2, -1, 4; d2 = NULL, NULL, 1, 3\n```",
    )
    .build(),
    DifferenceKind::PctChange => Documentation::builder(
        DOC_SECTION_DIFFERENCE,
        "The relative change from the value `n` rows earlier: `(x - prev) / prev`, as DOUBLE; NULL where there \
         is no such row or either value is NULL. A zero `prev` gives +inf, -inf or NaN (as pandas does). A \
         negative `n` compares with a later row. Evaluated on whole partitions (vectorized).",
        "pct_change(expression [, n]) OVER ([PARTITION BY ...] ORDER BY ...)",
    )
    .with_argument("expression", "The values: a numeric column or expression.")
    .with_argument("n", "How many rows back (default 1; negative looks ahead): an integer literal.")
    .with_sql_example(
        "```sql\n> SELECT t, p, pct_change(p) OVER (ORDER BY t) AS r\n  \
         FROM (VALUES (1, 100.0), (2, 110.0), (3, 99.0)) AS s(t, p);\n-- r = NULL, 0.1, -0.1\n```",
    )
    .build(),
    }
}

/// `diff` or `pct_change` as a [`WindowUDF`] (the one in ltseq's registry).
pub fn difference_udwf(kind: DifferenceKind) -> Arc<WindowUDF> {
    crate::registry::get(kind.name(), || Difference::new(kind).into())
}

/// `diff(x [, n])` / `pct_change(x [, n])` as an expression.
pub fn difference(kind: DifferenceKind, args: Vec<Expr>) -> Expr {
    difference_udwf(kind).call(args)
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Difference {
    kind: DifferenceKind,
    signature: Signature,
    doc: Documentation,
}

impl Difference {
    pub fn new(kind: DifferenceKind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: documentation(kind),
        }
    }
}

/// The type of `x - prev` for values of type `dt`, or an error naming the function.
fn diff_type(dt: &DataType) -> Result<DataType> {
    let empty = new_empty_array(dt);
    sub_wrapping(&empty, &empty)
        .map(|a| a.data_type().clone())
        .map_err(|_| DataFusionError::Plan(format!("diff does not support values of type {dt}")))
}

impl WindowUDFImpl for Difference {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        if !(1..=2).contains(&arg_types.len()) {
            return plan_err(format!(
                "{name} expects 1 or 2 arguments: {name}(expression [, n]), got {}",
                arg_types.len()
            ));
        }
        let t = &arg_types[0];
        let x = match self.kind {
            DifferenceKind::Diff if is_temporal(t) => {
                diff_type(t)?;
                t.clone()
            }
            DifferenceKind::Diff => numeric_coercion(name, "the expression", t)?,
            DifferenceKind::PctChange => {
                numeric_coercion(name, "the expression", t)?;
                DataType::Float64
            }
        };
        let mut out = vec![x];
        if let Some(n) = arg_types.get(1) {
            out.push(integer_arg(name, "the offset n", n)?);
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
            DifferenceKind::Diff => diff_type(&input)?,
            DifferenceKind::PctChange => DataType::Float64,
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

impl Difference {
    fn evaluator(&self, args: &PartitionEvaluatorArgs) -> Result<DifferenceEvaluator> {
        let n = literal_i64(args.input_exprs(), 1, self.kind.name(), "the offset n")?.unwrap_or(1);
        Ok(DifferenceEvaluator { kind: self.kind, n })
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
struct DifferenceEvaluator {
    kind: DifferenceKind,
    n: i64,
}

impl SegmentedEvaluator for DifferenceEvaluator {
    fn evaluate_segments(&mut self, values: &[ArrayRef], segs: &Segments) -> Result<ArrayRef> {
        no_panic(self.kind.name(), || {
            let x = first_arg(self.kind.name(), values, segs)?;
            let all = difference_array(self.kind, x, self.n)?;
            if segs.count() <= 1 {
                return Ok(all);
            }
            // Over all rows at once; rows whose partner is in another partition have none.
            let outside = BooleanArray::new(segs.beyond(self.n), None);
            Ok(nullif(&all, &outside)?)
        })
    }
}

/// `x` moved `n` rows down (n > 0: row i holds row i - n) or up (n < 0), NULL-padded.
pub fn shift_array(x: &ArrayRef, n: i64) -> Result<ArrayRef> {
    let len = x.len();
    let k = (n.unsigned_abs() as usize).min(len);
    if k == 0 {
        return Ok(Arc::clone(x));
    }
    let pad = new_null_array(x.data_type(), k);
    Ok(if n > 0 {
        concat(&[pad.as_ref(), x.slice(0, len - k).as_ref()])?
    } else {
        concat(&[x.slice(k, len - k).as_ref(), pad.as_ref()])?
    })
}

/// `diff` or `pct_change` of a whole partition.
pub fn difference_array(kind: DifferenceKind, x: &ArrayRef, n: i64) -> Result<ArrayRef> {
    match kind {
        DifferenceKind::Diff => {
            let prev = shift_array(x, n)?;
            Ok(sub_wrapping(x, &prev)?)
        }
        DifferenceKind::PctChange => {
            let x = cast(x, &DataType::Float64)?;
            let prev = shift_array(&x, n)?;
            let change = sub(&x, &prev)?;
            Ok(div(&change, &prev)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};

    #[test]
    fn diff_and_pct_change() {
        let v: ArrayRef = Arc::new(Int64Array::from(vec![100, 102, 101, 105]));
        let ints = |a: ArrayRef| -> Vec<Option<i64>> {
            a.as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .iter()
                .collect()
        };
        assert_eq!(
            ints(difference_array(DifferenceKind::Diff, &v, 1).unwrap()),
            vec![None, Some(2), Some(-1), Some(4)]
        );
        assert_eq!(
            ints(difference_array(DifferenceKind::Diff, &v, 2).unwrap()),
            vec![None, None, Some(1), Some(3)]
        );
        assert_eq!(
            ints(difference_array(DifferenceKind::Diff, &v, -1).unwrap()),
            vec![Some(-2), Some(1), Some(-4), None]
        );
        assert_eq!(
            ints(difference_array(DifferenceKind::Diff, &v, 9).unwrap()),
            vec![None; 4]
        );
        let p: ArrayRef = Arc::new(Float64Array::from(vec![100.0, 110.0, 99.0, 0.0, 5.0]));
        let pc = difference_array(DifferenceKind::PctChange, &p, 1).unwrap();
        let pc: Vec<Option<f64>> = pc
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(pc[0], None);
        assert!((pc[1].unwrap() - 0.1).abs() < 1e-12 && (pc[2].unwrap() + 0.1).abs() < 1e-12);
        assert_eq!(pc[4], Some(f64::INFINITY));
    }
}
