//! The Output kernel: reads its input in the order its spec says, as one stream (all rows in
//! the first of its declared partitions, so that a host does not split it again).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{concat_batches, SortOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, LexOrdering};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet};
use datafusion::physical_plan::sorts::sort::sort_batch;
use datafusion::physical_plan::sorts::streaming_merge::StreamingMergeBuilder;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlanProperties, Partitioning, PlanProperties};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::ordered::input::{empty_stream, input_context, with_config_and_runtime};
use crate::ordered::memory::{
    batch_bytes, in_io_runtime, is_limited, polled_in_io_runtime, spilling_sort, Held,
};
use crate::ordered::order::{order_of, ordering, Order, OrderKey, Shape};
use crate::ordered::{
    incremental, one_input, Batches, Functions, InputNeeds, Kernel, OrderedExec, Plan,
};

pub(super) const NAME: &str = "LtseqOutputExec";

/// How the operator gets its input's rows in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Read {
    /// The partitions one after another: they are in order already.
    InOrder,
    /// Each partition is in order: merge them.
    Merge,
    /// Sort the rows.
    Sort,
}

impl Read {
    /// How rows of `plan` are read in the order `want`: as they are when they are in that
    /// order, merged when each partition is, else sorted.
    pub fn for_plan(plan: &Plan, want: &[OrderKey]) -> Self {
        match order_of(plan) {
            Some(order) if order.satisfies(want) => match order.shape {
                Shape::InFirst | Shape::InOrder => Read::InOrder,
                Shape::EachSorted => Read::Merge,
            },
            _ => Read::Sort,
        }
    }
}

/// One key of the order, as the codec writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
    pub nulls_first: bool,
}

impl SortKey {
    pub fn key(&self) -> OrderKey {
        OrderKey {
            name: self.column.clone(),
            options: SortOptions {
                descending: self.descending,
                nulls_first: self.nulls_first,
            },
        }
    }
}

/// What an Output operator does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    pub keys: Vec<SortKey>,
    pub read: Read,
    /// At most this many rows (after `skip`).
    pub fetch: Option<usize>,
    /// The first rows in the order that are left out (a slice's offset: applied here, after
    /// the order, because a SQL `OFFSET` without `ORDER BY` lets DataFusion skip any rows, and
    /// it does when it pushes a sort of another order below it).
    #[serde(default)]
    pub skip: usize,
    /// Declared output partitions (the rows all in the first).
    pub output_partitions: usize,
}

/// The Output kernel.
#[derive(Debug)]
pub struct Output {
    spec: OutputSpec,
    ordering: Option<LexOrdering>,
}

/// The physical Output operator (`LtseqOutputExec`).
pub type OutputExec = OrderedExec<Output>;

impl Kernel for Output {
    const NAME: &'static str = NAME;
    type Spec = OutputSpec;

    fn build(spec: OutputSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let input = one_input(inputs, NAME)?;
        let keys: Vec<OrderKey> = spec.keys.iter().map(SortKey::key).collect();
        let ordering = ordering(&keys, &input.schema());
        if ordering.as_ref().map_or(0, |o| o.len()) != keys.len() {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: the input has no column for every key of the order {:?}",
                spec.keys.iter().map(|k| &k.column).collect::<Vec<_>>()
            )));
        }
        Ok(Self { spec, ordering })
    }

    fn spec(&self) -> &OutputSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        let keys: Vec<String> = self
            .spec
            .keys
            .iter()
            .map(|k| format!("{}{}", k.column, if k.descending { " DESC" } else { "" }))
            .collect();
        let mut fetch = self
            .spec
            .fetch
            .map(|n| format!(", fetch={n}"))
            .unwrap_or_default();
        if self.spec.skip > 0 {
            fetch = format!(", skip={}{fetch}", self.spec.skip);
        }
        format!(
            "order=[{}], read={:?}{fetch}",
            keys.join(", "),
            self.spec.read
        )
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        let mut eq = EquivalenceProperties::new(inputs[0].schema());
        if let Some(ordering) = &self.ordering {
            eq.add_ordering(ordering.clone());
        }
        let partitions = Partitioning::UnknownPartitioning(self.spec.output_partitions.max(1));
        Ok(incremental(eq, partitions))
    }

    fn input_needs(&self, _inputs: &[Plan]) -> Vec<InputNeeds> {
        vec![InputNeeds::any(None, true)]
    }

    fn order(&self, _inputs: &[Plan]) -> Option<Order> {
        // All rows in the first partition, in the order of the keys.
        Order::new(
            self.spec.keys.iter().map(SortKey::key).collect(),
            Shape::InFirst,
        )
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let input = &inputs[0];
        let schema = input.schema();
        if partition > 0 {
            return Ok(empty_stream(&schema));
        }
        let ctx = input_context(&ctx);
        let ordering = self
            .ordering
            .clone()
            .ok_or_else(|| DataFusionError::Internal(format!("{NAME}: no order")))?;
        let skip = self.spec.skip;
        // rows read: the skipped ones and then the fetched ones
        let fetch = self.spec.fetch.map(|n| n.saturating_add(skip));
        let count = input.output_partitioning().partition_count();
        let streams: Vec<Batches> = match self.spec.read {
            Read::InOrder => {
                let input = Arc::clone(input);
                let task = Arc::clone(&ctx);
                let batches = futures::stream::iter(0..count)
                    .map(move |p| input.execute(p, Arc::clone(&task)))
                    .try_flatten();
                let stream: Batches =
                    Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&schema), batches));
                let stream = match fetch {
                    Some(n) => limited(stream, n),
                    None => stream,
                };
                return Ok(skipped(stream, skip));
            }
            Read::Merge => (0..count)
                .map(|p| input.execute(p, Arc::clone(&ctx)))
                .collect::<Result<_>>()?,
            Read::Sort if is_limited(&ctx) => {
                // a sort that spills to disk within the pool (see `memory::spilling_sort`), in
                // the session's batch size (a merge holds a batch per sorted run)
                let sorted = spilling_sort(Arc::clone(input), ordering, fetch);
                let stream = in_io_runtime(|| sorted.execute(0, sort_context(&ctx)))?;
                return Ok(skipped(polled_in_io_runtime(stream), skip));
            }
            Read::Sort => {
                let streams: Vec<Batches> = (0..count)
                    .map(|p| input.execute(p, Arc::clone(&ctx)))
                    .collect::<Result<_>>()?;
                let out = Arc::clone(&schema);
                let held: Vec<Held> = (0..streams.len())
                    .map(|p| Held::new(NAME, p, &ctx))
                    .collect();
                let sorted = async move {
                    let (parts, held) = sorted_partitions(streams, held, &ordering, fetch).await?;
                    let batch_size = ctx.session_config().batch_size();
                    let streams = parts
                        .into_iter()
                        .map(|part| memory_stream(part, batch_size))
                        .collect();
                    let rows = merged(streams, &ordering, Arc::clone(&out), fetch, &ctx)?;
                    // the sorted rows stay accounted for until the stream is dropped
                    let rows = rows.map(move |batch| {
                        let _ = &held;
                        batch
                    });
                    Ok::<Batches, DataFusionError>(Box::pin(RecordBatchStreamAdapter::new(
                        out, rows,
                    )))
                };
                let batches = futures::stream::once(sorted).try_flatten();
                let stream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
                return Ok(skipped(stream, skip));
            }
        };
        Ok(skipped(
            merged(streams, &ordering, schema, fetch, &ctx)?,
            skip,
        ))
    }
}

/// `ctx` with batches of at most DataFusion's default size, for a sort that spills: its merge
/// holds a batch of each sorted run.
fn sort_context(ctx: &Arc<TaskContext>) -> Arc<TaskContext> {
    const ROWS: usize = 8192;
    if ctx.session_config().batch_size() <= ROWS {
        return Arc::clone(ctx);
    }
    let config = ctx.session_config().clone().with_batch_size(ROWS);
    with_config_and_runtime(ctx, config, ctx.runtime_env())
}

/// The batches of `stream`, each accounted in `held` as it comes.
async fn collect_held(mut stream: Batches, mut held: Held) -> Result<(Vec<RecordBatch>, Held)> {
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        held.grow(batch_bytes(&batch))?;
        batches.push(batch);
    }
    Ok((batches, held))
}

/// Each of `streams` read (all polled by the caller, none spawned) and sorted on its own
/// thread: the sorted rows of each non-empty stream (at most `fetch` of them). The rows are in
/// memory, accounted in `held` (one per stream): twice while they are copied and sorted, then
/// once; a pool too small for them is `ResourcesExhausted`.
async fn sorted_partitions(
    streams: Vec<Batches>,
    held: Vec<Held>,
    ordering: &LexOrdering,
    fetch: Option<usize>,
) -> Result<(Vec<RecordBatch>, Vec<Held>)> {
    let schema = match streams.first() {
        Some(s) => s.schema(),
        None => return Ok((vec![], held)),
    };
    let collected: Vec<(Vec<RecordBatch>, Held)> = futures::future::try_join_all(
        streams
            .into_iter()
            .zip(held)
            .map(|(s, h)| collect_held(s, h)),
    )
    .await?;
    let mut parts = Vec::new();
    let mut held = Vec::new();
    for (batches, mut h) in collected {
        if batches.iter().any(|b| b.num_rows() > 0) {
            let bytes = h.size();
            h.set(bytes.saturating_mul(2))?;
            parts.push(concat_batches(&schema, &batches)?);
            held.push((h, bytes));
        }
    }
    // Sorting is the work; the rows are in memory, so threads of our own do it in parallel.
    let sorted: Vec<RecordBatch> = std::thread::scope(|scope| {
        let sorts: Vec<_> = parts
            .iter()
            .map(|part| scope.spawn(move || sort_batch(part, ordering, fetch)))
            .collect();
        sorts
            .into_iter()
            .map(|sort| {
                sort.join().map_err(|_| {
                    DataFusionError::Execution(format!("{NAME}: a sort thread panicked"))
                })?
            })
            .collect::<Result<_>>()
    })?;
    drop(parts);
    let held = held
        .into_iter()
        .map(|(mut h, bytes)| {
            h.shrink(bytes);
            h
        })
        .collect();
    Ok((sorted, held))
}

/// `batch` as a stream of slices of at most `rows` rows.
fn memory_stream(batch: RecordBatch, rows: usize) -> Batches {
    let schema = batch.schema();
    let rows = rows.max(1);
    let slices: Vec<Result<RecordBatch>> = (0..batch.num_rows())
        .step_by(rows)
        .map(|start| Ok(batch.slice(start, rows.min(batch.num_rows() - start))))
        .collect();
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(slices),
    ))
}

/// The rows of `streams` (each in the order `ordering`) merged into that order, ties in stream
/// order. The streams are polled by whoever polls the result: no task is spawned, because the
/// streams may be a host's plans, which need the host's runtime (see `docs/architecture.md`).
fn merged(
    mut streams: Vec<Batches>,
    ordering: &LexOrdering,
    schema: SchemaRef,
    fetch: Option<usize>,
    ctx: &Arc<TaskContext>,
) -> Result<Batches> {
    if streams.is_empty() {
        return Ok(empty_stream(&schema));
    }
    if streams.len() == 1 {
        let stream = streams.remove(0);
        return Ok(match fetch {
            Some(n) => limited(stream, n),
            None => stream,
        });
    }
    let reservation = MemoryConsumer::new(NAME).register(ctx.memory_pool());
    let metrics = ExecutionPlanMetricsSet::new();
    StreamingMergeBuilder::new()
        .with_streams(streams)
        .with_schema(schema)
        .with_expressions(ordering)
        .with_metrics(BaselineMetrics::new(&metrics, 0))
        .with_batch_size(ctx.session_config().batch_size())
        .with_fetch(fetch)
        .with_reservation(reservation)
        .with_round_robin_tie_breaker(false)
        .build()
}

/// `stream` without its first `n` rows.
fn skipped(stream: Batches, n: usize) -> Batches {
    if n == 0 {
        return stream;
    }
    let schema = stream.schema();
    let rows = stream.scan(n, |left, item| {
        let item = item.map(|batch| {
            let drop = batch.num_rows().min(*left);
            *left -= drop;
            batch.slice(drop, batch.num_rows() - drop)
        });
        futures::future::ready(Some(item))
    });
    let rows = rows.try_filter(|batch| futures::future::ready(batch.num_rows() > 0));
    Box::pin(RecordBatchStreamAdapter::new(schema, rows))
}

/// The first `n` rows of `stream` (it stops reading once they are read).
fn limited(stream: Batches, n: usize) -> Batches {
    let schema = stream.schema();
    let rows = stream.scan(n, |left, item| {
        if *left == 0 {
            return futures::future::ready(None);
        }
        let item = item.map(|batch| {
            let take = batch.num_rows().min(*left);
            *left -= take;
            batch.slice(0, take)
        });
        futures::future::ready(Some(item))
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, rows))
}
