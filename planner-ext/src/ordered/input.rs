//! Reading an operator's input in sequence order.
//!
//! An ordered operator's input reaches it in one of three shapes ([`InputOrder`]): one
//! partition in order; several partitions that are in order one after another (ltseq's
//! stored-order source, whose partitions are consecutive ranges of the sequence, read one after
//! another and checked to rise in the ordinal); or those same partitions processed in parallel
//! by the operator (which then reads a little into the next partition for what starts at a
//! partition's end). [`read_ordered`] picks the shape for a named input from the plan the host
//! makes of it: orderings do not cross the FFI in a form the host can use, so the operator
//! must decide this itself.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{LexOrdering, OrderingRequirements, PhysicalSortExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{EmptyRecordBatchStream, ExecutionPlan, ExecutionPlanProperties};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::catalog::InputTable;
use super::order::{ascending, order_of, Order, Shape};
use crate::output::{OutputExec, OutputSpec, Read, SortKey};

/// How an operator reads its ordered input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputOrder {
    /// One partition, in order.
    #[default]
    Single,
    /// The partitions one after another, each ascending in this ordinal column (checked while
    /// reading: an input that is not ends in an error, never in a wrong answer).
    Concat(String),
    /// Each partition is a consecutive range of the sequence, in partition order, and can be
    /// executed again (ltseq's stored-order source): output partition `p` processes input
    /// partition `p`, reading into the following ones for what starts at its end.
    Parallel,
    /// Each partition is processed on its own: it holds whole `PARTITION BY` partitions, each
    /// contiguous and in window order (DataFusion's input to its window operators, hashed by
    /// the partition keys and sorted). Output partition `p` processes input partition `p`.
    EachPartition,
}

/// Batches of at least this many rows are asked of the inputs of ltseq's operators: they
/// pass every batch through a few fixed-cost steps (the FFI boundary of a host's plan among
/// them), so fewer, larger batches are faster. A memory table's batches are slices, and the
/// hint only caps how large a batch may be.
pub const INPUT_BATCH_ROWS: usize = 65536;

/// The context an operator's input runs in: as given, but without file-scan work stealing,
/// which would let one partition read byte ranges assigned to another and so break "partition
/// p holds the p-th part of the input" (the ordinals rely on it), with batches of at least
/// [`INPUT_BATCH_ROWS`], and without the session's function registry: a physical plan holds
/// its functions already, and a host's plan executed across the FFI converts every function
/// of the context it is given (hundreds, about a millisecond per call), so none are given.
pub fn input_context(context: &Arc<TaskContext>) -> Arc<TaskContext> {
    let mut config = context.session_config().clone();
    let options = &mut config.options_mut().execution;
    options.enable_file_stream_work_stealing = false;
    if options.batch_size.get() < INPUT_BATCH_ROWS {
        if let Ok(rows) = datafusion::common::config::ConfigNonZeroUsize::try_new(INPUT_BATCH_ROWS)
        {
            options.batch_size = rows;
        }
    }
    let ctx = TaskContext::new(
        context.task_id(),
        context.session_id(),
        config,
        Default::default(),
        Default::default(),
        Default::default(),
        Default::default(),
        context.runtime_env(),
    );
    Arc::new(ctx)
}

/// `context` with `config` and `runtime` in place of its own (functions and ids kept).
pub fn with_config_and_runtime(
    context: &TaskContext,
    config: datafusion::execution::config::SessionConfig,
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> Arc<TaskContext> {
    Arc::new(TaskContext::new(
        context.task_id(),
        context.session_id(),
        config,
        context.scalar_functions().clone(),
        context.higher_order_functions().clone(),
        context.aggregate_functions().clone(),
        context.window_functions().clone(),
        runtime,
    ))
}

/// The operators whose output partitions keep their input partitions' rows in order and in
/// place, by the names they show across the FFI (the only thing a host's plan tells of them):
/// ltseq's ordered source, and the Window operator (all its rows in partition 0, in order)
/// unless its name carries [`REORDERED`]. This list of names is all the core knows of
/// operators; each of the two checks in a test that its name is here.
pub const ORDER_KEEPING_OPERATORS: &[&str] = &["LtseqSequenceExec", "LtseqWindowExec"];

/// The tag (after the operator's name) of an operator whose input a host sorted into an order
/// other than the stored one: its rows do not keep the stored order.
pub const REORDERED: &str = "[reordered]";

/// Whether every node of `plan` keeps each partition's rows in order and in place: projections,
/// filters, batch coalescing and cooperative yielding above ltseq's ordered operators.
pub fn keeps_partition_order(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let name = plan.name();
    let keeps = |n: &&str| {
        name.strip_prefix(*n)
            .is_some_and(|rest| !rest.starts_with(REORDERED))
    };
    if ORDER_KEEPING_OPERATORS.iter().any(keeps) {
        return plan.children().iter().all(|c| keeps_partition_order(c));
    }
    let passes = matches!(
        name,
        "ProjectionExec" | "FilterExec" | "CoalesceBatchesExec" | "CooperativeExec"
    );
    passes && plan.children().len() == 1 && keeps_partition_order(plan.children()[0])
}

/// `plan` in the order of the ordinal column, in one partition (see [`sorted_by`]).
pub fn sort_by_ordinal(
    plan: Arc<dyn ExecutionPlan>,
    ordinal: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    sorted_by(plan, &[ordinal.to_string()])
}

/// `plan` in one partition, ordered by `columns` (ascending, NULLs last): `plan` itself when
/// it is one partition in that order, else read by the Output operator, which merges
/// partitions that each are in that order, sorts otherwise (spilling under a memory limit), and
/// spawns no tasks on ltseq's runtime. Without columns, the partitions one after another.
pub fn sorted_by(
    plan: Arc<dyn ExecutionPlan>,
    columns: &[String],
) -> Result<Arc<dyn ExecutionPlan>> {
    // a column repeated adds nothing to the order
    let mut unique: Vec<String> = Vec::with_capacity(columns.len());
    for column in columns {
        if !unique.contains(column) {
            unique.push(column.clone());
        }
    }
    let columns = &unique;
    let want: Vec<_> = columns.iter().map(|c| ascending(c)).collect();
    let read = if want.is_empty() {
        Read::InOrder
    } else {
        Read::for_plan(&plan, &want)
    };
    if read == Read::InOrder && plan.output_partitioning().partition_count() == 1 {
        return Ok(plan);
    }
    let spec = OutputSpec {
        keys: columns
            .iter()
            .map(|column| SortKey {
                column: column.clone(),
                descending: false,
                nulls_first: false,
            })
            .collect(),
        read,
        fetch: None,
        skip: 0,
        output_partitions: 1,
    };
    Ok(Arc::new(OutputExec::new(spec, vec![plan], true)?))
}

/// `plan`, whose rows are all in its first partition in `order`, as a plan of one partition.
fn in_one_partition(plan: Arc<dyn ExecutionPlan>, order: &Order) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = plan.schema();
    let keys = order
        .orderings
        .first()
        .map(|keys| {
            keys.iter()
                .take_while(|k| schema.index_of(&k.name).is_ok())
                .map(|k| SortKey {
                    column: k.name.clone(),
                    descending: k.options.descending,
                    nulls_first: k.options.nulls_first,
                })
                .collect()
        })
        .unwrap_or_default();
    let spec = OutputSpec {
        keys,
        read: Read::InOrder,
        fetch: None,
        skip: 0,
        output_partitions: 1,
    };
    Ok(Arc::new(OutputExec::new(spec, vec![plan], true)?))
}

/// The named input of a SQL table function's operator, all its columns, in one partition
/// ordered by `order` (ascending, NULLs last), which the operator sees to itself: a host
/// across the FFI cannot see what order an operator needs, so it would not sort for it (see
/// [`sorted_by`]: no sort when the host's plan is already in that order).
pub async fn read_sorted(
    session: &dyn Session,
    input: &InputTable,
    order: &[String],
    who: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    sorted_by(input.scan_all(session, who).await?, order)
}

/// The named input of an operator, scanned for its columns `needed` (indices into its schema),
/// in sequence order, and the shape it comes in.
///
/// With `ordinal` (the input is in stored order, ascending in that column): when the host's
/// plan only projects or filters the partitions of ltseq's ordered source, `Parallel` if
/// `parallel` allows it (read without the ordinal), else `Concat`; any other plan is sorted on
/// the ordinal here (`Single`). Without `ordinal` the input must be one ordered partition (a
/// view ending in `ORDER BY`).
pub async fn read_ordered(
    session: &dyn Session,
    input: &InputTable,
    needed: &[usize],
    ordinal: Option<&str>,
    parallel: bool,
    who: &str,
) -> Result<(Arc<dyn ExecutionPlan>, InputOrder)> {
    let mut columns = needed.to_vec();
    if columns.is_empty() {
        columns.push(0);
    }
    columns.sort_unstable();
    columns.dedup();
    let Some(ordinal) = ordinal else {
        let plan = input.scan(session, &columns, None, who).await?;
        // the Output operator's rows are all in its first partition, in order: read as one
        if plan.output_partitioning().partition_count() > 1 {
            // (with every column: a projection without the order's keys hides the order)
            let plan = input.scan_all(session, who).await?;
            if let Some(order) = order_of(&plan).filter(|o| o.shape == Shape::InFirst) {
                return Ok((in_one_partition(plan, &order)?, InputOrder::Single));
            }
            return Err(DataFusionError::Plan(format!(
                "{who}: the input '{}' has several partitions and no ordinal",
                input.name
            )));
        }
        return Ok((plan, InputOrder::Single));
    };
    if parallel {
        let plan = input.scan(session, &columns, None, who).await?;
        if keeps_partition_order(&plan) {
            return Ok((plan, InputOrder::Parallel));
        }
    }
    columns.push(input.index_of(ordinal, who)?);
    columns.sort_unstable();
    columns.dedup();
    let plan = input.scan(session, &columns, None, who).await?;
    let in_order = order_of(&plan)
        .and_then(Order::in_order)
        .is_some_and(|o| o.satisfies(&[ascending(ordinal)]));
    if in_order || keeps_partition_order(&plan) {
        Ok((plan, InputOrder::Concat(ordinal.to_string())))
    } else {
        Ok((sort_by_ordinal(plan, ordinal)?, InputOrder::Single))
    }
}

/// The stream an operator reads for its output partition `partition`: that input partition
/// (`Single`: partition 0; `Parallel`: partition `partition`), or with `Concat` all input
/// partitions one after another, checked to rise in the ordinal. The input runs in
/// [`input_context`].
pub fn ordered_stream(
    input: &Arc<dyn ExecutionPlan>,
    order: &InputOrder,
    partition: usize,
    context: &Arc<TaskContext>,
    who: &'static str,
) -> Result<SendableRecordBatchStream> {
    let context = input_context(context);
    match order {
        InputOrder::Single => input.execute(0, context),
        InputOrder::Parallel | InputOrder::EachPartition => input.execute(partition, context),
        InputOrder::Concat(name) => {
            let index = input.schema().index_of(name)?;
            Ok(concat_partitions(Arc::clone(input), index, context, who))
        }
    }
}

fn concat_partitions(
    input: Arc<dyn ExecutionPlan>,
    ordinal: usize,
    context: Arc<TaskContext>,
    who: &'static str,
) -> SendableRecordBatchStream {
    let schema = input.schema();
    let count = input.output_partitioning().partition_count();
    let streams = futures::stream::iter(0..count)
        .map(move |p| input.execute(p, Arc::clone(&context)))
        .try_flatten();
    let mut last: Option<i64> = None;
    let checked = streams.and_then(move |batch: RecordBatch| {
        let result = check_rising(&batch, ordinal, &mut last, who).map(|_| batch);
        futures::future::ready(result)
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, checked))
}

fn check_rising(
    batch: &RecordBatch,
    ordinal: usize,
    last: &mut Option<i64>,
    who: &str,
) -> Result<()> {
    let Some(values) = batch.column(ordinal).as_any().downcast_ref::<Int64Array>() else {
        return Err(DataFusionError::Internal(format!(
            "{who}: the ordinal column is not BIGINT"
        )));
    };
    if values.null_count() > 0 {
        return Err(DataFusionError::Internal(format!("{who}: NULL ordinal")));
    }
    let v = values.values();
    let rising_inside = v.windows(2).all(|w| w[0] < w[1]);
    let rising_across = match (last.as_ref(), v.first()) {
        (Some(prev), Some(first)) => prev < first,
        _ => true,
    };
    if !(rising_inside && rising_across) {
        return Err(DataFusionError::Execution(format!(
            "{who}: the input rows did not arrive in order (the plan above the ordered source \
             reordered them); please report this as an ltseq bug"
        )));
    }
    if let Some(l) = v.last() {
        *last = Some(*l);
    }
    Ok(())
}

/// An empty stream of `schema` (the output of a declared partition without work).
pub fn empty_stream(schema: &SchemaRef) -> SendableRecordBatchStream {
    Box::pin(EmptyRecordBatchStream::new(Arc::clone(schema)))
}

/// The requirement "ascending, NULLs last, by these columns" over `schema` (names missing from
/// it are skipped; `None` when none is left).
pub fn ascending_requirement<'a>(
    schema: &SchemaRef,
    names: impl IntoIterator<Item = &'a String>,
) -> Option<OrderingRequirements> {
    let sort: Vec<PhysicalSortExpr> = names
        .into_iter()
        .filter_map(|name| {
            let index = schema.index_of(name).ok()?;
            Some(PhysicalSortExpr::new(
                Arc::new(Column::new(name, index)),
                SortOptions {
                    descending: false,
                    nulls_first: false,
                },
            ))
        })
        .collect();
    LexOrdering::new(sort).map(OrderingRequirements::from)
}

/// `array` (a few rows an operator keeps from one batch to the next) without the batch's
/// string data: a view array is compacted to the bytes its rows use. A slice of a view array
/// holds every data buffer of its batch, and a `concat` of such a slice with the next batch
/// holds both batches' buffers, so rows carried from batch to batch would keep the whole
/// input alive (and make each concat slower than the last). Other arrays are returned as
/// they are (`concat` copies their values).
pub fn detached(array: ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Utf8View => Arc::new(array.as_string_view().gc()),
        DataType::BinaryView => Arc::new(array.as_binary_view().gc()),
        _ => array,
    }
}
