//! The `GroupOrdered` operator: groups of consecutive rows, aggregated in one streaming pass.
//!
//! Over input in sequence order, a group is a run of rows with equal keys (NULL equal to NULL),
//! or, in split mode, the rows from one row whose boolean split column is true to the next;
//! groups also end where the `partition_by` columns change. Each batch is cut into groups with
//! arrow's `partition` kernel (the last row of the previous batch decides whether the first
//! group continues); the aggregates are DataFusion's own `GroupsAccumulator`s (or per-group
//! `Accumulator`s for functions without one), fed in row order, so `first_value` and
//! `last_value` see each group's rows in sequence order. Completed groups are emitted after
//! every batch (`EmitTo::First`); only the open group is kept.
//!
//! Output: one row per group, in sequence order: the group id (BIGINT, 1-based), then one
//! column per aggregate.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBufferBuilder, Int64Array, RecordBatch,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Accumulator, AggregateUDF, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::aggregate::{AggregateExprBuilder, AggregateFunctionExpr};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{Stream, StreamExt};
use ltseq_udf::run_id::key_changes;
use serde::{Deserialize, Serialize};

use crate::guard::{no_panic, GuardedStream};
use crate::split::{CompiledSplit, SplitPredicate};
use crate::window::{ascending_requirement, declared_partition, ordered_input, ordered_stream};

const NAME: &str = "LtseqGroupOrderedExec";

/// Where a new group starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub enum Boundary {
    /// Where any of these columns changes (NULL equal to NULL).
    Keys(Vec<String>),
    /// Where this boolean column is true (NULL and false continue the group).
    Split(String),
    /// Where this condition over the input columns and their lags is true (NULL and false
    /// continue the group); evaluated inside the operator.
    Predicate(SplitPredicate),
}

/// `function(args)` over each group, into the output column `output`; no arguments means
/// `count(*)`-style counting of rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct AggCall {
    pub function: String,
    pub args: Vec<String>,
    pub output: String,
}

/// An aggregate function by name (DataFusion's built-in aggregates).
pub fn aggregate_function(name: &str) -> Option<Arc<AggregateUDF>> {
    let lower = name.to_ascii_lowercase();
    datafusion::functions_aggregate::all_default_aggregate_functions()
        .into_iter()
        .find(|f| f.name() == lower || f.aliases().contains(&lower))
}

fn build_aggregate(call: &AggCall, schema: &SchemaRef) -> Result<AggregateFunctionExpr> {
    let udaf = aggregate_function(&call.function).ok_or_else(|| {
        DataFusionError::Plan(format!(
            "{NAME}: unknown aggregate function '{}'",
            call.function
        ))
    })?;
    let args: Vec<Arc<dyn PhysicalExpr>> = if call.args.is_empty() {
        vec![Arc::new(Literal::new(ScalarValue::Int64(Some(1))))]
    } else {
        call.args
            .iter()
            .map(|name| {
                let index = schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!(
                        "{NAME}: {}: no input column named {name:?}",
                        call.function
                    ))
                })?;
                Ok(Arc::new(Column::new(name, index)) as Arc<dyn PhysicalExpr>)
            })
            .collect::<Result<_>>()?
    };
    // Coerce the arguments as the SQL planner would (e.g. median of integers is a float).
    let current: Vec<FieldRef> = args
        .iter()
        .map(|e| e.return_field(schema))
        .collect::<Result<_>>()?;
    let coerced = datafusion::logical_expr::type_coercion::functions::fields_with_udf(
        &current,
        udaf.as_ref(),
    )?;
    let args = args
        .into_iter()
        .zip(current.iter().zip(&coerced))
        .map(|(e, (now, want))| {
            if now.data_type() == want.data_type() {
                Ok(e)
            } else {
                datafusion::physical_expr::expressions::cast(e, schema, want.data_type().clone())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    AggregateExprBuilder::new(udaf, args)
        .schema(Arc::clone(schema))
        .alias(call.output.clone())
        .build()
}

/// The output's properties: each partition's rows rise in the group id (unless it is NULL).
fn ids_ordered(schema: &SchemaRef) -> EquivalenceProperties {
    let mut eq = EquivalenceProperties::new(Arc::clone(schema));
    if schema.field(0).data_type() == &DataType::Int64 {
        let id: Arc<dyn PhysicalExpr> = Arc::new(Column::new(schema.field(0).name(), 0));
        // ascending, NULLs last (as ltseq's queries order; the ids are never NULL)
        let ordering = datafusion::physical_expr::LexOrdering::new([
            datafusion::physical_expr::PhysicalSortExpr::new(
                id,
                datafusion::arrow::compute::SortOptions {
                    descending: false,
                    nulls_first: false,
                },
            ),
        ]);
        if let Some(ordering) = ordering {
            eq.add_orderings([ordering]);
        }
    }
    eq
}

/// The output schema: the group id, then one field per aggregate.
pub fn group_ordered_schema(input: &SchemaRef, aggs: &[AggCall]) -> Result<SchemaRef> {
    let mut fields: Vec<FieldRef> =
        vec![Arc::new(Field::new("__group_id__", DataType::Int64, false))];
    for call in aggs {
        let expr = build_aggregate(call, input)?;
        let field = expr.field();
        if fields.iter().any(|f| f.name() == field.name()) {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: duplicate output column {:?}",
                field.name()
            )));
        }
        fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
    }
    Ok(Arc::new(Schema::new(fields)))
}

#[derive(Debug)]
pub struct GroupOrderedExec {
    input: Arc<dyn ExecutionPlan>,
    /// Declared output partitions: the rows all come out of partition 0, the others are empty
    /// (see `with_output_partitions`).
    output_partitions: usize,
    /// With a visible input: the sequence order the input must have (ascending columns); the
    /// partition columns come first. The optimizer sorts the input only if it must.
    order_by: Vec<String>,
    /// Whether the required order starts with the partition columns.
    partitions_first: bool,
    concat_by: Option<String>,
    partition_by: Vec<String>,
    boundary: Boundary,
    /// The compiled `Boundary::Predicate`.
    compiled: Option<CompiledSplit>,
    aggs: Vec<AggCall>,
    hide_input: bool,
    /// See `with_parallel_partitions`.
    parallel: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    name: String,
}

impl GroupOrderedExec {
    /// Requires the (visible) input to be ordered by the partition columns, then `order_by`
    /// (ascending, NULLs last), as one partition.
    pub fn with_required_order(mut self, order_by: Vec<String>) -> Self {
        self.order_by = order_by;
        self.partitions_first = true;
        self
    }

    /// Requires the (visible) input to be ordered by exactly these columns (ascending, NULLs
    /// last), as one partition: the partitions need not come first when they are contiguous
    /// in that order (for example, a stored order's ordinal).
    pub fn with_input_order(mut self, order: Vec<String>) -> Self {
        self.order_by = order;
        self.partitions_first = false;
        self
    }

    /// The ordering the (visible) input must have, as columns (ascending, NULLs last).
    pub fn input_order(&self) -> Vec<String> {
        let mut order = if self.partitions_first {
            self.partition_by.clone()
        } else {
            Vec::new()
        };
        order.extend(self.order_by.iter().cloned());
        order
    }

    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    pub fn hides_input(&self) -> bool {
        self.hide_input
    }

    pub fn partition_by(&self) -> &[String] {
        &self.partition_by
    }

    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    pub fn aggregates(&self) -> &[AggCall] {
        &self.aggs
    }

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

    /// `input` must deliver its rows in sequence order: as one partition, or, with
    /// `concat_by`, as partitions in order one after another (ascending in that ordinal).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        concat_by: Option<String>,
        partition_by: Vec<String>,
        boundary: Boundary,
        aggs: Vec<AggCall>,
        hide_input: bool,
    ) -> Result<Self> {
        let input_schema = input.schema();
        let mut key_columns = partition_by.clone();
        match &boundary {
            Boundary::Keys(keys) => key_columns.extend(keys.iter().cloned()),
            Boundary::Split(column) => {
                let field = input_schema.field_with_name(column).map_err(|_| {
                    DataFusionError::Plan(format!("{NAME}: no input column named {column:?}"))
                })?;
                if field.data_type() != &DataType::Boolean {
                    return Err(DataFusionError::Plan(format!(
                        "{NAME}: the split column {column:?} must be BOOLEAN, got {}",
                        field.data_type()
                    )));
                }
            }
            Boundary::Predicate(_) => {}
        }
        let compiled = match &boundary {
            Boundary::Predicate(p) => Some(p.compile(&input_schema)?.0),
            _ => None,
        };
        for name in key_columns.iter().chain(&concat_by) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        }
        let schema = group_ordered_schema(&input_schema, &aggs)?;
        let properties = Arc::new(PlanProperties::new(
            ids_ordered(&schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let summary = format!(
            "partition_by=[{}], {}, aggregates=[{}]",
            partition_by.join(", "),
            match &boundary {
                Boundary::Keys(k) => format!("keys=[{}]", k.join(", ")),
                Boundary::Split(c) => format!("split={c}"),
                Boundary::Predicate(p) => format!("split=[{}]", p.sql),
            },
            aggs.iter()
                .map(|a| format!("{}({}) AS {}", a.function, a.args.join(", "), a.output))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let name = if hide_input {
            format!("{NAME}({summary}; input: {})", input.name())
        } else {
            NAME.to_string()
        };
        Ok(Self {
            input,
            output_partitions: 1,
            order_by: Vec::new(),
            partitions_first: true,
            concat_by,
            partition_by,
            boundary,
            compiled,
            aggs,
            hide_input,
            parallel: false,
            schema,
            properties,
            name,
        })
    }

    /// Groups each input partition in parallel (the input's partitions must be consecutive
    /// ranges of the sequence, in order, and re-executable: ltseq's stored-order source). Each
    /// partition owns the groups that start in it after its first row; at its end it reads on
    /// into the next partitions, deciding their first rows, up to the next start they decide
    /// themselves. The group ids are then only increasing (not 1-based), so this is for
    /// readers that do not project `__group_id__`. Needs a look-behind of at most one row.
    ///
    /// Without `ids`, `__group_id__` is left NULL (type NULL): for readers of the aggregates or
    /// the number of groups only. With `ids`, each partition's ids rise from
    /// `partition * 2^40 + 1`, so they order the groups but are not consecutive.
    pub fn with_parallel_partitions(mut self, ids: bool) -> Result<Self> {
        let lookbehind = self.compiled.as_ref().map_or(0, |c| c.lookbehind());
        if !self.hide_input || lookbehind > 1 {
            return Err(DataFusionError::Internal(format!(
                "{NAME}: parallel partitions need a hidden input and a look-behind of at most one row"
            )));
        }
        let n = self.input.output_partitioning().partition_count().max(1);
        if !ids {
            let mut fields: Vec<FieldRef> = self.schema.fields().iter().cloned().collect();
            fields[0] = Arc::new(Field::new("__group_id__", DataType::Null, true));
            self.schema = Arc::new(Schema::new(fields));
            let props = self.properties.as_ref().clone();
            self.properties = Arc::new(props.with_eq_properties(ids_ordered(&self.schema)));
        }
        self.parallel = true;
        self.concat_by = None;
        self.name = self
            .name
            .replacen(NAME, &format!("{NAME}[{n} partitions in parallel]"), 1);
        Ok(self.with_output_partitions(n))
    }
}

impl DisplayAs for GroupOrderedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl ExecutionPlan for GroupOrderedExec {
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

    fn required_input_distribution(&self) -> Vec<datafusion::physical_plan::Distribution> {
        if self.hide_input {
            vec![]
        } else {
            vec![datafusion::physical_plan::Distribution::SinglePartition]
        }
    }

    fn required_input_ordering(
        &self,
    ) -> Vec<Option<datafusion::physical_expr::OrderingRequirements>> {
        if self.hide_input {
            return vec![];
        }
        ascending_requirement(&self.input.schema(), self.input_order().iter())
    }

    fn maintains_input_order(&self) -> Vec<bool> {
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
        Ok(Arc::new(
            GroupOrderedExec::try_new(
                child,
                self.concat_by.clone(),
                self.partition_by.clone(),
                self.boundary.clone(),
                self.aggs.clone(),
                false,
            )?
            .with_input_order(self.input_order()),
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
            let context = crate::sequence::input_context(&context);
            let parallel = self.parallel.then(|| Parallel {
                plan: Arc::clone(&self.input),
                context: Arc::clone(&context),
                partition,
                next: partition + 1,
                skipping: partition > 0,
                at_start: true,
                seen_rows: false,
                ahead: false,
                stopped: false,
            });
            let input = ordered_stream(
                &self.input,
                self.concat_by.as_ref(),
                if self.parallel { partition } else { 0 },
                context,
            )?;
            let mut aggs = Vec::with_capacity(self.aggs.len());
            for call in &self.aggs {
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
            for name in &self.partition_by {
                keys.push(input_schema.index_of(name)?);
            }
            let split = match &self.boundary {
                Boundary::Keys(k) => {
                    for name in k {
                        keys.push(input_schema.index_of(name)?);
                    }
                    SplitSource::None
                }
                Boundary::Split(c) => SplitSource::Column(input_schema.index_of(c)?),
                Boundary::Predicate(_) => match &self.compiled {
                    Some(c) => SplitSource::Predicate(c.clone(), None),
                    None => {
                        return Err(DataFusionError::Internal(format!(
                            "{NAME}: the split predicate is not compiled"
                        )))
                    }
                },
            };
            let stream = GroupOrderedStream {
                input: Some(input),
                schema: Arc::clone(&self.schema),
                keys,
                split,
                partitions: self.partition_by.len(),
                aggs,
                last_key: None,
                open: false,
                next_id: if self.parallel {
                    ((partition as i64) << 40) + 1
                } else {
                    1
                },
                held: 0,
                parallel,
            };
            Ok(Box::pin(GuardedStream::new(Box::pin(stream), NAME)) as SendableRecordBatchStream)
        })
    }
}

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

struct GroupOrderedStream {
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
                            let ends: Vec<u64> = begins
                                .iter()
                                .filter(|&&b| b > 0)
                                .map(|&b| (b - 1) as u64)
                                .collect();
                            if !ends.is_empty() {
                                let ends = datafusion::arrow::array::UInt64Array::from(ends);
                                pending.push(datafusion::arrow::compute::take(
                                    v.as_ref(),
                                    &ends,
                                    None,
                                )?);
                            }
                        } else {
                            if had_open {
                                if let Some(o) = open.take() {
                                    pending.push(o);
                                }
                            }
                            let firsts: Vec<u64> = begins[..begins.len() - 1]
                                .iter()
                                .map(|&b| b as u64)
                                .collect();
                            if !firsts.is_empty() {
                                let firsts = datafusion::arrow::array::UInt64Array::from(firsts);
                                pending.push(datafusion::arrow::compute::take(
                                    v.as_ref(),
                                    &firsts,
                                    None,
                                )?);
                            }
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
        self.emit(total - 1)
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
                Poll::Ready(Some(Ok(batch))) => match self.push(batch) {
                    Ok(Some(out)) => return Poll::Ready(Some(Ok(out))),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(e))),
                },
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

/// The `GroupOrdered` operator over a named input table, as a table (the table-provider
/// route); the input must deliver its rows in sequence order (see `WindowTableProvider`).
#[derive(Debug)]
pub struct GroupOrderedTableProvider {
    input_name: String,
    input_schema: SchemaRef,
    ordinal: Option<String>,
    partition_by: Vec<String>,
    boundary: Boundary,
    aggs: Vec<AggCall>,
    /// The group ids must be 1-based and consecutive (else, for stored-order input, they
    /// may only rise, and the partitions are grouped in parallel).
    dense_ids: bool,
    schema: SchemaRef,
}

impl GroupOrderedTableProvider {
    /// As a logical node's spec, when the input is in stored order (the ordinal is the
    /// required order); None for an input ordered by its view's `ORDER BY`.
    pub fn node_spec(&self) -> Option<crate::group_node::GroupOrderedSpec> {
        let ordinal = self.ordinal.clone()?;
        Some(crate::group_node::GroupOrderedSpec {
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            input_order: vec![ordinal],
        })
    }

    pub fn input_name(&self) -> &str {
        &self.input_name
    }

    pub fn input_schema(&self) -> &SchemaRef {
        &self.input_schema
    }

    /// Lets the group ids only rise, not count from 1 (see `dense_ids`).
    pub fn with_rising_ids(mut self) -> Self {
        self.dense_ids = false;
        self
    }

    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        partition_by: Vec<String>,
        boundary: Boundary,
        aggs: Vec<AggCall>,
    ) -> Result<Self> {
        let schema = group_ordered_schema(&input_schema, &aggs)?;
        Ok(Self {
            input_name: input_name.into(),
            input_schema,
            ordinal,
            partition_by,
            boundary,
            aggs,
            dense_ids: true,
            schema,
        })
    }
}

#[async_trait::async_trait]
impl datafusion::catalog::TableProvider for GroupOrderedTableProvider {
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
        let mut needed: Vec<String> = self.partition_by.clone();
        match &self.boundary {
            Boundary::Keys(k) => needed.extend(k.iter().cloned()),
            Boundary::Split(c) => needed.push(c.clone()),
            Boundary::Predicate(p) => needed.extend(p.compile(&self.input_schema)?.1),
        }
        for a in &self.aggs {
            needed.extend(a.args.iter().cloned());
        }
        let index_of = |names: &[String]| -> Result<Vec<usize>> {
            let mut indices = names
                .iter()
                .map(|n| self.input_schema.index_of(n).map_err(DataFusionError::from))
                .collect::<Result<Vec<_>>>()?;
            if indices.is_empty() {
                indices.push(0);
            }
            indices.sort_unstable();
            indices.dedup();
            Ok(indices)
        };
        let lookbehind = match &self.boundary {
            Boundary::Predicate(p) => p.max_offset(),
            _ => 1,
        };
        // Stored order, and a reader that does not need the 1-based group ids: each
        // partition of ltseq's ordered source is a consecutive range; group them in parallel.
        let wants_ids = projection.is_none_or(|p| p.contains(&0));
        let build = |plan, concat_by| {
            GroupOrderedExec::try_new(
                plan,
                concat_by,
                self.partition_by.clone(),
                self.boundary.clone(),
                self.aggs.clone(),
                true,
            )
        };
        if self.ordinal.is_some() && (!wants_ids || !self.dense_ids) && lookbehind <= 1 {
            let stored = crate::window::stored_order_partitions(
                session,
                &self.input_name,
                &self.input_schema,
                &index_of(&needed)?,
                NAME,
            )
            .await?;
            if let Some(plan) = stored {
                let exec = build(plan, None)?.with_parallel_partitions(wants_ids)?;
                return crate::sql_args::project(Arc::new(exec), projection);
            }
        }
        needed.extend(self.ordinal.iter().cloned());
        let indices = index_of(&needed)?;
        let (plan, concat_by) = ordered_input(
            session,
            &self.input_name,
            &self.input_schema,
            &indices,
            self.ordinal.as_ref(),
            NAME,
        )
        .await?;
        let target = session.config_options().execution.target_partitions;
        let exec: Arc<dyn ExecutionPlan> =
            Arc::new(build(plan, concat_by)?.with_output_partitions(target));
        crate::sql_args::project(exec, projection)
    }
}
