//! The `Sequence` operator: numbers the rows of its input in input order.
//!
//! Each output partition streams the matching input partition unchanged and appends an
//! ordinal column. The ordinal of row `i` of input partition `p` is `p * 2^40 + i`, so it
//! increases along every partition and from one partition to the next: sorting on it (or
//! merging partitions on it) gives back exactly the input's order, while the partitions are
//! still read in parallel. The ordinal is not dense; it is an order key, not a row count.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, OrderingRequirements, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt};

use crate::guard::{no_panic, GuardedStream};

/// The ordinal column's default name.
pub const DEFAULT_ORDINAL_COLUMN: &str = "__ltseq_rn";

/// Rows one input partition may hold (2^40); partition `p` starts at `p * 2^40`.
const PARTITION_STRIDE: i64 = 1 << 40;

/// The output schema: the input's fields, then the ordinal (BIGINT, never NULL).
pub fn sequence_schema(input: &Schema, ordinal: &str) -> Result<SchemaRef> {
    if input.field_with_name(ordinal).is_ok() {
        return Err(DataFusionError::Plan(format!(
            "ltseq_sequence: the input already has a column named {ordinal:?}"
        )));
    }
    let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(ordinal, DataType::Int64, false)));
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input.metadata().clone(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Logical node
// ---------------------------------------------------------------------------------------------

/// The logical `Sequence` node (`LtseqSequence` in `EXPLAIN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceNode {
    input: LogicalPlan,
    ordinal: String,
    schema: DFSchemaRef,
}

impl SequenceNode {
    pub fn try_new(input: LogicalPlan, ordinal: impl Into<String>) -> Result<Self> {
        let ordinal = ordinal.into();
        let input_schema = input.schema();
        if input_schema.field_with_unqualified_name(&ordinal).is_ok() {
            return Err(DataFusionError::Plan(format!(
                "ltseq_sequence: the input already has a column named {ordinal:?}"
            )));
        }
        let extra = DFSchema::from_unqualified_fields(
            vec![Field::new(&ordinal, DataType::Int64, false)].into(),
            Default::default(),
        )?;
        let mut schema = input_schema.as_ref().clone();
        schema.merge(&extra);
        Ok(Self {
            input,
            ordinal,
            schema: Arc::new(schema),
        })
    }

    pub fn input(&self) -> &LogicalPlan {
        &self.input
    }

    pub fn ordinal(&self) -> &str {
        &self.ordinal
    }
}

impl Hash for SequenceNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.ordinal.hash(state);
    }
}

impl PartialOrd for SequenceNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.input.partial_cmp(&other.input) {
            Some(Ordering::Equal) => self.ordinal.partial_cmp(&other.ordinal),
            other => other,
        }
    }
}

impl UserDefinedLogicalNodeCore for SequenceNode {
    fn name(&self) -> &str {
        "LtseqSequence"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "LtseqSequence: ordinal={}", self.ordinal)
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        if inputs.len() != 1 {
            return Err(DataFusionError::Internal(
                "LtseqSequence takes exactly one input".to_string(),
            ));
        }
        Self::try_new(inputs.swap_remove(0), self.ordinal.clone())
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        // The ordinal counts input rows, not columns: any subset of the input's columns will do.
        let n = self.input.schema().fields().len();
        Some(vec![output_columns
            .iter()
            .copied()
            .filter(|&i| i < n)
            .collect()])
    }

    fn supports_limit_pushdown(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// Physical operator
// ---------------------------------------------------------------------------------------------

/// The physical `Sequence` operator (`LtseqSequenceExec` in `EXPLAIN`).
#[derive(Debug)]
pub struct SequenceExec {
    input: Arc<dyn ExecutionPlan>,
    ordinal: String,
    /// When true the input is not reported as a child: the host's optimizer then cannot
    /// rewrite it (the table-provider route, where the host does not know this node's needs).
    hide_input: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    /// `LtseqSequenceExec`, or, when the input is hidden, that name with a one-line summary of
    /// the input (a host that reaches this node through the FFI shows only the name).
    name: String,
}

impl SequenceExec {
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        ordinal: impl Into<String>,
        hide_input: bool,
    ) -> Result<Self> {
        let ordinal = ordinal.into();
        let schema = sequence_schema(input.schema().as_ref(), &ordinal)?;
        let properties = Arc::new(Self::compute_properties(&input, &schema)?);
        let name = if hide_input {
            format!(
                "LtseqSequenceExec(ordinal={ordinal}; input: {} partitions={})",
                input.name(),
                input.output_partitioning().partition_count()
            )
        } else {
            "LtseqSequenceExec".to_string()
        };
        Ok(Self {
            input,
            ordinal,
            hide_input,
            schema,
            properties,
            name,
        })
    }

    fn compute_properties(
        input: &Arc<dyn ExecutionPlan>,
        schema: &SchemaRef,
    ) -> Result<PlanProperties> {
        let mut eq = EquivalenceProperties::new(Arc::clone(schema));
        // Rows pass through in order, so every ordering of the input still holds (the input's
        // columns keep their positions) ...
        let input_orderings: Vec<LexOrdering> = input
            .equivalence_properties()
            .oeq_class()
            .iter()
            .cloned()
            .collect();
        eq.add_orderings(input_orderings);
        // ... and each partition is ordered by the ordinal.
        let ordinal_index = schema.fields().len() - 1;
        let ordinal_expr: Arc<dyn PhysicalExpr> = Arc::new(Column::new(
            schema.field(ordinal_index).name(),
            ordinal_index,
        ));
        eq.add_ordering([PhysicalSortExpr::new_default(ordinal_expr)]);
        Ok(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    pub fn ordinal(&self) -> &str {
        &self.ordinal
    }

    pub fn hides_input(&self) -> bool {
        self.hide_input
    }
}

impl DisplayAs for SequenceExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => write!(f, "ordinal={}", self.ordinal),
            _ => {
                write!(f, "LtseqSequenceExec: ordinal={}", self.ordinal)?;
                if self.hide_input {
                    // The input is not a child here, so show it inline.
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

impl ExecutionPlan for SequenceExec {
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

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        if self.hide_input {
            return vec![];
        }
        // Keep whatever order the input has: that order is what this node numbers.
        let requirement = self
            .input
            .output_ordering()
            .cloned()
            .map(OrderingRequirements::from);
        vec![requirement]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.hide_input {
            return vec![];
        }
        // An ordered input is ordered as one stream: keep it one partition, so the optimizer
        // cannot replace its final merge by per-partition sorts (the ordinals number partition
        // after partition). An unordered input may stay split: its partitions, in index order,
        // are its order.
        if self.input.output_ordering().is_some() {
            vec![Distribution::SinglePartition]
        } else {
            vec![Distribution::UnspecifiedDistribution]
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
        let Some(child) = crate::guard::one_child("LtseqSequenceExec", self.hide_input, children)?
        else {
            return Ok(self);
        };
        Ok(Arc::new(SequenceExec::try_new(
            child,
            self.ordinal.clone(),
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
        no_panic("LtseqSequenceExec", || {
            let count = self.input.output_partitioning().partition_count();
            if partition >= count {
                return Err(DataFusionError::Internal(format!(
                    "LtseqSequenceExec: partition {partition} requested, input has {count}"
                )));
            }
            let input = self.input.execute(partition, input_context(&context))?;
            let stream = SequenceStream {
                input,
                schema: Arc::clone(&self.schema),
                next: partition as i64 * PARTITION_STRIDE,
                limit: (partition as i64 + 1) * PARTITION_STRIDE,
            };
            Ok(
                Box::pin(GuardedStream::new(Box::pin(stream), "LtseqSequenceExec"))
                    as SendableRecordBatchStream,
            )
        })
    }
}

/// Batches of at least this many rows are asked of the inputs of ltseq's operators: they
/// pass every batch through a few fixed-cost steps (the FFI boundary of a host's plan among
/// them), so fewer, larger batches are faster. A memory table's batches are slices, and the
/// hint only caps how large a batch may be.
pub(crate) const INPUT_BATCH_ROWS: usize = 65536;

/// The context the input runs in: as given, but without file-scan work stealing, which would
/// let one partition read byte ranges assigned to another and so break "partition p holds the
/// p-th part of the input" (the ordinals rely on it), and with batches of at least
/// `INPUT_BATCH_ROWS`.
pub(crate) fn input_context(context: &Arc<TaskContext>) -> Arc<TaskContext> {
    let execution = &context.session_config().options().execution;
    if !execution.enable_file_stream_work_stealing && execution.batch_size.get() >= INPUT_BATCH_ROWS
    {
        return Arc::clone(context);
    }
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
        context.scalar_functions().clone(),
        context.higher_order_functions().clone(),
        context.aggregate_functions().clone(),
        context.window_functions().clone(),
        context.runtime_env(),
    );
    Arc::new(ctx)
}

struct SequenceStream {
    input: SendableRecordBatchStream,
    schema: SchemaRef,
    next: i64,
    limit: i64,
}

impl SequenceStream {
    fn number(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows() as i64;
        if self.next + rows > self.limit {
            return Err(DataFusionError::Execution(
                "ltseq_sequence: an input partition holds more than 2^40 rows".to_string(),
            ));
        }
        let ordinals: ArrayRef =
            Arc::new(Int64Array::from_iter_values(self.next..self.next + rows));
        self.next += rows;
        let mut columns = batch.columns().to_vec();
        columns.push(ordinals);
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

impl Stream for SequenceStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.input.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(batch))) => Poll::Ready(Some(self.number(batch))),
            other => other,
        }
    }
}

impl RecordBatchStream for SequenceStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
