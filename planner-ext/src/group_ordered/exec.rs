//! The `GroupOrdered` kernel: groups of consecutive rows of an input in sequence order,
//! aggregated in one streaming pass (the stream is in [`super::stream`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{ExecutionPlan, PlanProperties};
use serde::{Deserialize, Serialize};

use super::spec::{aggregates_summary, group_ordered_schema, ids_ordered, AggCall, Boundary, NAME};
use super::split::CompiledSplit;
use super::stream::GroupOrderedStream;
use crate::ordered::input::empty_stream;
use crate::ordered::order::{ascending, Order, Shape};
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, Layout, OrderedExec, Plan};

/// Everything that configures a physical `GroupOrdered` operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOrderedExecSpec {
    pub layout: Layout,
    pub partition_by: Vec<String>,
    pub boundary: Boundary,
    pub aggs: Vec<AggCall>,
    /// In parallel mode: each partition's group ids rise from `partition * 2^40 + 1` (so they
    /// order the groups but are not consecutive); without, `__group_id__` is NULL (type NULL),
    /// for readers of the aggregates or of the number of groups only.
    pub parallel_ids: bool,
}

crate::has_layout!(GroupOrderedExecSpec);

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
            layout: Layout::stream(concat_by, partition_by.clone()),
            partition_by,
            boundary,
            aggs,
            parallel_ids: false,
        };
        Self::new(spec, vec![input], hide_input)
    }

    /// Groups each input partition in parallel. Each partition owns the groups that start in
    /// it after its first row; at its end it reads on into the next partitions, deciding their
    /// first rows, up to the next start they decide themselves. Needs a look-behind of at most
    /// one row. `ids`: see [`GroupOrderedExecSpec::parallel_ids`].
    pub fn with_parallel_partitions(self, ids: bool) -> Result<Self> {
        let allowed = self.spec().boundary.lookbehind() <= 1;
        self.in_parallel(allowed, "a look-behind of at most one row", |s| {
            s.parallel_ids = ids
        })
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
        for name in key_columns.iter().chain(spec.layout.concat_by()) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        }
        let mut schema = group_ordered_schema(&input_schema, &spec.aggs)?;
        if spec.layout.parallel() && !spec.parallel_ids {
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
        self.spec.layout.tag()
    }

    fn properties(&self, _inputs: &[Plan]) -> Result<PlanProperties> {
        Ok(PlanProperties::new(
            ids_ordered(&self.schema),
            self.spec.layout.partitioning(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Plan]) -> Vec<InputNeeds> {
        self.spec.layout.input_needs(&inputs[0], false)
    }

    fn order(&self, _inputs: &[Plan]) -> Option<Order> {
        // One row per group in sequence order; the ids rise partition after partition.
        let id = self.schema.field(0);
        let shape = if self.spec.layout.parallel() {
            Shape::InOrder
        } else {
            Shape::InFirst
        };
        (id.data_type() == &DataType::Int64)
            .then(|| Order::new(vec![ascending(id.name())], shape))
            .flatten()
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let Some(input) = self.spec.layout.open(NAME, &inputs[0], partition, &ctx)? else {
            return Ok(empty_stream(&self.schema));
        };
        let stream = GroupOrderedStream::open(
            &self.spec,
            self.compiled.as_ref(),
            Arc::clone(&self.schema),
            input,
            &inputs[0],
            partition,
            &ctx,
        )?;
        Ok(Box::pin(stream))
    }
}
