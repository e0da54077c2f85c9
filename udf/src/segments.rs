//! Evaluating a window function over many window partitions in one call.
//!
//! DataFusion hands a window function one partition at a time ([`PartitionEvaluator`]). An
//! input of many small partitions (a user's 40 clicks, a symbol's 8 rows) then pays the call's
//! fixed cost per partition, far more than the work. ltseq's functions are written once, over
//! [`Segments`] (consecutive partitions of one array): a [`SegmentedEvaluator`] resets its
//! running state where a partition starts and never looks across a start, so evaluating a
//! whole batch of partitions costs one pass. Their [`PartitionEvaluator`] is the same code
//! with one segment ([`WholePartition`]), so SQL and ltseq's Window operator give identical
//! results. DataFusion's `lag`, `lead` and `row_number` get segmented forms here too.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::Scalar;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, UInt64Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::nullif;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::PartitionEvaluatorArgs;
use datafusion::logical_expr::{PartitionEvaluator, WindowUDF};
use datafusion::physical_expr::expressions::Literal;

use crate::cumulative::Cumulative;
use crate::difference::{shift_array, Difference};
use crate::rolling::Rolling;
use crate::run_id::RunId;
use crate::util::no_panic;

/// Consecutive window partitions of one array of `len` rows, by the first row of each
/// (strictly ascending, the first one 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segments {
    starts: Vec<usize>,
    len: usize,
}

impl Segments {
    /// All `len` rows as one partition.
    pub fn whole(len: usize) -> Self {
        Self {
            starts: if len == 0 { vec![] } else { vec![0] },
            len,
        }
    }

    /// Partitions starting at `starts` (strictly ascending, the first 0, all below `len`).
    pub fn new(starts: Vec<usize>, len: usize) -> Result<Self> {
        let ordered = starts.windows(2).all(|w| w[0] < w[1]);
        let bounded = starts.last().is_none_or(|&s| s < len);
        let first = starts.first().map_or(len == 0, |&s| s == 0);
        if !(ordered && bounded && first) {
            return Err(DataFusionError::Internal(format!(
                "window partitions must start at 0 and rise below {len}, got {} starts",
                starts.len()
            )));
        }
        Ok(Self { starts, len })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of partitions.
    pub fn count(&self) -> usize {
        self.starts.len()
    }

    /// Each partition's rows.
    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let ends = self.starts.iter().skip(1).copied().chain([self.len]);
        self.starts.iter().copied().zip(ends).map(|(s, e)| s..e)
    }

    /// For each row, whether the row `n` places before it (`n > 0`) or after it (`n < 0`)
    /// is outside its partition.
    pub fn beyond(&self, n: i64) -> BooleanBuffer {
        let k = n.unsigned_abs() as usize;
        let mut bits = vec![false; self.len];
        for r in self.ranges() {
            let edge = k.min(r.len());
            let rows = if n > 0 {
                r.start..r.start + edge
            } else {
                r.end - edge..r.end
            };
            bits[rows].iter_mut().for_each(|b| *b = true);
        }
        BooleanBuffer::from(bits)
    }
}

/// A window function evaluated over consecutive partitions at once.
pub trait SegmentedEvaluator: fmt::Debug + Send {
    /// The results for every row of `values` (the arguments over `segments.len()` rows),
    /// each partition evaluated on its own.
    fn evaluate_segments(&mut self, values: &[ArrayRef], segments: &Segments) -> Result<ArrayRef>;
}

/// A [`SegmentedEvaluator`] as DataFusion's [`PartitionEvaluator`]: one partition, one segment.
#[derive(Debug)]
pub struct WholePartition<E>(pub E);

impl<E: SegmentedEvaluator + 'static> PartitionEvaluator for WholePartition<E> {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        self.0.evaluate_segments(values, &Segments::whole(num_rows))
    }
}

/// The first argument, checked to have a row per row of `segments`.
pub(crate) fn first_arg<'a>(
    function: &str,
    values: &'a [ArrayRef],
    segments: &Segments,
) -> Result<&'a ArrayRef> {
    let x = values
        .first()
        .ok_or_else(|| DataFusionError::Internal(format!("{function} got no input")))?;
    if x.len() != segments.len() {
        return Err(DataFusionError::Internal(format!(
            "{function}: input length mismatch"
        )));
    }
    Ok(x)
}

/// The segmented evaluator of `udwf` called with `args`: ltseq's functions, and DataFusion's
/// `lag`, `lead` and `row_number`; `None` for others (evaluate those partition by partition).
pub fn segmented_evaluator(
    udwf: &WindowUDF,
    args: PartitionEvaluatorArgs,
) -> Result<Option<Box<dyn SegmentedEvaluator>>> {
    if let Some(f) = udwf.inner().downcast_ref::<Rolling>() {
        return f.segmented(&args).map(Some);
    }
    if let Some(f) = udwf.inner().downcast_ref::<Cumulative>() {
        return Ok(Some(f.segmented()));
    }
    if let Some(f) = udwf.inner().downcast_ref::<Difference>() {
        return f.segmented(&args).map(Some);
    }
    if udwf.inner().downcast_ref::<RunId>().is_some() {
        return Ok(Some(RunId::segmented()));
    }
    Ok(match udwf.name() {
        "lag" | "lead" => shift_evaluator(udwf.name() == "lag", &args)?,
        "row_number" => Some(Box::new(RowNumber)),
        _ => None,
    })
}

/// DataFusion's `lag(x [, n [, default]])` / `lead(...)`, segment by segment: the value `n`
/// rows before (lag) or after (lead), else `default` (NULL by default). Only with literal
/// `n` and `default`, as DataFusion itself requires.
#[derive(Debug)]
struct Shift {
    n: i64,
    default: ScalarValue,
}

fn literal(args: &PartitionEvaluatorArgs, i: usize) -> Option<Option<ScalarValue>> {
    match args.input_exprs().get(i) {
        None => Some(None),
        Some(e) => e.downcast_ref::<Literal>().map(|l| Some(l.value().clone())),
    }
}

fn shift_evaluator(
    lag: bool,
    args: &PartitionEvaluatorArgs,
) -> Result<Option<Box<dyn SegmentedEvaluator>>> {
    if args.ignore_nulls() || args.is_reversed() {
        return Ok(None);
    }
    let Some(input) = args.input_fields().first() else {
        return Ok(None);
    };
    let n = match literal(args, 1) {
        Some(None) => 1,
        Some(Some(v)) => match v.cast_to(&datafusion::arrow::datatypes::DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) => n,
            _ => return Ok(None),
        },
        None => return Ok(None),
    };
    let default = match literal(args, 2) {
        Some(None) => ScalarValue::try_from(input.data_type())?,
        Some(Some(v)) if v.is_null() => ScalarValue::try_from(input.data_type())?,
        Some(Some(v)) => match v.cast_to(input.data_type()) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        },
        None => return Ok(None),
    };
    let n = if lag { n } else { n.wrapping_neg() };
    Ok(Some(Box::new(Shift { n, default })))
}

impl SegmentedEvaluator for Shift {
    fn evaluate_segments(&mut self, values: &[ArrayRef], segments: &Segments) -> Result<ArrayRef> {
        no_panic("lag", || {
            let x = first_arg("lag", values, segments)?;
            if self.n == 0 {
                return Ok(Arc::clone(x));
            }
            let shifted = shift_array(x, self.n)?;
            let outside = BooleanArray::new(segments.beyond(self.n), None);
            Ok(if self.default.is_null() {
                nullif(&shifted, &outside)?
            } else {
                let default = Scalar::new(self.default.to_array_of_size(1)?);
                zip(&outside, &default, &shifted)?
            })
        })
    }
}

/// DataFusion's `row_number()`, segment by segment.
#[derive(Debug)]
struct RowNumber;

impl SegmentedEvaluator for RowNumber {
    fn evaluate_segments(&mut self, _values: &[ArrayRef], segments: &Segments) -> Result<ArrayRef> {
        let mut out = Vec::with_capacity(segments.len());
        for r in segments.ranges() {
            out.extend(1..=r.len() as u64);
        }
        Ok(Arc::new(UInt64Array::from(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_checked_and_ranged() {
        let s = Segments::new(vec![0, 2, 3], 6).unwrap();
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![0..2, 2..3, 3..6]);
        assert!(Segments::new(vec![1], 3).is_err());
        assert!(Segments::new(vec![0, 0], 3).is_err());
        assert!(Segments::new(vec![0, 3], 3).is_err());
        assert_eq!(Segments::whole(0).count(), 0);
        let before: Vec<bool> = s.beyond(1).iter().collect();
        assert_eq!(before, vec![true, false, true, true, false, false]);
        let after: Vec<bool> = s.beyond(-2).iter().collect();
        assert_eq!(after, vec![true, true, true, false, true, true]);
    }
}
