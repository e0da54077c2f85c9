//! The `GroupOrdered` kernel: groups of consecutive rows of an input in sequence order,
//! aggregated in one streaming pass (the stream is in [`super::stream`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
};
use serde::{Deserialize, Serialize};

use super::spec::{aggregates_summary, group_ordered_schema, ids_ordered, AggCall, Boundary, NAME};
use super::split::CompiledSplit;
use super::stream::GroupOrderedStream;
use crate::ordered::input::{ascending_requirement, declared_partition};
use crate::ordered::{Functions, InputNeeds, InputOrder, Kernel, OrderedExec};

/// Everything that configures a physical `GroupOrdered` operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOrderedExecSpec {
    /// How the input delivers its rows in sequence order.
    pub order: InputOrder,
    pub partition_by: Vec<String>,
    pub boundary: Boundary,
    pub aggs: Vec<AggCall>,
    /// With a visible input: the order it must have (these columns, ascending, NULLs last, as
    /// one partition); DataFusion's optimizer sorts it only if it is not already.
    pub required_order: Vec<String>,
    /// Declared output partitions. Run as one ordered stream, the rows all come out of
    /// partition 0 and the others are empty (a host that saw one partition would split it
    /// round-robin and scatter the order). In parallel mode, one per input partition.
    pub output_partitions: usize,
    /// In parallel mode: each partition's group ids rise from `partition * 2^40 + 1` (so they
    /// order the groups but are not consecutive); without, `__group_id__` is NULL (type NULL),
    /// for readers of the aggregates or of the number of groups only.
    pub parallel_ids: bool,
}

/// The `GroupOrdered` kernel.
#[derive(Debug)]
pub struct GroupOrdered {
    spec: GroupOrderedExecSpec,
    /// The compiled `Boundary::Predicate`.
    compiled: Option<CompiledSplit>,
    schema: SchemaRef,
}

/// The physical `GroupOrdered` operator (`LtseqGroupOrderedExec`).
pub type GroupOrderedExec = OrderedExec<GroupOrdered>;

impl OrderedExec<GroupOrdered> {
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
        let spec = GroupOrderedExecSpec {
            order: concat_by.map_or(InputOrder::Single, InputOrder::Concat),
            required_order: partition_by.clone(),
            partition_by,
            boundary,
            aggs,
            output_partitions: 1,
            parallel_ids: false,
        };
        Self::new(spec, vec![input], hide_input)
    }

    /// Requires the (visible) input to be ordered by the partition columns, then `order_by`.
    pub fn with_required_order(self, order_by: Vec<String>) -> Result<Self> {
        self.with_spec(|s| {
            s.required_order = s.partition_by.iter().cloned().chain(order_by).collect();
        })
    }

    /// Requires the (visible) input to be ordered by exactly these columns: the partitions
    /// need not come first when they are contiguous in that order (a stored order's ordinal).
    pub fn with_input_order(self, order: Vec<String>) -> Result<Self> {
        self.with_spec(|s| s.required_order = order)
    }

    /// Declares `n` output partitions, all but the first empty.
    pub fn with_output_partitions(self, n: usize) -> Result<Self> {
        self.with_spec(|s| s.output_partitions = n.max(1))
    }

    /// Groups each input partition in parallel (the input's partitions must be consecutive
    /// ranges of the sequence, in order, and re-executable: ltseq's stored-order source). Each
    /// partition owns the groups that start in it after its first row; at its end it reads on
    /// into the next partitions, deciding their first rows, up to the next start they decide
    /// themselves. Needs a hidden input and a look-behind of at most one row. `ids`: see
    /// [`GroupOrderedExecSpec::parallel_ids`].
    pub fn with_parallel_partitions(self, ids: bool) -> Result<Self> {
        if !self.hides_inputs() || self.spec().boundary.lookbehind() > 1 {
            return Err(DataFusionError::Internal(format!(
                "{NAME}: parallel partitions need a hidden input and a look-behind of at most one row"
            )));
        }
        let n = self.input().output_partitioning().partition_count().max(1);
        self.with_spec(|s| {
            s.order = InputOrder::Parallel;
            s.parallel_ids = ids;
            s.output_partitions = n;
        })
    }

    /// The ordering the (visible) input must have, as columns (ascending, NULLs last).
    pub fn input_order(&self) -> Vec<String> {
        self.spec().required_order.clone()
    }

    pub fn partition_by(&self) -> &[String] {
        &self.spec().partition_by
    }

    pub fn boundary(&self) -> &Boundary {
        &self.spec().boundary
    }

    pub fn aggregates(&self) -> &[AggCall] {
        &self.spec().aggs
    }
}

impl Kernel for GroupOrdered {
    const NAME: &'static str = NAME;
    type Spec = GroupOrderedExecSpec;

    fn build(
        spec: GroupOrderedExecSpec,
        inputs: &[Arc<dyn ExecutionPlan>],
        functions: &Functions,
    ) -> Result<Self> {
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!("{NAME} takes one input")));
        };
        let input_schema = input.schema();
        let mut key_columns = spec.partition_by.clone();
        match &spec.boundary {
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
        let compiled = match &spec.boundary {
            Boundary::Predicate(p) => Some(p.compile(&input_schema, functions)?.0),
            _ => None,
        };
        let concat = match &spec.order {
            InputOrder::Concat(name) => Some(name),
            _ => None,
        };
        for name in key_columns.iter().chain(concat) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        }
        let mut schema = group_ordered_schema(&input_schema, &spec.aggs)?;
        if spec.order == InputOrder::Parallel && !spec.parallel_ids {
            let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
            fields[0] = Arc::new(Field::new("__group_id__", DataType::Null, true));
            schema = Arc::new(Schema::new(fields));
        }
        Ok(Self {
            spec,
            compiled,
            schema,
        })
    }

    fn spec(&self) -> &GroupOrderedExecSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        format!(
            "partition_by=[{}], {}, aggregates=[{}]",
            self.spec.partition_by.join(", "),
            self.spec.boundary.summary(),
            aggregates_summary(&self.spec.aggs)
        )
    }

    fn tag(&self) -> String {
        if self.spec.order == InputOrder::Parallel {
            format!("[{} partitions in parallel]", self.spec.output_partitions)
        } else {
            String::new()
        }
    }

    fn properties(&self, _inputs: &[Arc<dyn ExecutionPlan>]) -> Result<PlanProperties> {
        Ok(PlanProperties::new(
            ids_ordered(&self.schema),
            Partitioning::UnknownPartitioning(self.spec.output_partitions.max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Arc<dyn ExecutionPlan>]) -> Vec<InputNeeds> {
        let ordering = ascending_requirement(&inputs[0].schema(), &self.spec.required_order);
        vec![InputNeeds::single(ordering, false)]
    }

    fn execute(
        &self,
        inputs: &[Arc<dyn ExecutionPlan>],
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let parallel = self.spec.order == InputOrder::Parallel;
        let declared = self.spec.output_partitions.max(1);
        if let Some(empty) = declared_partition(NAME, partition, declared, &self.schema, parallel)?
        {
            return Ok(empty);
        }
        // A visible input is made one ordered partition by the optimizer (the input needs); a
        // hidden one must be, unless read in parallel or in order.
        let partitions = inputs[0].output_partitioning().partition_count();
        if self.spec.order == InputOrder::Single && partitions != 1 {
            return Err(DataFusionError::Plan(format!(
                "{NAME} needs its ordered input as one partition, got {partitions}"
            )));
        }
        let stream = GroupOrderedStream::open(
            &self.spec,
            self.compiled.as_ref(),
            Arc::clone(&self.schema),
            &inputs[0],
            partition,
            &context,
        )?;
        Ok(Box::pin(stream))
    }
}
