//! The Pattern stream: per batch, the match flags of all starts are one vectorized
//! expression, the AND of each step's validity-masked bits shifted by its offset, ANDed with
//! the negated key changes inside the match. The last `k - 1` rows carry over to the next
//! batch; no batch is copied. In parallel mode a partition decides the matches starting at its
//! end from the first rows of the following partitions.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::{Stream, StreamExt};

use crate::ordered::guard::ready;
use ltseq_udf::run_id::key_changes;

use super::exec::{PatternOutput, NAME};

pub(super) struct PatternStream {
    input: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    /// Step columns, in step order.
    steps: Vec<usize>,
    /// Partition columns.
    keys: Vec<usize>,
    /// The input columns of the row output.
    keep: Vec<usize>,
    output: PatternOutput,
    /// The last `k - 1` rows seen (their matches are not decided yet).
    pending: Option<RecordBatch>,
    count: i64,
    emitted: usize,
    /// In parallel mode: the input and the next partition, read at the end for the first rows
    /// after this partition.
    lookahead: Option<(Arc<dyn ExecutionPlan>, usize, Arc<TaskContext>)>,
    /// The lookahead in progress: the open stream and the rows collected so far.
    ahead: Option<(SendableRecordBatchStream, Vec<RecordBatch>, usize)>,
    finished: bool,
}

/// Boolean values with NULL as false.
fn truth(array: &ArrayRef) -> Result<BooleanBuffer> {
    let b: &BooleanArray = array.as_boolean_opt().ok_or_else(|| {
        DataFusionError::Internal(format!("{NAME}: a step column is not BOOLEAN"))
    })?;
    Ok(match b.nulls() {
        Some(n) => b.values() & n.inner(),
        None => b.values().clone(),
    })
}

impl PatternStream {
    fn k(&self) -> usize {
        self.steps.len()
    }

    /// The match flags of the starts `0..n - k + 1` of `batch` (empty when `n < k`).
    fn matches(&self, batch: &RecordBatch) -> Result<BooleanBuffer> {
        let (n, k) = (batch.num_rows(), self.k());
        if n < k {
            return Ok(BooleanBuffer::new_unset(0));
        }
        let len = n - k + 1;
        let mut mask = truth(batch.column(self.steps[0]))?.slice(0, len);
        for (j, &s) in self.steps.iter().enumerate().skip(1) {
            mask = &mask & &truth(batch.column(s))?.slice(j, len);
        }
        if !self.keys.is_empty() && k > 1 {
            let keys: Vec<ArrayRef> = self
                .keys
                .iter()
                .map(|&i| Arc::clone(batch.column(i)))
                .collect();
            // bit r - 1: row r differs from row r - 1; a match at i needs rows i+1..i+k-1 unchanged
            let changed = key_changes(&keys, n)?;
            for j in 1..k {
                mask = &mask & &!&changed.slice(j - 1, len);
            }
        }
        Ok(mask)
    }

    fn push(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        let k = self.k();
        let b = batch.num_rows();
        let mut parts: Vec<RecordBatch> = Vec::new();
        // Matches starting in the pending rows: they need at most k - 1 rows of this batch.
        let mut pending = self.pending.take();
        if let Some(p) = pending.as_ref() {
            let head = batch.slice(0, b.min(k - 1));
            let small = concat_batches(&batch.schema(), [p, &head])?;
            let flags = self.matches(&small)?;
            let decided = flags.len().min(p.num_rows());
            if decided > 0 {
                let flags = flags.slice(0, decided);
                self.take_matches(&p.slice(0, decided), flags, &mut parts)?;
            }
            pending = Some(p.slice(decided, p.num_rows() - decided));
        }
        // Matches starting in this batch and ending in it.
        let flags = self.matches(&batch)?;
        if !flags.is_empty() {
            let n = flags.len();
            self.take_matches(&batch.slice(0, n), flags, &mut parts)?;
        }
        // Carry the last k - 1 rows (the undecided starts).
        let carry = match pending {
            Some(p) if p.num_rows() > 0 && b < k - 1 => {
                let all = concat_batches(&batch.schema(), [&p, &batch])?;
                let keep = all.num_rows().min(k - 1);
                all.slice(all.num_rows() - keep, keep)
            }
            _ => {
                let keep = b.min(k - 1);
                batch.slice(b - keep, keep)
            }
        };
        self.pending = (carry.num_rows() > 0).then_some(carry);
        if parts.is_empty() {
            return Ok(None);
        }
        let out = concat_batches(&self.schema, &parts)?;
        Ok((out.num_rows() > 0).then_some(out))
    }

    /// Adds the rows of `rows` whose flag is set (or their count) to the output.
    fn take_matches(
        &mut self,
        rows: &RecordBatch,
        flags: BooleanBuffer,
        parts: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        let found = flags.count_set_bits();
        if found == 0 {
            return Ok(());
        }
        match self.output {
            PatternOutput::Count => self.count += found as i64,
            PatternOutput::Rows { fetch } => {
                let projected = rows.project(&self.keep)?;
                let mut out = filter_record_batch(&projected, &BooleanArray::new(flags, None))?;
                if let Some(limit) = fetch {
                    let room = limit.saturating_sub(self.emitted);
                    if out.num_rows() > room {
                        out = out.slice(0, room);
                    }
                }
                self.emitted += out.num_rows();
                parts.push(RecordBatch::try_new(
                    Arc::clone(&self.schema),
                    out.columns().to_vec(),
                )?);
            }
        }
        Ok(())
    }

    /// Decides the pending rows' matches with the rows that follow them (`after`, up to
    /// `k - 1` rows from the next partitions).
    fn decide_pending(&mut self, after: &[RecordBatch]) -> Result<Option<RecordBatch>> {
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        let mut all = vec![p.clone()];
        all.extend(after.iter().cloned());
        let small = concat_batches(&p.schema(), &all)?;
        let flags = self.matches(&small)?;
        let decided = flags.len().min(p.num_rows());
        let mut parts = Vec::new();
        if decided > 0 {
            self.take_matches(&p.slice(0, decided), flags.slice(0, decided), &mut parts)?;
        }
        if parts.is_empty() {
            return Ok(None);
        }
        Ok(Some(concat_batches(&self.schema, &parts)?))
    }

    /// The end of the stream: the count (once), or nothing more.
    fn finish(&mut self) -> Option<Result<RecordBatch>> {
        if self.output == PatternOutput::Count && !self.finished {
            self.finished = true;
            let count = Arc::new(Int64Array::from(vec![self.count])) as ArrayRef;
            return Some(
                RecordBatch::try_new(Arc::clone(&self.schema), vec![count]).map_err(Into::into),
            );
        }
        None
    }

    /// Continues the lookahead in the next partition (`None`), or, when there is none, hands
    /// the rows collected so far back (`Some`).
    fn open_next(
        &mut self,
        collected: Vec<RecordBatch>,
        rows: usize,
    ) -> Result<Option<Vec<RecordBatch>>> {
        let Some((plan, next, ctx)) = self.lookahead.as_mut() else {
            return Ok(Some(collected));
        };
        if *next >= plan.output_partitioning().partition_count() {
            return Ok(Some(collected));
        }
        let stream = plan.execute(*next, Arc::clone(ctx))?;
        *next += 1;
        self.ahead = Some((stream, collected, rows));
        Ok(None)
    }

    fn done(&self) -> bool {
        matches!(self.output, PatternOutput::Rows { fetch: Some(n) } if self.emitted >= n)
    }
}

impl Stream for PatternStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            // The lookahead after this partition (parallel mode): collect k - 1 rows.
            if let Some((mut stream, mut collected, mut rows)) = self.ahead.take() {
                let need = self.steps.len() - 1;
                if rows < need {
                    match stream.poll_next_unpin(cx) {
                        Poll::Pending => {
                            self.ahead = Some((stream, collected, rows));
                            return Poll::Pending;
                        }
                        Poll::Ready(Some(Ok(batch))) => {
                            let take = batch.num_rows().min(need - rows);
                            collected.push(batch.slice(0, take));
                            rows += take;
                            self.ahead = Some((stream, collected, rows));
                            continue;
                        }
                        Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                        Poll::Ready(None) => match self.open_next(collected, rows) {
                            Ok(None) => continue,
                            Ok(Some(back)) => collected = back,
                            Err(e) => return Poll::Ready(Some(Err(e))),
                        },
                    }
                }
                self.lookahead = None;
                if let Some(poll) = ready(self.decide_pending(&collected)) {
                    return poll;
                }
                return Poll::Ready(self.finish());
            }
            if self.done() {
                // Enough rows: stop reading (the input is dropped).
                self.input = None;
                self.lookahead = None;
            }
            let Some(input) = self.input.as_mut() else {
                return Poll::Ready(self.finish());
            };
            match input.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(batch))) => {
                    if let Some(poll) = ready(self.push(batch)) {
                        return poll;
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    self.input = None;
                    if self.pending.is_some() && self.lookahead.is_some() {
                        match self.open_next(Vec::new(), 0) {
                            Ok(None) => continue,
                            Ok(Some(_)) => {}
                            Err(e) => return Poll::Ready(Some(Err(e))),
                        }
                    }
                    return Poll::Ready(self.finish());
                }
            }
        }
    }
}

impl RecordBatchStream for PatternStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

impl PatternStream {
    /// The stream over `input` (one ordered stream, or one partition with `lookahead`: the
    /// input plan, the next partition and the context, for the rows after this partition).
    pub(super) fn new(
        input: SendableRecordBatchStream,
        schema: SchemaRef,
        steps: Vec<usize>,
        keys: Vec<usize>,
        keep: Vec<usize>,
        output: PatternOutput,
        lookahead: Option<(Arc<dyn ExecutionPlan>, usize, Arc<TaskContext>)>,
    ) -> Self {
        Self {
            input: Some(input),
            schema,
            steps,
            keys,
            keep,
            output,
            pending: None,
            count: 0,
            emitted: 0,
            lookahead,
            ahead: None,
            finished: false,
        }
    }
}
