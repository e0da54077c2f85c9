//! The `Pattern` operator: ordered search for consecutive steps (funnels).
//!
//! Over input in sequence order with one BOOLEAN column per step, a match starts at row `i` when
//! step 1 holds at row `i`, step 2 at row `i + 1`, ..., step `k` at row `i + k - 1`, and the
//! `partition_by` columns do not change within those rows (a pattern never crosses a
//! partition; NULL equals NULL; a NULL step is false). Matches may overlap. One streaming pass:
//! each batch is matched with vectorized boolean operations on shifted slices of the step
//! columns; only the last `k - 1` rows are carried to the next batch (matches starting there
//! are decided when the next batch arrives).
//!
//! Two outputs: the rows where matches start, in order, without the step columns (optionally
//! stopping after `fetch` of them, which is how `search_first` stops reading early), or one row
//! with the number of matches (`count`, BIGINT).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, OrderingRequirements, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt};
use ltseq_udf::run_id::key_changes;

use crate::guard::{no_panic, GuardedStream};
use crate::scan::lookup_table;
use crate::sql_args::{names, project, text_arg};
use crate::window::{ascending_requirement, declared_partition, ordered_input, ordered_stream};

const NAME: &str = "LtseqPatternExec";
pub const SEARCH_PATTERN_FUNCTION_NAME: &str = "ltseq_search_pattern";
pub const SEARCH_PATTERN_COUNT_FUNCTION_NAME: &str = "ltseq_search_pattern_count";
/// The count output's column.
pub const COUNT_COLUMN: &str = "count";

/// What the operator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOutput {
    /// The rows where matches start (at most `fetch` of them).
    Rows { fetch: Option<usize> },
    /// One row: the number of matches.
    Count,
}

/// The output schema: the input without the step columns, or the count.
pub fn pattern_schema(
    input: &Schema,
    steps: &[String],
    output: PatternOutput,
) -> Result<SchemaRef> {
    if steps.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{NAME}: give at least one step"
        )));
    }
    for s in steps {
        let field = input.field_with_name(s).map_err(|_| {
            DataFusionError::Plan(format!("{NAME}: the input has no step column {s:?}"))
        })?;
        if field.data_type() != &DataType::Boolean {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: the step column {s:?} must be BOOLEAN, got {}",
                field.data_type()
            )));
        }
    }
    Ok(match output {
        PatternOutput::Count => Arc::new(Schema::new(vec![Field::new(
            COUNT_COLUMN,
            DataType::Int64,
            false,
        )])),
        PatternOutput::Rows { .. } => Arc::new(Schema::new_with_metadata(
            input
                .fields()
                .iter()
                .filter(|f| !steps.contains(f.name()))
                .cloned()
                .collect::<Vec<_>>(),
            input.metadata().clone(),
        )),
    })
}

/// The physical `Pattern` operator.
#[derive(Debug)]
pub struct PatternExec {
    input: Arc<dyn ExecutionPlan>,
    concat_by: Option<String>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    order_by: Vec<String>,
    output: PatternOutput,
    hide_input: bool,
    output_partitions: usize,
    /// Input partitions are consecutive ranges of the sequence, matched in parallel: output
    /// partition `p` reads input partition `p` (and the first rows of the next ones, for the
    /// matches that start at its end).
    parallel: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    name: String,
}

impl PatternExec {
    /// `input` must deliver its rows in sequence order: as one partition, or, with
    /// `concat_by`, as partitions in order one after another (ascending in that ordinal).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        concat_by: Option<String>,
        steps: Vec<String>,
        partition_by: Vec<String>,
        output: PatternOutput,
        hide_input: bool,
    ) -> Result<Self> {
        let input_schema = input.schema();
        for name in partition_by.iter().chain(&concat_by) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: the input has no column {name:?}"))
            })?;
        }
        let schema = pattern_schema(&input_schema, &steps, output)?;
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let summary = format!(
            "steps=[{}], partition_by=[{}], output={}",
            steps.join(", "),
            partition_by.join(", "),
            match output {
                PatternOutput::Count => "count".to_string(),
                PatternOutput::Rows { fetch: None } => "rows".to_string(),
                PatternOutput::Rows { fetch: Some(n) } => format!("rows(fetch={n})"),
            }
        );
        let name = if hide_input {
            format!("{NAME}({summary}; input: {})", input.name())
        } else {
            format!("{NAME}({summary})")
        };
        Ok(Self {
            input,
            concat_by,
            steps,
            partition_by,
            order_by: Vec::new(),
            output,
            hide_input,
            output_partitions: 1,
            parallel: false,
            schema,
            properties,
            name,
        })
    }

    /// Matches each input partition in parallel (the input's partitions must be consecutive
    /// ranges of the sequence, in order, and re-executable: ltseq's stored-order source). Not
    /// with a `fetch` (a limit reads in order and stops).
    pub fn with_parallel_partitions(mut self) -> Result<Self> {
        if !self.hide_input || matches!(self.output, PatternOutput::Rows { fetch: Some(_) }) {
            return Err(DataFusionError::Internal(format!(
                "{NAME}: parallel partitions need a hidden input and no fetch"
            )));
        }
        let n = self.input.output_partitioning().partition_count().max(1);
        self.parallel = true;
        self.concat_by = None;
        self.name = self
            .name
            .replacen(NAME, &format!("{NAME}[{n} partitions in parallel]"), 1);
        Ok(self.with_output_partitions(n))
    }

    /// Requires the (visible) input ordered by the partition columns, then `order_by`.
    pub fn with_required_order(mut self, order_by: Vec<String>) -> Self {
        self.order_by = order_by;
        self
    }

    /// Declares `n` output partitions, all but the first empty (see `GroupOrderedExec`).
    pub fn with_output_partitions(mut self, n: usize) -> Self {
        let n = n.max(1);
        self.output_partitions = n;
        let props = self.properties.as_ref().clone();
        self.properties = Arc::new(props.with_partitioning(Partitioning::UnknownPartitioning(n)));
        self
    }
}

impl DisplayAs for PatternExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl ExecutionPlan for PatternExec {
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
        } else {
            vec![Distribution::SinglePartition]
        }
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        if self.hide_input {
            return vec![];
        }
        ascending_requirement(
            &self.input.schema(),
            self.partition_by.iter().chain(&self.order_by),
        )
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        if self.hide_input {
            vec![]
        } else {
            vec![matches!(self.output, PatternOutput::Rows { .. })]
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
        Ok(Arc::new(
            PatternExec::try_new(
                child,
                self.concat_by.clone(),
                self.steps.clone(),
                self.partition_by.clone(),
                self.output,
                false,
            )?
            .with_required_order(self.order_by.clone())
            .with_output_partitions(self.output_partitions),
        ))
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
            if let Some(empty) = declared_partition(
                NAME,
                partition,
                self.output_partitions,
                &self.schema,
                self.parallel,
            )? {
                return Ok(empty);
            }
            // A visible input is made one ordered partition by the optimizer
            // (required_input_*); a hidden one must be, unless read in parallel or in order.
            let partitions = self.input.output_partitioning().partition_count();
            if !self.parallel && self.concat_by.is_none() && partitions != 1 {
                return Err(DataFusionError::Plan(format!(
                    "{NAME} needs its ordered input as one partition, got {partitions}"
                )));
            }
            let input_schema = self.input.schema();
            let lookahead = self
                .parallel
                .then(|| (Arc::clone(&self.input), partition + 1, Arc::clone(&context)));
            let input = ordered_stream(&self.input, self.concat_by.as_ref(), partition, context)?;
            let steps = self
                .steps
                .iter()
                .map(|s| Ok(input_schema.index_of(s)?))
                .collect::<Result<Vec<_>>>()?;
            let keys = self
                .partition_by
                .iter()
                .map(|s| Ok(input_schema.index_of(s)?))
                .collect::<Result<Vec<_>>>()?;
            let keep = (0..input_schema.fields().len())
                .filter(|i| !steps.contains(i))
                .collect();
            let stream = PatternStream {
                input: Some(input),
                schema: Arc::clone(&self.schema),
                steps,
                keys,
                keep,
                output: self.output,
                pending: None,
                count: 0,
                emitted: 0,
                lookahead,
                ahead: None,
                finished: false,
            };
            Ok(Box::pin(GuardedStream::new(Box::pin(stream), NAME)) as SendableRecordBatchStream)
        })
    }
}

struct PatternStream {
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
                match self.decide_pending(&collected) {
                    Ok(Some(out)) => return Poll::Ready(Some(Ok(out))),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(e))),
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
                Poll::Ready(Some(Ok(batch))) => match self.push(batch) {
                    Ok(Some(out)) => return Poll::Ready(Some(Ok(out))),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(e))),
                },
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

/// The `Pattern` operator over a named input table, as a table (the table-provider route);
/// the input must deliver its rows in sequence order (see `WindowTableProvider`). A limit on
/// the row output stops the search after that many matches.
#[derive(Debug)]
pub struct PatternTableProvider {
    input_name: String,
    input_schema: SchemaRef,
    ordinal: Option<String>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    output: PatternOutput,
    schema: SchemaRef,
}

impl PatternTableProvider {
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        steps: Vec<String>,
        partition_by: Vec<String>,
        output: PatternOutput,
    ) -> Result<Self> {
        let schema = pattern_schema(&input_schema, &steps, output)?;
        for name in partition_by.iter().chain(&ordinal) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: the input has no column {name:?}"))
            })?;
        }
        Ok(Self {
            input_name: input_name.into(),
            input_schema,
            ordinal,
            steps,
            partition_by,
            output,
            schema,
        })
    }
}

#[async_trait]
impl TableProvider for PatternTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Rows mode reads every input column (they are the output); count mode only the steps,
        // the partition columns and the ordinal.
        let needed: Vec<usize> = match self.output {
            PatternOutput::Rows { .. } => (0..self.input_schema.fields().len()).collect(),
            PatternOutput::Count => {
                let mut v = self
                    .steps
                    .iter()
                    .chain(&self.partition_by)
                    .chain(&self.ordinal)
                    .map(|n| Ok(self.input_schema.index_of(n)?))
                    .collect::<Result<Vec<_>>>()?;
                v.sort_unstable();
                v.dedup();
                v
            }
        };
        let output = match (self.output, limit) {
            (PatternOutput::Rows { fetch }, Some(l)) => PatternOutput::Rows {
                fetch: Some(fetch.map_or(l, |f| f.min(l))),
            },
            (o, _) => o,
        };
        if self.ordinal.is_some() && !matches!(output, PatternOutput::Rows { fetch: Some(_) }) {
            // Stored order: each partition of ltseq's ordered source is a consecutive range;
            // match them in parallel (counting needs no ordinal).
            let lean: Vec<usize> = match output {
                PatternOutput::Count => {
                    let ordinal = self
                        .ordinal
                        .as_ref()
                        .and_then(|o| self.input_schema.index_of(o).ok());
                    needed
                        .iter()
                        .copied()
                        .filter(|&i| Some(i) != ordinal)
                        .collect()
                }
                PatternOutput::Rows { .. } => needed.clone(),
            };
            let stored = crate::window::stored_order_partitions(
                session,
                &self.input_name,
                &self.input_schema,
                &lean,
                NAME,
            )
            .await?;
            if let Some(plan) = stored {
                let exec = PatternExec::try_new(
                    plan,
                    None,
                    self.steps.clone(),
                    self.partition_by.clone(),
                    output,
                    true,
                )?
                .with_parallel_partitions()?;
                return project(Arc::new(exec), projection);
            }
        }
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
            PatternExec::try_new(
                plan,
                concat_by,
                self.steps.clone(),
                self.partition_by.clone(),
                output,
                true,
            )?
            .with_output_partitions(target),
        );
        project(exec, projection)
    }
}

// ---------------------------------------------------------------------------------------------
// Rust SQL: ltseq_search_pattern('table', 'order columns', 'step columns' [, 'partition columns'])
// ---------------------------------------------------------------------------------------------

/// `ltseq_search_pattern(...)` (`count == false`) or `ltseq_search_pattern_count(...)`.
#[derive(Debug, Default)]
pub struct PatternTableFunction {
    pub count: bool,
}

impl TableFunctionImpl for PatternTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let who = if self.count {
            SEARCH_PATTERN_COUNT_FUNCTION_NAME
        } else {
            SEARCH_PATTERN_FUNCTION_NAME
        };
        no_panic(who, || {
            let exprs = args.exprs();
            if !(3..=4).contains(&exprs.len()) {
                return Err(DataFusionError::Plan(format!(
                    "{who} expects 3 or 4 arguments: {who}('table', 'order columns', 'step columns' \
                     [, 'partition columns']), got {}",
                    exprs.len()
                )));
            }
            let table = text_arg(who, &exprs[0], 1)?;
            let order = names(&text_arg(who, &exprs[1], 2)?);
            let steps = names(&text_arg(who, &exprs[2], 3)?);
            let partition_by = match exprs.get(3) {
                Some(e) => names(&text_arg(who, e, 4)?),
                None => vec![],
            };
            let input_schema = lookup_table(args.session(), &table, who)?.schema();
            for name in order.iter().chain(&partition_by) {
                input_schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!("{who}: table '{table}' has no column {name:?}"))
                })?;
            }
            let output = if self.count {
                PatternOutput::Count
            } else {
                PatternOutput::Rows { fetch: None }
            };
            let schema = pattern_schema(&input_schema, &steps, output)?;
            Ok(Arc::new(PatternSqlTable {
                table,
                order,
                steps,
                partition_by,
                output,
                schema,
            }) as Arc<dyn TableProvider>)
        })
    }
}

#[derive(Debug)]
struct PatternSqlTable {
    table: String,
    order: Vec<String>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    output: PatternOutput,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for PatternSqlTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = lookup_table(session, &self.table, SEARCH_PATTERN_FUNCTION_NAME)?;
        let plan = input.scan(session, None, &[], None).await?;
        let output = match (self.output, limit) {
            (PatternOutput::Rows { .. }, Some(l)) => PatternOutput::Rows { fetch: Some(l) },
            (o, _) => o,
        };
        let exec: Arc<dyn ExecutionPlan> = Arc::new(
            PatternExec::try_new(
                plan,
                None,
                self.steps.clone(),
                self.partition_by.clone(),
                output,
                false,
            )?
            .with_required_order(self.order.clone()),
        );
        project(exec, projection)
    }
}
