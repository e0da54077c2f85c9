//! The `GroupOrdered` stream. Each batch is cut into groups where the key tuple changes
//! (arrow's vectorized `IS DISTINCT FROM`, NULL equal to NULL, also against the previous
//! batch's last row), where the split flag or predicate holds, and where the partition columns
//! change. The aggregates are computed in the same pass: `count(*)`, `first_value` and
//! `last_value` natively, every other DataFusion aggregate through its `GroupsAccumulator` (or
//! per-group `Accumulator`s), fed in row order. Completed groups are emitted after every batch;
//! only the open group is kept.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBufferBuilder, Int64Array, RecordBatch,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::{Stream, StreamExt};

use crate::ordered::guard::ready;
use ltseq_udf::run_id::key_changes;

use super::exec::GroupOrderedExecSpec;
use super::spec::{build_aggregate, Boundary, NAME};
use super::split::CompiledSplit;
use crate::ordered::input::input_context;
use crate::ordered::memory::{array_bytes, Held};

enum AggState {
    Groups(Box<dyn GroupsAccumulator>),
    /// One accumulator per group not yet emitted (the open group is the last).
    PerGroup(Vec<Box<dyn Accumulator>>),
    /// `first_value` / `last_value`, computed natively: rows arrive in sequence order, so a
    /// group's first (last) value is the value at its first (last) row, gathered per batch.
    /// `pending`: values of completed groups not yet emitted; `open`: the open group's value.
    Edge {
        last: bool,
        pending: Vec<ArrayRef>,
        open: Option<ArrayRef>,
    },
    /// `count(*)`: group lengths.
    Count {
        pending: Vec<i64>,
        open: i64,
    },
}

/// Where a split mode finds its flags.
enum SplitSource {
    None,
    Column(usize),
    /// The compiled condition and the rows carried over for its lags.
    Predicate(CompiledSplit, Option<RecordBatch>),
}

/// The state of one partition in parallel mode (see `with_parallel_partitions`).
struct Parallel {
    plan: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
    partition: usize,
    /// The next partition to read ahead into.
    next: usize,
    /// Skipping the rows before this partition's first own start (they belong to a group
    /// owned by an earlier partition).
    skipping: bool,
    /// No row of the partition being read has been seen yet.
    at_start: bool,
    /// Whether this partition has any rows.
    seen_rows: bool,
    /// Reading ahead into the next partitions.
    ahead: bool,
    /// The read-ahead reached a start owned by a later partition.
    stopped: bool,
}

pub(super) struct GroupOrderedStream {
    input: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    /// Key columns (partition columns first): a change in any starts a group.
    keys: Vec<usize>,
    split: SplitSource,
    /// How many of `keys` are partition columns (in split mode, only those).
    partitions: usize,
    aggs: Vec<(AggregateFunctionExpr, AggState)>,
    last_key: Option<Vec<ArrayRef>>,
    /// Whether a group is open (started in an earlier batch and not yet emitted).
    open: bool,
    next_id: i64,
    /// Completed groups not emitted yet (without ids or aggregates, see `aggregate`).
    held: usize,
    parallel: Option<Parallel>,
    /// What the aggregate states hold (the open group's, and groups not emitted), in the pool.
    memory: Held,
}

impl GroupOrderedStream {
    /// Flags of the rows of `batch` that begin a new group (the first row of the sequence
    /// is added by `aggregate`).
    fn starts(&mut self, batch: &RecordBatch) -> Result<BooleanBuffer> {
        let rows = batch.num_rows();
        let keys: Vec<ArrayRef> = self
            .keys
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        let boundary_keys: &[ArrayRef] = if matches!(self.split, SplitSource::None) {
            &keys
        } else {
            &keys[..self.partitions]
        };
        let mut flags: Option<BooleanBuffer> = None;
        if !boundary_keys.is_empty() {
            // Row 0 starts a group where its key tuple differs from the previous batch's last
            // row, row i (i >= 1) where it differs from row i - 1's (vectorized
            // `IS DISTINCT FROM`, NULL equal to NULL).
            let first = match &self.last_key {
                Some(last) => {
                    let pairs = last
                        .iter()
                        .zip(boundary_keys)
                        .map(|(a, b)| concat(&[a.as_ref(), b.slice(0, 1).as_ref()]))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    key_changes(&pairs, 2)?.value(0)
                }
                None => false,
            };
            let mut all = BooleanBufferBuilder::new(rows);
            all.append(first);
            all.append_buffer(&key_changes(boundary_keys, rows)?);
            flags = Some(all.finish());
            self.last_key = Some(boundary_keys.iter().map(|k| k.slice(rows - 1, 1)).collect());
        }
        let split = match &mut self.split {
            SplitSource::None => None,
            SplitSource::Column(split) => {
                let values = batch.column(*split).as_boolean();
                Some(match values.nulls() {
                    Some(nulls) => values.values() & nulls.inner(),
                    None => values.values().clone(),
                })
            }
            SplitSource::Predicate(compiled, carry) => {
                let (values, next) = compiled.flags(batch, carry.take())?;
                *carry = next;
                Some(values)
            }
        };
        Ok(match (flags, split) {
            (Some(a), Some(b)) => &a | &b,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => BooleanBuffer::new_unset(rows),
        })
    }

    /// Takes one input batch: in parallel mode, leaves out the rows an earlier partition
    /// owns and stops at a start a later one owns; aggregates the rest.
    fn push(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(None);
        }
        let starts = self.starts(&batch)?;
        let Some(par) = self.parallel.as_mut() else {
            return self.aggregate(batch, starts);
        };
        let at_start = std::mem::replace(&mut par.at_start, false);
        // The first row of a partition is decided by the partition that reads ahead into it;
        // the partition's own starts come after it.
        let from = usize::from(at_start);
        let own = starts.set_indices().find(|&i| i >= from);
        if par.ahead {
            if let Some(s) = own {
                par.stopped = true;
                self.input = None;
                return self.aggregate(batch.slice(0, s), starts.slice(0, s));
            }
            return self.aggregate(batch, starts);
        }
        par.seen_rows = true;
        if par.skipping {
            let Some(s) = own else {
                return Ok(None);
            };
            par.skipping = false;
            return self.aggregate(batch.slice(s, rows - s), starts.slice(s, rows - s));
        }
        self.aggregate(batch, starts)
    }

    /// The next partition to read ahead into, in parallel mode, when this partition owns the
    /// group open at its end (or, as partition 0, the first row of the sequence).
    fn read_ahead(&mut self) -> Result<Option<SendableRecordBatchStream>> {
        let open = self.open;
        let Some(par) = self.parallel.as_mut() else {
            return Ok(None);
        };
        if par.stopped {
            return Ok(None);
        }
        if !par.ahead {
            if !(open || (par.partition == 0 && !par.seen_rows)) {
                return Ok(None);
            }
            par.ahead = true;
        }
        if par.next >= par.plan.output_partitioning().partition_count() {
            return Ok(None);
        }
        let stream = par.plan.execute(par.next, Arc::clone(&par.context))?;
        par.next += 1;
        par.at_start = true;
        Ok(Some(stream))
    }

    /// Aggregates one batch whose group starts are `starts`; returns the groups it completed.
    fn aggregate(
        &mut self,
        batch: RecordBatch,
        starts: BooleanBuffer,
    ) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(None);
        }
        let first = !self.open && !starts.value(0); // the very first row starts a group
        if self.aggs.is_empty() {
            // Only the groups: count them.
            let total = starts.count_set_bits() + usize::from(first) + usize::from(self.open);
            self.open = true;
            if self.schema.field(0).data_type() == &DataType::Null {
                // Rows without values: one batch at the end.
                self.held += total - 1;
                return Ok(None);
            }
            return self.emit(total - 1);
        }
        let mut begins: Vec<usize> = Vec::with_capacity(starts.count_set_bits() + 1);
        if first {
            begins.push(0);
        }
        begins.extend(starts.set_indices());
        // Groups touched by this batch, counting the open group (if any) as group 0.
        // (a group still open from the previous batch is group 0 even when row 0 starts a new one:
        // it completes here).
        let total = begins.len() + usize::from(self.open);
        // Group index of each row, only for accumulators that take one.
        let needs_index = self
            .aggs
            .iter()
            .any(|(_, s)| matches!(s, AggState::Groups(_) | AggState::PerGroup(_)));
        let mut index = Vec::new();
        if needs_index {
            // Rows before the first start belong to the open group (0); group g + 1 (or g
            // without an open group) runs from begins[g] to the next start.
            index.resize(begins.first().copied().unwrap_or(rows), 0);
            let ends = begins.iter().skip(1).copied().chain([rows]);
            for (group, end) in (usize::from(self.open)..).zip(ends) {
                index.resize(end, group);
            }
        }
        let had_open = self.open;
        for (expr, state) in self.aggs.iter_mut() {
            let values: Vec<ArrayRef> = expr
                .expressions()
                .iter()
                .map(|e| e.evaluate(&batch).and_then(|v| v.into_array(rows)))
                .collect::<Result<_>>()?;
            match state {
                AggState::Count { pending, open } => {
                    let (mut pos, mut current, mut have) = (0usize, *open, had_open);
                    for &b in &begins {
                        current += (b - pos) as i64;
                        if have {
                            pending.push(current);
                        }
                        current = 0;
                        pos = b;
                        have = true;
                    }
                    *open = current + (rows - pos) as i64;
                }
                AggState::Edge {
                    last,
                    pending,
                    open,
                } => {
                    let v = &values[0];
                    if !begins.is_empty() {
                        if *last {
                            // A group ends just before each start.
                            if begins[0] == 0 && had_open {
                                if let Some(o) = open.take() {
                                    pending.push(o);
                                }
                            }
                            let ends = begins.iter().filter(|&&b| b > 0).map(|&b| b - 1);
                            take_rows(v, ends, pending)?;
                        } else {
                            if had_open {
                                if let Some(o) = open.take() {
                                    pending.push(o);
                                }
                            }
                            take_rows(v, begins[..begins.len() - 1].iter().copied(), pending)?;
                            *open = Some(v.slice(begins[begins.len() - 1], 1));
                        }
                    }
                    if *last {
                        *open = Some(v.slice(rows - 1, 1));
                    }
                }
                AggState::Groups(acc) => acc.update_batch(&values, &index, None, total)?,
                AggState::PerGroup(accs) => {
                    while accs.len() < total {
                        accs.push(expr.create_accumulator()?);
                    }
                    let mut start = 0;
                    while start < rows {
                        let g = index[start];
                        let mut end = start + 1;
                        while end < rows && index[end] == g {
                            end += 1;
                        }
                        let slices: Vec<ArrayRef> =
                            values.iter().map(|v| v.slice(start, end - start)).collect();
                        accs[g].update_batch(&slices)?;
                        start = end;
                    }
                }
            }
        }
        self.open = true;
        // Every group but the last is complete.
        let out = self.emit(total - 1)?;
        self.account()?;
        Ok(out)
    }

    /// Records the bytes of the aggregate states: an open group whose state outgrows the pool
    /// (a `array_agg` of a giant group) is `ResourcesExhausted`.
    fn account(&mut self) -> Result<()> {
        let bytes: usize = self
            .aggs
            .iter()
            .map(|(_, state)| match state {
                AggState::Groups(acc) => acc.size(),
                AggState::PerGroup(accs) => accs.iter().map(|a| a.size()).sum(),
                AggState::Edge { pending, open, .. } => pending
                    .iter()
                    .chain(open.iter())
                    .map(|a| array_bytes(a.as_ref()))
                    .sum(),
                AggState::Count { pending, .. } => pending.len() * 8,
            })
            .sum();
        self.memory.set(bytes)
    }

    /// Emits the first `n` groups.
    fn emit(&mut self, n: usize) -> Result<Option<RecordBatch>> {
        if n == 0 {
            return Ok(None);
        }
        let ids: ArrayRef = if self.schema.field(0).data_type() == &DataType::Null {
            Arc::new(datafusion::arrow::array::NullArray::new(n))
        } else {
            Arc::new(Int64Array::from_iter_values(
                self.next_id..self.next_id + n as i64,
            ))
        };
        self.next_id += n as i64;
        let mut columns = vec![ids];
        for (i, (_, state)) in self.aggs.iter_mut().enumerate() {
            let field = self.schema.field(i + 1);
            let array = match state {
                AggState::Count { pending, open } => {
                    if pending.len() < n {
                        pending.push(*open);
                        *open = 0;
                    }
                    let counts: Vec<i64> = pending.drain(..n).collect();
                    Arc::new(Int64Array::from(counts)) as ArrayRef
                }
                AggState::Edge { pending, open, .. } => {
                    let mut parts = std::mem::take(pending);
                    let have: usize = parts.iter().map(|p| p.len()).sum();
                    if have < n {
                        if let Some(o) = open.take() {
                            parts.push(o);
                        }
                    }
                    let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
                    let all = concat(&refs)?;
                    if all.len() != n {
                        return Err(DataFusionError::Internal(format!(
                            "{NAME}: {} values for {n} groups",
                            all.len()
                        )));
                    }
                    all
                }
                AggState::Groups(acc) => acc.evaluate(EmitTo::First(n))?,
                AggState::PerGroup(accs) => {
                    let done: Vec<Box<dyn Accumulator>> = accs.drain(..n).collect();
                    let mut values = Vec::with_capacity(n);
                    for mut acc in done {
                        values.push(acc.evaluate()?);
                    }
                    ScalarValue::iter_to_array(values)?
                }
            };
            let array = if array.data_type() != field.data_type() {
                datafusion::arrow::compute::cast(&array, field.data_type())?
            } else {
                array
            };
            columns.push(array);
        }
        Ok(Some(RecordBatch::try_new(
            Arc::clone(&self.schema),
            columns,
        )?))
    }
}

impl Stream for GroupOrderedStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(input) = self.input.as_mut() else {
                // The end: the open group (and any held back), once.
                let open = usize::from(self.open) + std::mem::take(&mut self.held);
                self.open = false;
                return match self.emit(open) {
                    Ok(Some(out)) => Poll::Ready(Some(Ok(out))),
                    Ok(None) => Poll::Ready(None),
                    Err(e) => Poll::Ready(Some(Err(e))),
                };
            };
            match input.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(batch))) => {
                    if let Some(poll) = ready(self.push(batch)) {
                        return poll;
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => match self.read_ahead() {
                    Ok(next) => self.input = next,
                    Err(e) => return Poll::Ready(Some(Err(e))),
                },
            }
        }
    }
}

impl RecordBatchStream for GroupOrderedStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

impl GroupOrderedStream {
    /// The stream of output partition `partition` of an operator configured by `spec`, over
    /// `stream` (the partition's input; `input` is the plan, for reading ahead in parallel).
    pub(super) fn open(
        spec: &GroupOrderedExecSpec,
        compiled: Option<&CompiledSplit>,
        schema: SchemaRef,
        stream: SendableRecordBatchStream,
        input: &Arc<dyn ExecutionPlan>,
        partition: usize,
        context: &Arc<TaskContext>,
    ) -> Result<Self> {
        let parallel = spec.layout.parallel();
        let input_schema = input.schema();
        let parallel_state = parallel.then(|| Parallel {
            plan: Arc::clone(input),
            context: input_context(context),
            partition,
            next: partition + 1,
            skipping: partition > 0,
            at_start: true,
            seen_rows: false,
            ahead: false,
            stopped: false,
        });
        let mut aggs = Vec::with_capacity(spec.aggs.len());
        for call in &spec.aggs {
            let expr = build_aggregate(call, &input_schema)?;
            let function = call.function.to_ascii_lowercase();
            let state = if call.args.is_empty() && function == "count" {
                AggState::Count {
                    pending: Vec::new(),
                    open: 0,
                }
            } else if call.args.len() == 1
                && (function == "first_value" || function == "last_value")
            {
                AggState::Edge {
                    last: function == "last_value",
                    pending: Vec::new(),
                    open: None,
                }
            } else if expr.groups_accumulator_supported() {
                AggState::Groups(expr.create_groups_accumulator()?)
            } else {
                AggState::PerGroup(Vec::new())
            };
            aggs.push((expr, state));
        }
        let mut keys = Vec::new();
        for name in &spec.partition_by {
            keys.push(input_schema.index_of(name)?);
        }
        let split = match &spec.boundary {
            Boundary::Keys(k) => {
                for name in k {
                    keys.push(input_schema.index_of(name)?);
                }
                SplitSource::None
            }
            Boundary::Split(c) => SplitSource::Column(input_schema.index_of(c)?),
            Boundary::Predicate(_) => match compiled {
                Some(c) => SplitSource::Predicate(c.clone(), None),
                None => {
                    return Err(DataFusionError::Internal(format!(
                        "{NAME}: the split predicate is not compiled"
                    )))
                }
            },
        };
        Ok(GroupOrderedStream {
            input: Some(stream),
            schema,
            keys,
            split,
            partitions: spec.partition_by.len(),
            aggs,
            last_key: None,
            open: false,
            next_id: if parallel {
                ((partition as i64) << 40) + 1
            } else {
                1
            },
            held: 0,
            parallel: parallel_state,
            memory: Held::new(NAME, partition, context),
        })
    }
}

/// Appends the rows `rows` of `values` to `pending` (nothing when there are none).
fn take_rows(
    values: &ArrayRef,
    rows: impl Iterator<Item = usize>,
    pending: &mut Vec<ArrayRef>,
) -> Result<()> {
    let indices: Vec<u64> = rows.map(|r| r as u64).collect();
    if !indices.is_empty() {
        let indices = datafusion::arrow::array::UInt64Array::from(indices);
        pending.push(datafusion::arrow::compute::take(
            values.as_ref(),
            &indices,
            None,
        )?);
    }
    Ok(())
}
