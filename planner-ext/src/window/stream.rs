//! The Window operator's stream: evaluates every call over each completed partition of the
//! ordered input (or, for look-backs over one partition, over each batch after the rows it
//! looks back to), and emits the input batches with the results appended, in order.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{new_empty_array, Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat, partition};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::{Stream, StreamExt};

use ltseq_udf::run_id::canonical_key;
use ltseq_udf::{SegmentedEvaluator, Segments};

use super::call::PreparedCall;
use super::exec::NAME;
use crate::ordered::input::detached;
use crate::ordered::memory::{array_bytes, batch_bytes, Held};

pub(super) struct WindowStream {
    input: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    prepared: Arc<Vec<PreparedCall>>,
    partition_indices: Vec<usize>,
    /// Input batches not yet emitted, in order.
    queue: VecDeque<RecordBatch>,
    /// Per call: results of completed partitions, in row order, not yet emitted.
    done: Vec<VecDeque<ArrayRef>>,
    done_rows: usize,
    /// Per call, per argument: the argument values of the rows not evaluated yet (slices of
    /// batches): complete partitions, then the open one.
    open: Vec<Vec<Vec<ArrayRef>>>,
    open_rows: usize,
    /// Where each partition of those rows starts (the first at 0).
    open_starts: Vec<usize>,
    /// Per call: its evaluator over many partitions at once, when the function has one.
    segmented: Vec<Option<Box<dyn SegmentedEvaluator>>>,
    /// The partition key of the last row seen (one-row arrays).
    last_key: Option<Vec<ArrayRef>>,
    /// Per call, per argument: a constant argument as an array, at least as long as needed.
    literals: Vec<Vec<Option<ArrayRef>>>,
    /// Set when every call only looks a fixed number of rows back and there is one window
    /// partition: then each batch is evaluated as it comes, after the previous batches' last
    /// rows (per call: how many), instead of buffering the whole input.
    lookback: Option<Vec<usize>>,
    /// Per call, per argument: the last `lookback` rows seen (streaming mode).
    tails: Vec<Vec<Option<ArrayRef>>>,
    /// The partition keys of the last rows seen, as many as the longest look-back (streaming
    /// mode over partitions).
    key_tail: Option<Vec<ArrayRef>>,
    /// In parallel mode: output rows still to leave out at the front (the first rows of the
    /// partition, which the partition before emits), and the read-ahead past its end.
    skip: usize,
    ahead: Option<ReadAhead>,
    /// The bytes of `queue` (kept as batches come and go).
    queue_bytes: usize,
    /// What the stream holds (`queue` and `done`), in the pool.
    held: Held,
}

impl WindowStream {
    pub(super) fn new(
        input: SendableRecordBatchStream,
        schema: SchemaRef,
        prepared: Arc<Vec<PreparedCall>>,
        partition_indices: Vec<usize>,
        held: Held,
    ) -> Result<Self> {
        let per_argument = |p: &PreparedCall| vec![None; p.exprs.len()];
        let segmented = prepared
            .iter()
            .map(PreparedCall::segmented)
            .collect::<Result<Vec<_>>>()?;
        let lookback = streaming_lookback(&prepared, !partition_indices.is_empty())?;
        Ok(Self {
            input: Some(input),
            schema,
            done: prepared.iter().map(|_| VecDeque::new()).collect(),
            done_rows: 0,
            open: prepared
                .iter()
                .map(|p| vec![Vec::new(); p.exprs.len()])
                .collect(),
            open_rows: 0,
            open_starts: Vec::new(),
            segmented,
            last_key: None,
            lookback,
            key_tail: None,
            tails: prepared.iter().map(per_argument).collect(),
            literals: prepared.iter().map(per_argument).collect(),
            queue: VecDeque::new(),
            prepared,
            partition_indices,
            queue_bytes: 0,
            held,
            skip: 0,
            ahead: None,
        })
    }

    /// Runs as output partition `partition` of a parallel Window over `input`'s partitions
    /// (consecutive ranges of the sequence that can be executed again). Every call looks at
    /// most `L` rows back; this partition's first `L` rows are evaluated without the rows
    /// before them, so they are left out here and emitted by the partition before, which reads
    /// `L` rows past its own end (into as many following partitions as that takes). So
    /// partition `q` emits the rows from its `L`-th to `L` rows past its end, each evaluated
    /// after its `L` rows before, and the partitions one after another are the sequence.
    pub(super) fn in_parallel(
        mut self,
        input: Arc<dyn ExecutionPlan>,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Self {
        let longest = self
            .lookback
            .as_ref()
            .and_then(|l| l.iter().copied().max())
            .unwrap_or(0);
        self.skip = if partition == 0 { 0 } else { longest };
        self.ahead = Some(ReadAhead {
            input,
            context,
            next: partition + 1,
            remaining: longest,
            reading: false,
        });
        self
    }

    /// At the end of the current input: the next partition to read ahead into, if rows past
    /// the end are still needed.
    fn read_ahead(&mut self) -> Result<Option<SendableRecordBatchStream>> {
        let Some(ahead) = self.ahead.as_mut() else {
            return Ok(None);
        };
        if ahead.remaining == 0 || ahead.next >= ahead.input.output_partitioning().partition_count()
        {
            self.ahead = None;
            return Ok(None);
        }
        let stream = ahead
            .input
            .execute(ahead.next, Arc::clone(&ahead.context))?;
        ahead.next += 1;
        ahead.reading = true;
        Ok(Some(stream))
    }
}

/// The rows a parallel Window partition reads past its end.
struct ReadAhead {
    input: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
    /// The next input partition to read.
    next: usize,
    /// Rows still to read past the end.
    remaining: usize,
    /// Whether the current input is a partition after this one.
    reading: bool,
}

/// How many rows back each call looks when the operator can evaluate batch by batch: every
/// call a positional look-back, and over partitions each with a segmented evaluator (then a
/// batch's segments are found from its keys and the previous rows').
pub(super) fn streaming_lookback(
    prepared: &[PreparedCall],
    partitioned: bool,
) -> Result<Option<Vec<usize>>> {
    if partitioned {
        for p in prepared {
            if p.segmented()?.is_none() {
                return Ok(None);
            }
        }
    }
    Ok(fixed_lookback(prepared))
}

/// How many rows back each call looks, when all are positional look-backs (`lag` with a
/// positive offset, `diff` / `pct_change` with a positive `n`), so that evaluating a batch
/// after that many previous rows gives exactly the whole-partition result.
fn fixed_lookback(prepared: &[PreparedCall]) -> Option<Vec<usize>> {
    const MAX: i64 = 4096;
    prepared
        .iter()
        .map(|p| {
            let name = p.udwf.name();
            if !matches!(name, "lag" | "diff" | "pct_change") {
                return None;
            }
            let n = match p.literal.get(1) {
                None => 1,
                Some(Some(ScalarValue::Int64(Some(n)))) => *n,
                Some(_) => return None,
            };
            (1..=MAX).contains(&n).then_some(n as usize)
        })
        .collect()
}

impl WindowStream {
    /// Queues `batch` (its results follow in `done`) and records what the stream now holds:
    /// the rows of the open partition wait here until it completes, so a partition larger
    /// than the memory pool allows is `ResourcesExhausted`.
    fn enqueue(&mut self, batch: RecordBatch) -> Result<()> {
        self.queue_bytes += batch_bytes(&batch);
        self.queue.push_back(batch);
        self.account()
    }

    fn account(&mut self) -> Result<()> {
        let done: usize = self
            .done
            .iter()
            .flatten()
            .map(|a| array_bytes(a.as_ref()))
            .sum();
        self.held.set(self.queue_bytes + done)
    }

    /// Streaming mode: evaluates every call over the batch preceded by the rows it looks back
    /// to, and queues the batch with its results. Over partitions (runs of equal keys, in
    /// order), the segments of those rows are found from their keys: a row's result depends
    /// only on the rows of its run at most `lookback` back, so a run that started before the
    /// rows looked back to counts as starting at the first of them.
    fn push_streaming(&mut self, batch: RecordBatch, lookback: &[usize]) -> Result<()> {
        let rows = batch.num_rows();
        let keys = self.streaming_keys(&batch, lookback)?;
        for (c, p) in self.prepared.iter().enumerate() {
            let tail_rows = self.tails[c]
                .iter()
                .flatten()
                .next()
                .map(|t| t.len())
                .unwrap_or(0);
            let total = tail_rows + rows;
            let mut values = Vec::with_capacity(p.exprs.len());
            for (a, (expr, literal)) in p.exprs.iter().zip(&p.literal).enumerate() {
                let value = match literal {
                    Some(scalar) => scalar.to_array_of_size(total)?,
                    None => {
                        let current = expr.evaluate(&batch)?.into_array(rows)?;
                        let joined = match &self.tails[c][a] {
                            Some(tail) => concat(&[tail.as_ref(), current.as_ref()])?,
                            None => current,
                        };
                        let keep = lookback[c].min(joined.len());
                        self.tails[c][a] = Some(detached(joined.slice(joined.len() - keep, keep)));
                        joined
                    }
                };
                values.push(value);
            }
            let result = match (&keys, &mut self.segmented[c]) {
                (Some(keys), Some(evaluator)) => {
                    let segments = key_segments(keys, total)?;
                    evaluator.evaluate_segments(&values, &segments)?
                }
                _ => p.evaluator()?.evaluate_all(&values, total)?,
            };
            if result.len() != total {
                return Err(DataFusionError::Internal(format!(
                    "{NAME}: {} returned {} values for {total} rows",
                    p.udwf.name(),
                    result.len()
                )));
            }
            self.done[c].push_back(result.slice(tail_rows, rows));
        }
        self.done_rows += rows;
        self.enqueue(batch)
    }

    /// Streaming mode over partitions: the keys of the batch preceded by those of the last
    /// rows seen (as many as the longest look-back), kept for the next batch; `None` without
    /// partitions.
    fn streaming_keys(
        &mut self,
        batch: &RecordBatch,
        lookback: &[usize],
    ) -> Result<Option<Vec<ArrayRef>>> {
        if self.partition_indices.is_empty() {
            return Ok(None);
        }
        let longest = lookback.iter().copied().max().unwrap_or(0);
        let mut joined = Vec::with_capacity(self.partition_indices.len());
        let mut kept = Vec::with_capacity(self.partition_indices.len());
        for (k, &i) in self.partition_indices.iter().enumerate() {
            let current = canonical_key(batch.column(i));
            let all = match self.key_tail.as_ref().and_then(|t| t.get(k)) {
                Some(tail) => concat(&[tail.as_ref(), current.as_ref()])?,
                None => current,
            };
            let keep = longest.min(all.len());
            kept.push(detached(all.slice(all.len() - keep, keep)));
            joined.push(all);
        }
        self.key_tail = Some(kept);
        Ok(Some(joined))
    }

    /// Takes one input batch: completes the partitions it closes and buffers the rest.
    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        let mut batch = batch;
        if let Some(ahead) = self.ahead.as_mut().filter(|a| a.reading) {
            // past the partition's end: only the rows still needed, then stop reading
            let take = batch.num_rows().min(ahead.remaining);
            ahead.remaining -= take;
            batch = batch.slice(0, take);
            if ahead.remaining == 0 {
                self.ahead = None;
                self.input = None;
            }
        }
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        if let Some(lookback) = self.lookback.clone() {
            return self.push_streaming(batch, &lookback);
        }
        // Argument values of every call for this batch (constants are skipped).
        let mut args: Vec<Vec<Option<ArrayRef>>> = Vec::with_capacity(self.prepared.len());
        for p in self.prepared.iter() {
            let mut values = Vec::with_capacity(p.exprs.len());
            for (expr, literal) in p.exprs.iter().zip(&p.literal) {
                values.push(match literal {
                    Some(_) => None,
                    None => Some(expr.evaluate(&batch)?.into_array(rows)?),
                });
            }
            args.push(values);
        }
        // Partition boundaries inside the batch, and whether it continues the open partition
        // (float keys by SQL's equality: -0.0 = 0.0, NaN = NaN).
        let keys: Vec<ArrayRef> = self
            .partition_indices
            .iter()
            .map(|&i| canonical_key(batch.column(i)))
            .collect();
        let ranges = if keys.is_empty() {
            std::iter::once(0..rows).collect::<Vec<_>>()
        } else {
            partition(&keys)?.ranges()
        };
        let continues = match &self.last_key {
            None => true,
            Some(last) => {
                let pairs = last
                    .iter()
                    .zip(&keys)
                    .map(|(a, b)| concat(&[a.as_ref(), b.slice(0, 1).as_ref()]))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                partition(&pairs)?.len() == 1
            }
        };
        if !keys.is_empty() {
            self.last_key = Some(keys.iter().map(|k| k.slice(rows - 1, 1)).collect());
        }
        for (i, range) in ranges.iter().enumerate() {
            if i > 0 || !continues || self.open_starts.is_empty() {
                self.open_starts.push(self.open_rows + range.start);
            }
        }
        for (c, values) in args.into_iter().enumerate() {
            for (a, value) in values.into_iter().enumerate() {
                if let Some(v) = value {
                    self.open[c][a].push(v);
                }
            }
        }
        self.open_rows += rows;
        self.queue_bytes += batch_bytes(&batch);
        self.queue.push_back(batch);
        // Every partition but the last is complete.
        if let Some(&last) = self.open_starts.last() {
            if last > 0 {
                self.evaluate(last)?;
            }
        }
        self.account()
    }

    /// Evaluates every call over all rows not evaluated yet (at the end of the input).
    fn close_open(&mut self) -> Result<()> {
        self.evaluate(self.open_rows)
    }

    /// Evaluates every call over the first `rows` rows not evaluated yet (whole partitions),
    /// in one call per function where it has a segmented evaluator, else partition by
    /// partition, and moves them to the completed rows.
    fn evaluate(&mut self, rows: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let split = self.open_starts.partition_point(|&s| s < rows);
        let rest: Vec<usize> = self.open_starts[split..].iter().map(|s| s - rows).collect();
        let starts = std::mem::replace(&mut self.open_starts, rest);
        let segments = Segments::new(starts[..split].to_vec(), rows)?;
        let left = self.open_rows - rows;
        for (c, p) in self.prepared.iter().enumerate() {
            let mut values = Vec::with_capacity(p.exprs.len());
            for (a, field) in p.fields.iter().enumerate() {
                let value = match &p.literal[a] {
                    Some(scalar) => {
                        let cached = &mut self.literals[c][a];
                        let long_enough = cached.as_ref().is_some_and(|arr| arr.len() >= rows);
                        if !long_enough {
                            *cached = Some(scalar.to_array_of_size(rows.max(8192))?);
                        }
                        match cached {
                            Some(arr) => arr.slice(0, rows),
                            None => new_empty_array(field.data_type()),
                        }
                    }
                    None => {
                        let pieces = std::mem::take(&mut self.open[c][a]);
                        let all = match pieces.len() {
                            0 => new_empty_array(field.data_type()),
                            1 => Arc::clone(&pieces[0]),
                            _ => {
                                let refs: Vec<&dyn Array> =
                                    pieces.iter().map(|p| p.as_ref()).collect();
                                concat(&refs)?
                            }
                        };
                        if left > 0 {
                            self.open[c][a].push(detached(all.slice(rows, left)));
                        }
                        all.slice(0, rows)
                    }
                };
                values.push(value);
            }
            let result = match &mut self.segmented[c] {
                Some(evaluator) => evaluator.evaluate_segments(&values, &segments)?,
                None => by_partition(p, &values, &segments)?,
            };
            if result.len() != rows {
                return Err(DataFusionError::Internal(format!(
                    "{NAME}: {} returned {} values for {rows} rows",
                    p.udwf.name(),
                    result.len()
                )));
            }
            self.done[c].push_back(result);
        }
        self.done_rows += rows;
        self.open_rows = left;
        Ok(())
    }

    /// The next output batch, if the results for the oldest queued batch are complete.
    fn pop_ready(&mut self) -> Result<Option<RecordBatch>> {
        let Some(front) = self.queue.front() else {
            return Ok(None);
        };
        let rows = front.num_rows();
        if self.done_rows < rows {
            return Ok(None);
        }
        let batch = match self.queue.pop_front() {
            Some(b) => b,
            None => return Ok(None),
        };
        self.queue_bytes = self.queue_bytes.saturating_sub(batch_bytes(&batch));
        let mut columns = batch.columns().to_vec();
        for pieces in self.done.iter_mut() {
            let mut taken: Vec<ArrayRef> = Vec::new();
            let mut need = rows;
            while need > 0 {
                let Some(piece) = pieces.pop_front() else {
                    return Err(DataFusionError::Internal(format!(
                        "{NAME}: fewer results than rows"
                    )));
                };
                if piece.len() <= need {
                    need -= piece.len();
                    taken.push(piece);
                } else {
                    taken.push(piece.slice(0, need));
                    pieces.push_front(piece.slice(need, piece.len() - need));
                    need = 0;
                }
            }
            columns.push(if taken.len() == 1 {
                taken
                    .pop()
                    .unwrap_or_else(|| new_empty_array(batch.schema().field(0).data_type()))
            } else {
                let refs: Vec<&dyn Array> = taken.iter().map(|p| p.as_ref()).collect();
                concat(&refs)?
            });
        }
        self.done_rows -= rows;
        self.account()?;
        let out = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        if self.skip > 0 {
            // the partition's first rows: the partition before emits them
            let drop = self.skip.min(rows);
            self.skip -= drop;
            return Ok(Some(out.slice(drop, rows - drop)));
        }
        Ok(Some(out))
    }
}

/// The segments (runs of equal keys) of the last `total` rows of `keys`.
fn key_segments(keys: &[ArrayRef], total: usize) -> Result<Segments> {
    let len = keys.first().map_or(0, |k| k.len());
    let keys: Vec<ArrayRef> = keys.iter().map(|k| k.slice(len - total, total)).collect();
    if total == 0 {
        return Segments::new(vec![], 0);
    }
    let starts = partition(&keys)?
        .ranges()
        .into_iter()
        .map(|r| r.start)
        .collect();
    Segments::new(starts, total)
}

/// `p` evaluated partition by partition over `values` (its arguments for every row of
/// `segments`), through the function's `PartitionEvaluator`.
fn by_partition(p: &PreparedCall, values: &[ArrayRef], segments: &Segments) -> Result<ArrayRef> {
    let mut results = Vec::with_capacity(segments.count());
    for r in segments.ranges() {
        let part: Vec<ArrayRef> = values.iter().map(|v| v.slice(r.start, r.len())).collect();
        let result = p.evaluator()?.evaluate_all(&part, r.len())?;
        if result.len() != r.len() {
            return Err(DataFusionError::Internal(format!(
                "{NAME}: {} returned {} values for {} rows",
                p.udwf.name(),
                result.len(),
                r.len()
            )));
        }
        results.push(result);
    }
    let refs: Vec<&dyn Array> = results.iter().map(|r| r.as_ref()).collect();
    Ok(concat(&refs)?)
}

impl Stream for WindowStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.pop_ready() {
                // (a batch all of whose rows the partition before emits)
                Ok(Some(batch)) if batch.num_rows() == 0 => continue,
                Ok(Some(batch)) => return Poll::Ready(Some(Ok(batch))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            let Some(input) = self.input.as_mut() else {
                return Poll::Ready(None);
            };
            match input.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(batch))) => {
                    if let Err(e) = self.push(batch) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    match self.read_ahead() {
                        Ok(Some(next)) => {
                            self.input = Some(next);
                            continue;
                        }
                        Ok(None) => {}
                        Err(e) => return Poll::Ready(Some(Err(e))),
                    }
                    self.input = None;
                    if let Err(e) = self.close_open() {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
        }
    }
}

impl RecordBatchStream for WindowStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
