//! `run_id(k1 [, k2, ...])`: the id of the run of consecutive equal keys a row belongs to.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::kernels::cmp::distinct;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, FieldRef, Float16Type, Float32Type, Float64Type,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_RANKING;
use datafusion::logical_expr::{
    Documentation, Expr, LimitEffect, PartitionEvaluator, Signature, Volatility, WindowUDF,
    WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::segments::{SegmentedEvaluator, Segments, WholePartition};
use crate::util::{is_equality_comparable, no_panic};

/// The `run_id` window function as a [`WindowUDF`] (the one in ltseq's registry).
pub fn run_id_udwf() -> Arc<WindowUDF> {
    crate::registry::get("run_id", || RunId::new().into())
}

/// `run_id(keys...)` as an expression; add `OVER (...)` with the expression's window builder.
pub fn run_id(keys: Vec<Expr>) -> Expr {
    run_id_udwf().call(keys)
}

/// Numbers runs of consecutive rows whose key tuple is equal (NULL equals NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RunId {
    signature: Signature,
    doc: Documentation,
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

impl RunId {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            doc: documentation(),
        }
    }
}

fn documentation() -> Documentation {
    Documentation::builder(
        DOC_SECTION_RANKING,
        "Numbers the runs of consecutive rows whose key is equal. Within each window partition, \
         in the ORDER BY order of the OVER clause, the first row gets 1 and the id grows by 1 \
         each time the tuple of arguments differs from the previous row's. NULL equals NULL \
         here, and floats compare by value with NaN equal to NaN. Rows of one run share an id, \
         so `GROUP BY` on it groups consecutive rows (\"gaps and islands\"). The result is \
         BIGINT, never NULL, and ascending within the partition, which DataFusion uses to \
         stream a `GROUP BY` over it. Evaluated on whole partitions (vectorized): the \
         partition is buffered in memory.",
        "run_id(expression [, expression ...]) OVER ([PARTITION BY ...] ORDER BY ...)",
    )
    .with_argument(
        "expression",
        "The key. One or more columns or expressions of any comparable type \
         (numbers, strings, booleans, dates, times, binary, decimals).",
    )
    .with_sql_example(
        r#"```sql
> SELECT day, up, run_id(up) OVER (ORDER BY day) AS run
  FROM (VALUES (1, true), (2, true), (3, false), (4, true)) AS t(day, up);
+-----+-------+-----+
| day | up    | run |
+-----+-------+-----+
| 1   | true  | 1   |
| 2   | true  | 1   |
| 3   | false | 2   |
| 4   | true  | 3   |
+-----+-------+-----+
```"#,
    )
    .build()
}

impl WindowUDFImpl for RunId {
    fn name(&self) -> &str {
        "run_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return Err(DataFusionError::Plan(
                "run_id expects at least one argument: run_id(key [, key ...])".to_string(),
            ));
        }
        for (i, dt) in arg_types.iter().enumerate() {
            if !is_equality_comparable(dt) {
                return Err(DataFusionError::Plan(format!(
                    "run_id does not support argument {} of type {dt}: keys must be of a \
                     comparable scalar type",
                    i + 1
                )));
            }
        }
        Ok(arg_types.to_vec())
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        crate::clauses::check_evaluator("run_id", &args)?;
        Ok(Box::new(WholePartition(RunIdEvaluator)))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        crate::clauses::check_call("run_id", &field_args)?;
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Int64,
            false,
        )))
    }

    fn sort_options(&self) -> Option<SortOptions> {
        Some(SortOptions {
            descending: false,
            nulls_first: false,
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }

    fn limit_effect(&self, _args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        LimitEffect::None
    }
}

/// Whole-partition evaluator: one vectorized pass per partition (see `docs/architecture.md`
/// for the measured comparison with DataFusion's row-by-row streaming path).
#[derive(Debug)]
struct RunIdEvaluator;

impl RunId {
    /// The evaluator over many partitions at once (see [`crate::segments`]).
    pub(crate) fn segmented() -> Box<dyn SegmentedEvaluator> {
        Box::new(RunIdEvaluator)
    }
}

impl SegmentedEvaluator for RunIdEvaluator {
    fn evaluate_segments(&mut self, values: &[ArrayRef], segs: &Segments) -> Result<ArrayRef> {
        no_panic("run_id", || {
            let n = segs.len();
            if n == 0 {
                return Ok(Arc::new(Int64Array::from(Vec::<i64>::new())) as ArrayRef);
            }
            // The key changes over all rows at once; the ids start at 1 in each partition.
            let changes = key_changes(values, n)?;
            let mut out = Vec::with_capacity(n);
            for r in segs.ranges() {
                let mut id = 1i64;
                out.push(id);
                for i in r.start + 1..r.end {
                    id += changes.value(i - 1) as i64;
                    out.push(id);
                }
            }
            Ok(Arc::new(Int64Array::from(out)) as ArrayRef)
        })
    }
}

/// `key` with its float values made canonical for equality, so that keys compare by SQL's
/// rule, as DataFusion's `=`, `GROUP BY` and joins do: -0.0 equals 0.0, and every NaN equals
/// every NaN (whatever its sign or payload). Keys of other types are returned as they are.
/// ltseq's operators compare keys (runs, ordered groups, links, pattern partitions) through
/// this one rule.
pub fn canonical_key(key: &ArrayRef) -> ArrayRef {
    type F16 = <Float16Type as ArrowPrimitiveType>::Native;
    match key.data_type() {
        DataType::Float64 => Arc::new(
            key.as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|v| if v.is_nan() { f64::NAN } else { v + 0.0 }),
        ),
        DataType::Float32 => Arc::new(
            key.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|v| if v.is_nan() { f32::NAN } else { v + 0.0 }),
        ),
        DataType::Float16 => Arc::new(
            key.as_primitive::<Float16Type>()
                .unary::<_, Float16Type>(|v| if v.is_nan() { F16::NAN } else { v + F16::ZERO }),
        ),
        _ => Arc::clone(key),
    }
}

/// Flags, for rows `1..n`, whether the key tuple differs from the previous row's
/// (`IS DISTINCT FROM`, so NULL equals NULL; floats by [`canonical_key`]'s rule). Bit `i - 1`
/// of the result is row `i`.
pub fn key_changes(keys: &[ArrayRef], num_rows: usize) -> Result<BooleanBuffer> {
    if num_rows < 2 {
        return Ok(BooleanBuffer::new_unset(0));
    }
    let mut changed: Option<BooleanBuffer> = None;
    for key in keys {
        if key.len() != num_rows {
            return Err(DataFusionError::Internal(format!(
                "run_id: key has {} rows, expected {num_rows}",
                key.len()
            )));
        }
        if key.data_type() == &DataType::Null {
            continue; // all NULL: never changes
        }
        let key = canonical_key(key);
        let current = key.slice(1, num_rows - 1);
        let previous = key.slice(0, num_rows - 1);
        let flags = distinct(&current, &previous)?;
        // `distinct` never returns NULL; fold any null mask in defensively.
        let bits = match flags.nulls() {
            Some(nulls) => flags.values() & nulls.inner(),
            None => flags.values().clone(),
        };
        changed = Some(match changed {
            None => bits,
            Some(acc) => &acc | &bits,
        });
    }
    Ok(changed.unwrap_or_else(|| BooleanBuffer::new_unset(num_rows - 1)))
}

/// Run ids for one partition: `first_id` for row 0, growing by one at each key change.
pub fn run_ids(keys: &[ArrayRef], num_rows: usize, first_id: i64) -> Result<Int64Array> {
    if num_rows == 0 {
        return Ok(Int64Array::from(Vec::<i64>::new()));
    }
    let changes = key_changes(keys, num_rows)?;
    let mut out = Vec::with_capacity(num_rows);
    let mut id = first_id;
    out.push(id);
    for changed in changes.iter() {
        id += changed as i64;
        out.push(id);
    }
    Ok(Int64Array::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, StringArray};

    fn ids(keys: Vec<ArrayRef>) -> Vec<i64> {
        let n = keys[0].len();
        run_ids(&keys, n, 1).unwrap().values().to_vec()
    }

    #[test]
    fn single_key_with_nulls() {
        let k: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some("a"),
            None,
            None,
            Some("a"),
            Some("b"),
        ]));
        assert_eq!(ids(vec![k]), vec![1, 1, 2, 2, 3, 4]);
    }

    #[test]
    fn composite_key() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1, 2, 2]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["x", "x", "y", "y", "y"]));
        assert_eq!(ids(vec![a, b]), vec![1, 1, 2, 3, 3]);
    }

    #[test]
    fn nan_equals_nan_and_empty() {
        let f: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, f64::NAN, 1.0]));
        assert_eq!(ids(vec![f]), vec![1, 1, 2]);
        let empty: ArrayRef = Arc::new(Int64Array::from(Vec::<i64>::new()));
        assert!(run_ids(&[empty], 0, 1).unwrap().is_empty());
    }

    #[test]
    fn rejects_zero_args_and_nested_types() {
        let f = RunId::new();
        assert!(f.coerce_types(&[]).is_err());
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        let err = f.coerce_types(&[list]).unwrap_err().to_string();
        assert!(err.contains("run_id does not support argument 1"), "{err}");
    }
}
