//! The right side of an as-of join, read once: its fetched columns, and per `by` key its rows
//! sorted by `on` (ties in the right's order), searched by bisection for each left row.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;

use super::spec::{AsofSpec, AsofStrategy, OnKind, Resolved, NAME};
use crate::ordered::build_side::{fetched_columns, read_whole};
use crate::ordered::guard::no_panic;
use crate::ordered::keys::{KeyGroups, ABSENT};
use crate::ordered::memory::{array_bytes, Held};

/// `on` values of one side as numbers, with their validity (a NaN float is not valid).
enum OnValues {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

fn on_values(column: &ArrayRef, on_type: &DataType, kind: OnKind) -> Result<(OnValues, Vec<bool>)> {
    let common = if column.data_type() == on_type {
        Arc::clone(column)
    } else {
        cast(column, on_type)?
    };
    let valid = |nulls: Option<&NullBuffer>, i: usize| nulls.is_none_or(|n| n.is_valid(i));
    Ok(match kind {
        OnKind::Int => {
            let ints = if common.data_type() == &DataType::Int64 {
                common
            } else if matches!(common.data_type(), DataType::Date32 | DataType::Time32(_)) {
                cast(&cast(&common, &DataType::Int32)?, &DataType::Int64)?
            } else {
                cast(&common, &DataType::Int64)?
            };
            let ints = ints.as_primitive::<Int64Type>();
            let nulls = ints.logical_nulls();
            let ok = (0..ints.len()).map(|i| valid(nulls.as_ref(), i)).collect();
            (OnValues::Int(ints.values().to_vec()), ok)
        }
        OnKind::Float => {
            let floats = cast(&common, &DataType::Float64)?;
            let floats = floats.as_primitive::<Float64Type>();
            let nulls = floats.logical_nulls();
            let ok = (0..floats.len())
                .map(|i| valid(nulls.as_ref(), i) && !floats.value(i).is_nan())
                .collect();
            (OnValues::Float(floats.values().to_vec()), ok)
        }
    })
}

/// The first position at or after `from` where `pred` fails, in `s` where it holds before
/// `from` and then fails for good: a gallop from `from` (steps doubling), then a bisection.
fn gallop<T: Copy>(s: &[T], from: usize, pred: impl Fn(T) -> bool) -> usize {
    let (mut lo, mut hi, mut step) = (from, from, 1);
    while hi < s.len() && pred(s[hi]) {
        lo = hi + 1;
        hi = lo + step;
        step *= 2;
    }
    let hi = hi.min(s.len());
    lo + s[lo..hi].partition_point(|&v| pred(v))
}

/// Where the search for `x` in one key's sorted times ended: `x`, the count of times `<= x`,
/// the count `< x`. A later `x` at least as large starts from there (times of one key in a
/// left side sorted by time are found in a step or two).
#[derive(Clone, Copy)]
struct Cursor<T> {
    x: T,
    after_le: usize,
    first_ge: usize,
}

/// The chosen position in `sorted` (ascending `on` values of one key) for `x`, and the cursor
/// after it.
fn search<T: Copy + PartialOrd>(
    sorted: &[T],
    x: T,
    cursor: Option<Cursor<T>>,
    strategy: AsofStrategy,
    within: impl Fn(T, T) -> bool,
    closer_before: impl Fn(T, T, T) -> bool,
) -> (Option<usize>, Cursor<T>) {
    let (le, ge) = match cursor {
        Some(c) if c.x <= x => (c.after_le, c.first_ge),
        _ => (0, 0),
    };
    let after_le = gallop(sorted, le, |v| v <= x); // rows with v <= x
    let first_ge = if strategy == AsofStrategy::Forward {
        gallop(sorted, ge.min(after_le), |v| v < x)
    } else {
        0
    };
    let backward = after_le.checked_sub(1);
    let pick = match strategy {
        AsofStrategy::Backward => backward,
        AsofStrategy::Forward => (first_ge < sorted.len()).then_some(first_ge),
        AsofStrategy::Nearest => {
            // of the rows at the least distance, the last (in the right's order)
            let forward = (after_le < sorted.len())
                .then(|| gallop(sorted, after_le, |v| v <= sorted[after_le]) - 1);
            match (backward, forward) {
                (Some(b), _) if sorted[b] == x => Some(b),
                (Some(b), Some(f)) => Some(if closer_before(sorted[b], x, sorted[f]) {
                    b
                } else {
                    f
                }),
                (b, f) => b.or(f),
            }
        }
    };
    let cursor = Cursor {
        x,
        after_le,
        first_ge,
    };
    (pick.filter(|&i| within(sorted[i], x)), cursor)
}

/// The right side, indexed.
pub struct RightIndex {
    columns: Vec<ArrayRef>,
    /// The right rows by key; each key's rows are sorted by `on` (and `on` holds their times).
    groups: KeyGroups,
    on: OnValues,
    held: Option<Held>,
}

impl RightIndex {
    fn build(
        resolved: &Resolved,
        on: &ArrayRef,
        by: &[ArrayRef],
        columns: Vec<ArrayRef>,
    ) -> Result<Self> {
        let n = on.len();
        let (values, valid) = on_values(on, &resolved.on_type, resolved.on_kind)?;
        let mut groups = KeyGroups::build(&resolved.by_types, by, n, |i| valid[i])?;
        let (offsets, rows) = (&groups.offsets, &mut groups.rows);
        // each key's rows by `on` (a stable sort: equal values keep the right's order)
        let on = match values {
            OnValues::Int(v) => {
                let mut sorted = Vec::with_capacity(rows.len());
                for k in 0..offsets.len() - 1 {
                    let part = &mut rows[offsets[k] as usize..offsets[k + 1] as usize];
                    part.sort_by_key(|&r| v[r as usize]);
                    sorted.extend(part.iter().map(|&r| v[r as usize]));
                }
                OnValues::Int(sorted)
            }
            OnValues::Float(v) => {
                let mut sorted = Vec::with_capacity(rows.len());
                for k in 0..offsets.len() - 1 {
                    let part = &mut rows[offsets[k] as usize..offsets[k + 1] as usize];
                    part.sort_by(|&a, &b| v[a as usize].total_cmp(&v[b as usize]));
                    sorted.extend(part.iter().map(|&r| v[r as usize]));
                }
                OnValues::Float(sorted)
            }
        };
        Ok(Self {
            columns,
            groups,
            on,
            held: None,
        })
    }

    fn bytes(&self) -> usize {
        let columns: usize = self.columns.iter().map(|c| array_bytes(c.as_ref())).sum();
        let on = match &self.on {
            OnValues::Int(v) => v.capacity() * 8,
            OnValues::Float(v) => v.capacity() * 8,
        };
        columns + self.groups.bytes() + on
    }

    /// The right row of each left row (NULL: none, or beyond the tolerance).
    fn positions(
        &self,
        resolved: &Resolved,
        strategy: AsofStrategy,
        on: &ArrayRef,
        by: &[ArrayRef],
    ) -> Result<UInt32Array> {
        let n = on.len();
        let (values, valid) = on_values(on, &resolved.on_type, resolved.on_kind)?;
        let ids = self.groups.probe(by, n)?;
        let mut out = vec![0u32; n];
        let mut found = vec![false; n];
        let tol = resolved.tolerance;
        let mut fill = |i: usize, pick: Option<usize>, lo: usize| {
            if let Some(p) = pick {
                out[i] = self.groups.rows[lo + p];
                found[i] = true;
            }
        };
        let span = |i: usize| {
            let id = ids[i];
            (id != ABSENT && valid[i]).then(|| {
                let r = self.groups.span(id);
                (r.start, r.end)
            })
        };
        // a cursor per key (a batch's keys searched from where they were), unless there are
        // many more keys than rows
        let groups = self.groups.groups();
        let cursor_slots = if groups <= 4 * n.max(1024) { groups } else { 0 };
        match (&self.on, &values) {
            (OnValues::Int(sorted), OnValues::Int(xs)) => {
                let limit = tol.map(|t| t.floor() as i128);
                let mut cursors = vec![None; cursor_slots];
                for (i, &x) in xs.iter().enumerate() {
                    let Some((lo, hi)) = span(i) else { continue };
                    let slot = cursors.get_mut(ids[i] as usize);
                    let hint = slot.as_ref().and_then(|c| **c);
                    let (pick, after) = search(
                        &sorted[lo..hi],
                        x,
                        hint,
                        strategy,
                        |v, x| limit.is_none_or(|t| (x as i128 - v as i128).abs() <= t),
                        |b, x, f| (x as i128 - b as i128) < (f as i128 - x as i128),
                    );
                    if let Some(c) = slot {
                        *c = Some(after);
                    }
                    fill(i, pick, lo);
                }
            }
            (OnValues::Float(sorted), OnValues::Float(xs)) => {
                let mut cursors = vec![None; cursor_slots];
                for (i, &x) in xs.iter().enumerate() {
                    let Some((lo, hi)) = span(i) else { continue };
                    let slot = cursors.get_mut(ids[i] as usize);
                    let hint = slot.as_ref().and_then(|c| **c);
                    let (pick, after) = search(
                        &sorted[lo..hi],
                        x,
                        hint,
                        strategy,
                        |v, x| tol.is_none_or(|t| (x - v).abs() <= t),
                        |b, x, f| (x - b) < (f - x),
                    );
                    if let Some(c) = slot {
                        *c = Some(after);
                    }
                    fill(i, pick, lo);
                }
            }
            _ => {}
        }
        let nulls =
            (!found.iter().all(|&f| f)).then(|| NullBuffer::new(BooleanBuffer::from(found)));
        Ok(UInt32Array::new(out.into(), nulls))
    }

    /// The output batch for one left batch.
    pub(super) fn join(
        &self,
        batch: &RecordBatch,
        resolved: &Resolved,
        spec: &AsofSpec,
        left_on: usize,
        left_by: &[usize],
        schema: &SchemaRef,
    ) -> Result<RecordBatch> {
        let by: Vec<ArrayRef> = left_by
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        let positions = self.positions(resolved, spec.strategy, batch.column(left_on), &by)?;
        let mut columns = batch.columns().to_vec();
        for c in &self.columns {
            columns.push(take(c.as_ref(), &positions, None)?);
        }
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

/// Reads the whole right side (every partition, one after another, in its order) and indexes it.
pub(super) async fn build_index(
    right: Arc<dyn ExecutionPlan>,
    spec: AsofSpec,
    resolved: Resolved,
    context: Arc<TaskContext>,
) -> Result<RightIndex> {
    let schema = right.schema();
    let (all, mut held) = read_whole(NAME, right, context).await?;
    let on = Arc::clone(all.column(schema.index_of(&spec.right_on)?));
    let by = spec
        .right_by
        .iter()
        .map(|k| Ok(Arc::clone(all.column(schema.index_of(k)?))))
        .collect::<Result<Vec<_>>>()?;
    let columns = fetched_columns(&all, &spec.fetch)?;
    let mut index = no_panic(NAME, || RightIndex::build(&resolved, &on, &by, columns))?;
    drop(all);
    held.set(index.bytes())?;
    index.held = Some(held);
    Ok(index)
}

impl fmt::Debug for RightIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RightIndex({} columns, {} rows)",
            self.columns.len(),
            self.groups.rows.len()
        )
    }
}
