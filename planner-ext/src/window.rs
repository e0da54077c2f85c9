//! The `Window` operator: evaluates window functions over an input that is already ordered,
//! one partition at a time, without sorting and without buffering more than the partition in
//! hand.
//!
//! DataFusion's `WindowAggExec` sorts its input by the partition and order keys, concatenates
//! the whole input into one batch, then evaluates each function partition by partition. When
//! the input's order is already the window order (a table declared sorted with `assume_sorted`,
//! or sorted once upstream), the rows of each window partition arrive contiguously, and this
//! operator evaluates the same functions, through the same [`PartitionEvaluator::evaluate_all`]
//! of the same `WindowUDF`s (ltseq's and DataFusion's `lag`, `lead`, `row_number`, `ntile`), as
//! soon as a partition is complete. The results are therefore identical to the SQL functions;
//! only the work around them differs. Output batches are the input batches with the window
//! columns appended, in input order.
//!
//! Memory: the rows of the open partition (a partition spanning batches is held until it
//! ends); with no `PARTITION BY` that is the whole input, as for `WindowAggExec`.
//!
//! [`PartitionEvaluator::evaluate_all`]: datafusion::logical_expr::PartitionEvaluator::evaluate_all

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{new_empty_array, Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat, partition};
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{PartitionEvaluator, WindowUDF};
use datafusion::physical_expr::expressions::{cast, Column, Literal};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt, TryStreamExt};

use crate::guard::{no_panic, GuardedStream};

const NAME: &str = "LtseqWindowExec";

/// The window functions the operator evaluates: ltseq's, and DataFusion's that need neither a
/// window frame nor peer ranks.
pub fn window_function(name: &str) -> Option<Arc<WindowUDF>> {
    let lower = name.to_ascii_lowercase();
    let builtin = [
        datafusion::functions_window::lead_lag::lag_udwf(),
        datafusion::functions_window::lead_lag::lead_udwf(),
        datafusion::functions_window::row_number::row_number_udwf(),
        datafusion::functions_window::ntile::ntile_udwf(),
    ];
    ltseq_udf::all_window_udfs()
        .into_iter()
        .chain(builtin)
        .find(|f| f.name() == lower || f.aliases().contains(&lower))
}

/// One argument of a window call: an input column or a constant.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowArg {
    Column(String),
    Literal(ScalarValue),
}

/// `function(args)` computed into the output column `output`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    pub function: String,
    pub args: Vec<WindowArg>,
    pub output: String,
}

/// A call resolved against the input schema.
#[derive(Debug)]
struct PreparedCall {
    udwf: Arc<WindowUDF>,
    /// The arguments, cast to the types the function coerces them to.
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    fields: Vec<FieldRef>,
    /// Which arguments are constants (evaluated once, not per row).
    literal: Vec<Option<ScalarValue>>,
    output: FieldRef,
    text: String,
}

impl PreparedCall {
    fn try_new(call: &WindowCall, schema: &SchemaRef) -> Result<Self> {
        let udwf = window_function(&call.function).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{NAME}: unknown or unsupported window function '{}'",
                call.function
            ))
        })?;
        let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::with_capacity(call.args.len());
        let mut literal = Vec::with_capacity(call.args.len());
        let mut parts = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            match arg {
                WindowArg::Column(name) => {
                    let index = schema.index_of(name).map_err(|_| {
                        DataFusionError::Plan(format!(
                            "{NAME}: {}: no input column named {name:?}",
                            call.function
                        ))
                    })?;
                    exprs.push(Arc::new(Column::new(name, index)));
                    literal.push(None);
                    parts.push(name.clone());
                }
                WindowArg::Literal(value) => {
                    exprs.push(Arc::new(Literal::new(value.clone())));
                    literal.push(Some(value.clone()));
                    parts.push(value.to_string());
                }
            }
        }
        let current: Vec<FieldRef> = exprs
            .iter()
            .map(|e| e.return_field(schema))
            .collect::<Result<_>>()?;
        let fields = fields_with_udf(&current, udwf.as_ref())?;
        for (i, (field, now)) in fields.iter().zip(&current).enumerate() {
            if field.data_type() != now.data_type() {
                exprs[i] = cast(Arc::clone(&exprs[i]), schema, field.data_type().clone())?;
                if let Some(value) = &literal[i] {
                    literal[i] = Some(value.cast_to(field.data_type())?);
                }
            }
        }
        let output = udwf.field(WindowUDFFieldArgs::new(&fields, &call.output))?;
        let output = Arc::new(output.as_ref().clone().with_name(&call.output));
        let prepared = Self {
            text: format!("{}({}) AS {}", udwf.name(), parts.join(", "), call.output),
            udwf,
            exprs,
            fields,
            literal,
            output,
        };
        let evaluator = prepared.evaluator()?;
        if evaluator.uses_window_frame() || evaluator.include_rank() {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: {} needs a window frame or peer ranks, which this operator does not provide",
                prepared.udwf.name()
            )));
        }
        Ok(prepared)
    }

    fn evaluator(&self) -> Result<Box<dyn PartitionEvaluator>> {
        self.udwf
            .partition_evaluator_factory(PartitionEvaluatorArgs::new(
                &self.exprs,
                &self.fields,
                false,
                false,
            ))
    }
}

/// Evaluates window calls over ordered input; partitions are runs of equal `partition_by`
/// values (NULL equal to NULL), which the input must deliver contiguously.
#[derive(Debug)]
pub struct WindowExec {
    input: Arc<dyn ExecutionPlan>,
    /// Declared output partitions: the rows all come out of partition 0, the others are empty
    /// (see `with_output_partitions`).
    output_partitions: usize,
    /// When set, the input's partitions, read one after another in index order, are the
    /// order (each ascending in this ordinal column, which is checked while reading).
    concat_by: Option<String>,
    partition_by: Vec<String>,
    calls: Vec<WindowCall>,
    prepared: Arc<Vec<PreparedCall>>,
    partition_indices: Vec<usize>,
    hide_input: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    name: String,
}

/// The operator's output schema over an input with `input_schema`: the input's fields, then
/// one field per call.
pub fn window_schema(input_schema: &SchemaRef, calls: &[WindowCall]) -> Result<SchemaRef> {
    let prepared = calls
        .iter()
        .map(|c| PreparedCall::try_new(c, input_schema))
        .collect::<Result<Vec<_>>>()?;
    output_schema(input_schema, &prepared)
}

fn output_schema(input_schema: &SchemaRef, prepared: &[PreparedCall]) -> Result<SchemaRef> {
    let mut fields: Vec<FieldRef> = input_schema.fields().iter().cloned().collect();
    for p in prepared {
        if fields.iter().any(|f| f.name() == p.output.name()) {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: output column {:?} already exists",
                p.output.name()
            )));
        }
        fields.push(Arc::clone(&p.output));
    }
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input_schema.metadata().clone(),
    )))
}

impl WindowExec {
    /// Declares `n` output partitions, all but the first empty. The operator runs as one
    /// ordered stream; a host that sees a single partition splits it round-robin for
    /// parallelism, which scatters the order that a following ltseq operator needs. With the
    /// host's partition count declared, it leaves the stream whole.
    pub fn with_output_partitions(mut self, n: usize) -> Self {
        let n = n.max(1);
        self.output_partitions = n;
        let props = self.properties.as_ref().clone();
        self.properties = Arc::new(props.with_partitioning(Partitioning::UnknownPartitioning(n)));
        self
    }

    /// `input` must deliver its rows in window order: as one partition, or, with `concat_by`,
    /// as partitions that are in order one after another (ascending in that ordinal column).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        concat_by: Option<String>,
        partition_by: Vec<String>,
        calls: Vec<WindowCall>,
        hide_input: bool,
    ) -> Result<Self> {
        let input_schema = input.schema();
        if let Some(name) = &concat_by {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        } else if input.output_partitioning().partition_count() != 1 {
            return Err(DataFusionError::Plan(format!(
                "{NAME} needs its ordered input as one partition, got {}",
                input.output_partitioning().partition_count()
            )));
        }
        let partition_indices = partition_by
            .iter()
            .map(|name| {
                input_schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!(
                        "{NAME}: no input column named {name:?} to partition by"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let prepared = calls
            .iter()
            .map(|c| PreparedCall::try_new(c, &input_schema))
            .collect::<Result<Vec<_>>>()?;
        let schema = output_schema(&input_schema, &prepared)?;
        // Rows pass through in order and keep their columns' positions: every ordering and
        // equivalence of the input still holds.
        let mut eq = EquivalenceProperties::new(Arc::clone(&schema));
        eq.add_orderings(
            input
                .equivalence_properties()
                .oeq_class()
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
        );
        let properties = Arc::new(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let summary = prepared
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let name = if hide_input {
            format!(
                "{NAME}(partition_by=[{}]; {summary}; input: {})",
                partition_by.join(", "),
                input.name()
            )
        } else {
            NAME.to_string()
        };
        Ok(Self {
            input,
            output_partitions: 1,
            concat_by,
            partition_by,
            calls,
            prepared: Arc::new(prepared),
            partition_indices,
            hide_input,
            schema,
            properties,
            name,
        })
    }

    pub fn partition_by(&self) -> &[String] {
        &self.partition_by
    }

    pub fn calls(&self) -> &[WindowCall] {
        &self.calls
    }
}

impl DisplayAs for WindowExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let calls = self
            .prepared
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        match t {
            DisplayFormatType::TreeRender => write!(f, "{calls}"),
            _ => {
                write!(
                    f,
                    "{NAME}: partition_by=[{}], calls=[{calls}]",
                    self.partition_by.join(", ")
                )?;
                if self.hide_input {
                    let input = datafusion::physical_plan::displayable(self.input.as_ref())
                        .one_line()
                        .to_string();
                    write!(f, ", input=[{}]", input.trim())?;
                }
                Ok(())
            }
        }
    }
}

impl ExecutionPlan for WindowExec {
    fn name(&self) -> &str {
        &self.name
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        if self.hide_input {
            vec![]
        } else {
            vec![&self.input]
        }
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.hide_input {
            vec![]
        } else if self.concat_by.is_some() {
            vec![Distribution::UnspecifiedDistribution]
        } else {
            vec![Distribution::SinglePartition]
        }
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        if self.hide_input {
            vec![]
        } else {
            vec![true]
        }
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        if self.hide_input {
            vec![]
        } else {
            vec![false]
        }
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(child) = crate::guard::one_child(NAME, self.hide_input, children)? else {
            return Ok(self);
        };
        Ok(Arc::new(WindowExec::try_new(
            child,
            self.concat_by.clone(),
            self.partition_by.clone(),
            self.calls.clone(),
            false,
        )?))
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        no_panic(NAME, || {
            if let Some(empty) =
                declared_partition(NAME, partition, self.output_partitions, &self.schema, false)?
            {
                return Ok(empty);
            }
            let input = ordered_stream(&self.input, self.concat_by.as_ref(), 0, context)?;
            let stream = WindowStream {
                input: Some(input),
                schema: Arc::clone(&self.schema),
                prepared: Arc::clone(&self.prepared),
                partition_indices: self.partition_indices.clone(),
                queue: VecDeque::new(),
                done: self.prepared.iter().map(|_| VecDeque::new()).collect(),
                done_rows: 0,
                open: self
                    .prepared
                    .iter()
                    .map(|p| vec![Vec::new(); p.exprs.len()])
                    .collect(),
                open_rows: 0,
                last_key: None,
                lookback: if self.partition_indices.is_empty() {
                    fixed_lookback(&self.prepared)
                } else {
                    None
                },
                tails: self
                    .prepared
                    .iter()
                    .map(|p| vec![None; p.exprs.len()])
                    .collect(),
                literals: self
                    .prepared
                    .iter()
                    .map(|p| vec![None; p.exprs.len()])
                    .collect(),
            };
            Ok(Box::pin(GuardedStream::new(Box::pin(stream), NAME)) as SendableRecordBatchStream)
        })
    }
}

/// The input's partitions one after another, checking that the ordinal column keeps rising
/// (the partitions must be in order one after another; an input that is not ends in an error
/// rather than a wrong answer).
/// The guard of an operator that declares `declared` output partitions but runs as one ordered
/// stream: an error past `declared`, an empty stream for partitions after the first (unless
/// `all_run`, when every partition does work), `None` when this partition runs.
pub(crate) fn declared_partition(
    who: &str,
    partition: usize,
    declared: usize,
    schema: &SchemaRef,
    all_run: bool,
) -> Result<Option<SendableRecordBatchStream>> {
    if partition >= declared {
        return Err(DataFusionError::Internal(format!(
            "{who}: partition {partition} requested, it has {declared}"
        )));
    }
    if partition > 0 && !all_run {
        return Ok(Some(Box::pin(
            datafusion::physical_plan::EmptyRecordBatchStream::new(Arc::clone(schema)),
        )));
    }
    Ok(None)
}

/// Partition `partition` of `input`, or, with `concat_by` (the ordinal), all of its partitions
/// one after another, checked to rise in the ordinal.
pub(crate) fn ordered_stream(
    input: &Arc<dyn ExecutionPlan>,
    concat_by: Option<&String>,
    partition: usize,
    context: Arc<TaskContext>,
) -> Result<SendableRecordBatchStream> {
    let context = crate::sequence::input_context(&context);
    match concat_by {
        None => input.execute(partition, context),
        Some(name) => {
            let index = input.schema().index_of(name)?;
            Ok(concat_partitions_stream(Arc::clone(input), index, context))
        }
    }
}

/// The requirement "ascending, NULLs last, by these columns" over `schema` (names missing from
/// it are skipped), for an operator's one visible input.
pub(crate) fn ascending_requirement<'a>(
    schema: &SchemaRef,
    names: impl IntoIterator<Item = &'a String>,
) -> Vec<Option<datafusion::physical_expr::OrderingRequirements>> {
    let sort: Vec<datafusion::physical_expr::PhysicalSortExpr> = names
        .into_iter()
        .filter_map(|name| {
            let index = schema.index_of(name).ok()?;
            Some(datafusion::physical_expr::PhysicalSortExpr::new(
                Arc::new(Column::new(name, index)),
                datafusion::arrow::compute::SortOptions {
                    descending: false,
                    nulls_first: false,
                },
            ))
        })
        .collect();
    vec![datafusion::physical_expr::LexOrdering::new(sort)
        .map(datafusion::physical_expr::OrderingRequirements::from)]
}

pub(crate) fn concat_partitions_stream(
    input: Arc<dyn ExecutionPlan>,
    ordinal: usize,
    context: Arc<TaskContext>,
) -> SendableRecordBatchStream {
    let schema = input.schema();
    let count = input.output_partitioning().partition_count();
    let streams = futures::stream::iter(0..count)
        .map(move |p| input.execute(p, Arc::clone(&context)))
        .try_flatten();
    let mut last: Option<i64> = None;
    let checked = streams.and_then(move |batch: RecordBatch| {
        let result = check_rising(&batch, ordinal, &mut last).map(|_| batch);
        futures::future::ready(result)
    });
    Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, checked))
}

fn check_rising(batch: &RecordBatch, ordinal: usize, last: &mut Option<i64>) -> Result<()> {
    use datafusion::arrow::array::Int64Array;
    let Some(values) = batch.column(ordinal).as_any().downcast_ref::<Int64Array>() else {
        return Err(DataFusionError::Internal(format!(
            "{NAME}: the ordinal column is not BIGINT"
        )));
    };
    if values.null_count() > 0 {
        return Err(DataFusionError::Internal(format!("{NAME}: NULL ordinal")));
    }
    let v = values.values();
    let rising_inside = v.windows(2).all(|w| w[0] < w[1]);
    let rising_across = match (last.as_ref(), v.first()) {
        (Some(prev), Some(first)) => prev < first,
        _ => true,
    };
    if !(rising_inside && rising_across) {
        return Err(DataFusionError::Execution(format!(
            "{NAME}: the input rows did not arrive in order (the plan above the ordered source \
             reordered them); please report this as an ltseq bug"
        )));
    }
    if let Some(l) = v.last() {
        *last = Some(*l);
    }
    Ok(())
}

struct WindowStream {
    input: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    prepared: Arc<Vec<PreparedCall>>,
    partition_indices: Vec<usize>,
    /// Input batches not yet emitted, in order.
    queue: VecDeque<RecordBatch>,
    /// Per call: results of completed partitions, in row order, not yet emitted.
    done: Vec<VecDeque<ArrayRef>>,
    done_rows: usize,
    /// Per call, per argument: the open partition's argument values (slices of batches).
    open: Vec<Vec<Vec<ArrayRef>>>,
    open_rows: usize,
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
    /// Streaming mode: evaluates every call over the batch preceded by the rows it looks back
    /// to, and queues the batch with its results.
    fn push_streaming(&mut self, batch: RecordBatch, lookback: &[usize]) -> Result<()> {
        let rows = batch.num_rows();
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
                        self.tails[c][a] = Some(joined.slice(joined.len() - keep, keep));
                        joined
                    }
                };
                values.push(value);
            }
            let mut evaluator = p.evaluator()?;
            let result = evaluator.evaluate_all(&values, total)?;
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
        self.queue.push_back(batch);
        Ok(())
    }

    /// Takes one input batch: completes the partitions it closes and buffers the rest.
    fn push(&mut self, batch: RecordBatch) -> Result<()> {
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
        // Partition boundaries inside the batch, and whether it continues the open partition.
        let keys: Vec<ArrayRef> = self
            .partition_indices
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
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
            if i > 0 || !continues {
                self.close_open()?;
            }
            for (c, values) in args.iter().enumerate() {
                for (a, value) in values.iter().enumerate() {
                    if let Some(v) = value {
                        self.open[c][a].push(v.slice(range.start, range.len()));
                    }
                }
            }
            self.open_rows += range.len();
        }
        self.queue.push_back(batch);
        Ok(())
    }

    /// Evaluates every call over the open partition and moves it to the completed rows.
    fn close_open(&mut self) -> Result<()> {
        let rows = self.open_rows;
        if rows == 0 {
            return Ok(());
        }
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
                        match pieces.len() {
                            0 => new_empty_array(field.data_type()),
                            1 => pieces
                                .into_iter()
                                .next()
                                .unwrap_or_else(|| new_empty_array(field.data_type())),
                            _ => {
                                let refs: Vec<&dyn Array> =
                                    pieces.iter().map(|p| p.as_ref()).collect();
                                concat(&refs)?
                            }
                        }
                    }
                };
                values.push(value);
            }
            let mut evaluator = p.evaluator()?;
            let result = evaluator.evaluate_all(&values, rows)?;
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
        self.open_rows = 0;
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
        Ok(Some(RecordBatch::try_new(
            Arc::clone(&self.schema),
            columns,
        )?))
    }
}

impl Stream for WindowStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.pop_ready() {
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

/// The `Window` operator over a named input table, as a table (the table-provider route): its
/// scan reads the input (which must deliver its rows in window order, e.g. a view ending in
/// `ORDER BY`) and evaluates the calls over it. Only the input columns the query and the calls
/// need are read.
#[derive(Debug)]
pub struct WindowTableProvider {
    input_name: String,
    input_schema: SchemaRef,
    ordinal: Option<String>,
    partition_by: Vec<String>,
    calls: Vec<WindowCall>,
    schema: SchemaRef,
}

impl WindowTableProvider {
    /// `ordinal`: when set, the input is in order by this column (ascending, as the
    /// `Sequence` operator numbers rows) rather than delivered as one ordered partition.
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        partition_by: Vec<String>,
        calls: Vec<WindowCall>,
    ) -> Result<Self> {
        if let Some(name) = &ordinal {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        }
        for name in &partition_by {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!(
                    "{NAME}: no input column named {name:?} to partition by"
                ))
            })?;
        }
        let schema = window_schema(&input_schema, &calls)?;
        Ok(Self {
            input_name: input_name.into(),
            input_schema,
            ordinal,
            partition_by,
            calls,
            schema,
        })
    }
}

#[async_trait::async_trait]
impl datafusion::catalog::TableProvider for WindowTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> datafusion::datasource::TableType {
        datafusion::datasource::TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&datafusion::logical_expr::Expr],
    ) -> Result<Vec<datafusion::logical_expr::TableProviderFilterPushDown>> {
        // A filter must not remove rows before the windows see them.
        Ok(vec![
            datafusion::logical_expr::TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        session: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        _filters: &[datafusion::logical_expr::Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let n_input = self.input_schema.fields().len();
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        // Only the calls whose columns the query reads are evaluated.
        let calls: Vec<WindowCall> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(c, _)| wanted.contains(&(n_input + c)))
            .map(|(_, call)| call.clone())
            .collect();
        // The input columns needed: the ones asked for, the partition keys and the arguments.
        let mut needed: Vec<usize> = wanted.iter().copied().filter(|&i| i < n_input).collect();
        for name in self.partition_by.iter().chain(&self.ordinal) {
            needed.push(self.input_schema.index_of(name)?);
        }
        for call in &calls {
            for arg in &call.args {
                if let WindowArg::Column(name) = arg {
                    needed.push(self.input_schema.index_of(name)?);
                }
            }
        }
        needed.sort_unstable();
        needed.dedup();
        let (plan, concat_by) = ordered_input(
            session,
            &self.input_name,
            &self.input_schema,
            &needed,
            self.ordinal.as_ref(),
            NAME,
        )
        .await?;
        let target = session.config_options().execution.target_partitions;
        let exec: Arc<dyn ExecutionPlan> = Arc::new(
            WindowExec::try_new(plan, concat_by, self.partition_by.clone(), calls, true)?
                .with_output_partitions(target),
        );
        let exec_schema = exec.schema();
        let exprs = wanted
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                let pos = exec_schema.index_of(&name)?;
                Ok((
                    Arc::new(Column::new(&name, pos)) as Arc<dyn PhysicalExpr>,
                    name,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let identity = exprs.len() == exec_schema.fields().len()
            && exprs
                .iter()
                .enumerate()
                .all(|(i, (_, name))| exec_schema.field(i).name() == name);
        if identity {
            return Ok(exec);
        }
        Ok(Arc::new(
            datafusion::physical_plan::projection::ProjectionExec::try_new(exprs, exec)?,
        ))
    }
}

/// Whether every node of `plan` keeps each partition's rows in order and in place: projections,
/// filters, batch coalescing and cooperative yielding above ltseq's ordered operators.
pub(crate) fn keeps_partition_order(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let name = plan.name();
    if name.starts_with("LtseqSequenceExec") || name.starts_with(NAME) {
        return plan.children().is_empty()
            || plan.children().iter().all(|c| keeps_partition_order(c));
    }
    let passes = matches!(
        name,
        "ProjectionExec" | "FilterExec" | "CoalesceBatchesExec" | "CooperativeExec"
    );
    passes && plan.children().len() == 1 && keeps_partition_order(plan.children()[0])
}

/// The named input of an ltseq operator, scanned for its columns `needed`, when its partitions
/// are consecutive ranges of the stored order (ltseq's ordered source, possibly under
/// projections and filters) and so can be read in parallel; None otherwise.
pub(crate) async fn stored_order_partitions(
    session: &dyn datafusion::catalog::Session,
    input_name: &str,
    input_schema: &SchemaRef,
    needed: &[usize],
    who: &str,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let input = crate::scan::lookup_table(session, input_name, who)?;
    if input.schema().fields() != input_schema.fields() {
        return Err(DataFusionError::Plan(format!(
            "{who}: table '{input_name}' changed its schema since the query was planned"
        )));
    }
    let plan = input
        .scan(session, Some(&needed.to_vec()), &[], None)
        .await?;
    Ok(keeps_partition_order(&plan).then_some(plan))
}

/// `plan` sorted on the ordinal column into one partition.
pub(crate) fn sort_by_ordinal(
    plan: Arc<dyn ExecutionPlan>,
    ordinal: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
    use datafusion::physical_plan::sorts::sort::SortExec;
    use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
    let index = plan.schema().index_of(ordinal)?;
    let key: Arc<dyn PhysicalExpr> = Arc::new(Column::new(ordinal, index));
    let ordering = LexOrdering::new([PhysicalSortExpr::new_default(key)])
        .ok_or_else(|| DataFusionError::Internal(format!("{NAME}: empty ordering")))?;
    let sorted = SortExec::new(ordering.clone(), plan).with_preserve_partitioning(true);
    Ok(Arc::new(SortPreservingMergeExec::new(
        ordering,
        Arc::new(sorted),
    )))
}

/// Reads the named input of an ltseq operator in sequence order: its columns `needed`, as one
/// partition, or, with `ordinal`, as partitions to read one after another (the returned
/// `concat_by`) when the host's plan keeps them in order, else sorted on the ordinal here.
pub(crate) async fn ordered_input(
    session: &dyn datafusion::catalog::Session,
    input_name: &str,
    input_schema: &SchemaRef,
    needed: &[usize],
    ordinal: Option<&String>,
    who: &str,
) -> Result<(Arc<dyn ExecutionPlan>, Option<String>)> {
    let input = crate::scan::lookup_table(session, input_name, who)?;
    if input.schema().fields() != input_schema.fields() {
        return Err(DataFusionError::Plan(format!(
            "{who}: table '{input_name}' changed its schema since the query was planned"
        )));
    }
    let plan = input
        .scan(session, Some(&needed.to_vec()), &[], None)
        .await?;
    match ordinal {
        // The host's plan only projects and filters the partitions of ltseq's ordered source:
        // read them one after another (orderings do not cross the FFI in a form the host can
        // use, so it cannot tell us this itself).
        Some(ordinal) if keeps_partition_order(&plan) => Ok((plan, Some(ordinal.clone()))),
        Some(ordinal) => Ok((sort_by_ordinal(plan, ordinal)?, None)),
        None if plan.output_partitioning().partition_count() > 1 => Err(DataFusionError::Plan(
            format!("{who}: the input '{input_name}' has several partitions and no ordinal"),
        )),
        None => Ok((plan, None)),
    }
}
